"""The brief's layout: the system's parts are top-level packages, and imports only go down the floors.

Floors, bottom up: ``common`` (root error type, calendar, QR images, CLI helpers); ``schemas`` and
``keys``; ``credential``; ``issuer``, ``registry`` and ``verifier``, which never import one another;
``skillpass`` (the one command and the demo) on top. Every import is counted, including those inside
functions, so a lazy import cannot hide a step up a floor.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What each package may import from the project (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "common": frozenset(),
    "schemas": frozenset({"common"}),
    "keys": frozenset({"common"}),
    "credential": frozenset({"common", "schemas", "keys"}),
    "issuer": frozenset({"common", "schemas", "keys", "credential"}),
    "registry": frozenset({"common", "schemas", "keys", "credential"}),
    "verifier": frozenset({"common", "schemas", "keys", "credential"}),
    "skillpass": frozenset({"common", "schemas", "keys", "credential", "issuer", "registry", "verifier"}),
}


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


MODULES = {module for package in ALLOWED for module, _ in _modules(package)}


def _imports(module: str, path: Path, *, top_level_only: bool) -> set[str]:
    """Project modules that ``module`` imports. ``from pkg import sub`` counts as importing ``pkg.sub``
    (a package's own ``__init__`` is loaded first either way; import-linter counts it the same)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & MODULES
            found.update(submodules or {base})
    return {name for name in found if name.split(".")[0] in ALLOWED}


def test_the_root_shows_the_briefs_folders() -> None:
    for name in ("issuer", "verifier", "schemas", "keys", "credential", "registry", "tests"):
        assert (ROOT / name).is_dir(), name
    for name in ALLOWED:
        assert (ROOT / name / "__init__.py").is_file(), f"{name} is not an importable package"
    assert not (ROOT / "skillpass" / "issuer").exists()
    for name in ("pyproject.toml", "README.md"):
        assert (ROOT / name).is_file()


def test_the_package_list_in_pyproject_names_every_part() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = config["tool"]["setuptools"]["packages"]["find"]["include"]
    checked = config["tool"]["mypy"]["files"]
    for name in ALLOWED:
        assert f"{name}*" in found, f"{name} missing from [tool.setuptools.packages.find]"
        assert name in checked, f"{name} missing from the files mypy checks"
    assert "tests" in checked, "the tests are missing from the files mypy checks"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_only_go_down_the_floors(package: str) -> None:
    wrong = sorted(
        f"{module} imports {name}"
        for module, path in _modules(package)
        for name in _imports(module, path, top_level_only=False)
        if name.split(".")[0] not in ALLOWED[package] | {package}
    )
    assert wrong == []


def test_no_module_imports_in_a_circle() -> None:
    """Module-level imports form no cycle (imports inside functions run later and are exempt)."""
    edges = {
        module: _imports(module, path, top_level_only=True) & MODULES - {module}
        for package in ALLOWED
        for module, path in _modules(package)
    }
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


# The ways a test could reach the folder beside the repository, spelled so this file does not match itself.
_OUTSIDE = ("../" + "shared", "parent / " + '"shared"', "parents[2]" + " / ")


def test_no_test_reads_outside_the_repository() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if any(marker in path.read_text(encoding="utf-8") for marker in _OUTSIDE)
    ]
    assert offenders == []
