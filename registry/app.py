"""The registry's HTTP application (FastAPI); ``create_app(settings)`` is what ``serve``, the demo
and the tests run."""

from __future__ import annotations

from common.http import FastJSONResponse, FrontedFastAPI
from registry import (
    boundary,
    console,
    holder_pages,
    hot_paths,
    http_errors,
    pages,
    pages_complaints,
    routes_batches,
    routes_directory,
    routes_employers,
    routes_public,
    routes_statistics,
    routes_supervision,
)
from registry.service import Registry
from registry.settings import Settings


def create_app(settings: Settings) -> FrontedFastAPI:
    """An app serving the registry described by ``settings`` (the schema must already exist);
    record look-ups and holder confirmations, on every online verification's path, and the public
    query are answered in front of FastAPI (``registry.hot_paths``)."""
    app = FrontedFastAPI(
        title="skillpass registry 全国联网查询系统",
        version="1",
        description="Directory, review, publication, status lists, public query and audit log. See docs/api.md.",
        default_response_class=FastJSONResponse,
    )
    app.state.registry = registry = Registry(settings)
    http_errors.install(app)
    app.include_router(routes_public.router)
    app.include_router(routes_directory.router)
    app.include_router(routes_batches.router)
    app.include_router(routes_employers.router)
    app.include_router(pages.router)
    app.include_router(routes_statistics.router)
    app.include_router(routes_supervision.router)
    app.include_router(pages_complaints.router)
    app.include_router(holder_pages.router)
    console.install(app)
    app.add_middleware(http_errors.BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(boundary.RefuseUnstorable)
    app.front = hot_paths.HotPaths(app.layers, registry)
    return app
