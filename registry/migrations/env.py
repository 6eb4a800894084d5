"""Alembic environment: runs migrations on the engine the registry passes in (``migrate.upgrade``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from registry.schema import metadata
from registry.schema_console import console_users  # noqa: F401 (its tables join the MetaData)
from registry.schema_supervision import complaints  # noqa: F401 (its tables join the MetaData)


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if engine is None:
        url = context.config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("set sqlalchemy.url or pass an engine")
        engine = create_engine(url)
    return engine


def _run() -> None:
    with _engine().begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()


_run()
