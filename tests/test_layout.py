"""The tests mirror the source tree (docs/architecture.md, "Tests"): the tests of
``app/…/name.py`` and ``solvers/…/name.py`` live in ``tests/app/…/test_name.py`` and
``tests/solvers/…/test_name.py`` (continued, for a module with many, in
``test_name_<aspect>.py`` beside it); a package's ``__init__.py`` that defines something has
``test_init.py``. Whole-app tests live in tests/e2e/, tests/browser/ and tests/fourth_task/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app", "solvers")
EXEMPT = ("app/classroom/migrations/",)
"""Alembic's migrations (env.py and versions/) are run by tests of app/classroom/db.py."""


def _defines_something(path: Path) -> bool:
    """Whether a module defines a function or a class (an ``__init__.py`` that only
    re-exports defines neither)."""
    tree = ast.parse(path.read_text())
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return any(isinstance(node, kinds) for node in tree.body)


def _modules() -> list[Path]:
    """Every source module that must have a test module, relative to the root."""
    found = []
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative.as_posix().startswith(EXEMPT):
                continue
            if path.name == "__init__.py" and not _defines_something(path):
                continue
            found.append(relative)
    return found


def mirrored(module: Path) -> Path:
    """The test module of a source module: ``app/x/y.py`` → ``tests/app/x/test_y.py``."""
    name = "init" if module.name == "__init__.py" else module.stem
    return Path("tests") / module.parent / f"test_{name}.py"


def test_every_module_has_its_test_module() -> None:
    missing = [
        f"{module} → {mirrored(module)}"
        for module in _modules()
        if not (ROOT / mirrored(module)).exists()
    ]
    assert not missing, "modules without their test module:\n" + "\n".join(missing)


def test_every_test_module_names_its_source_module() -> None:
    strays = []
    for source in SOURCES:
        for path in sorted((ROOT / "tests" / source).rglob("test_*.py")):
            folder = ROOT / path.parent.relative_to(ROOT / "tests")
            names = {p.stem for p in folder.glob("*.py") if p.name != "__init__.py"} | {"init"}
            stem = path.stem.removeprefix("test_")
            if not any(stem == name or stem.startswith(name + "_") for name in names):
                strays.append(str(path.relative_to(ROOT)))
    assert not strays, "test modules named after no module beside their source:\n" + "\n".join(
        strays
    )
