"""The layers import downwards only: vocabulary <- models <- domain <- api/app, schemas beside
the domain; no import cycle; migrations run code of their own time, not today's domain."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB_AND_TASKS = ("flask", "flask_smorest", "werkzeug", "webargs", "celery", "kombu")


def _loaded_after_importing(package: str) -> set[str]:
    """The modules a fresh interpreter holds after importing every module of `package`."""
    script = (
        "import importlib, pkgutil, sys\n"
        f"import {package} as package\n"
        "for found in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "    importlib.import_module(found.name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_domain_imports_no_web_framework_and_no_task_queue():
    loaded = _loaded_after_importing("service.domain")
    assert not _top(loaded) & set(WEB_AND_TASKS)
    assert not {"service.api", "service.app", "service.auth", "service.errors"} & loaded


def test_schemas_import_no_orm_and_of_the_service_only_its_vocabulary():
    loaded = _loaded_after_importing("schemas")
    assert "sqlalchemy" not in _top(loaded)
    assert {name for name in loaded if name.startswith("service.")} == {"service.vocabulary"}
    assert not {name for name in loaded if name.startswith("workers")}


def _imports(path: Path) -> list[str]:
    """Every module `path` imports, at the top or inside a function (not for type checkers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_vocabulary_imports_nothing():
    assert _imports(REPO / "service" / "vocabulary.py") == ["__future__", "__future__.annotations"]


def test_no_module_of_the_service_or_its_schemas_imports_itself_back():
    paths = [*(REPO / "service").rglob("*.py"), *(REPO / "schemas").rglob("*.py")]
    modules = {_module_name(path): path for path in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {found for found in _imports(path) if found in modules and found != name}
        # Importing a module runs its packages' __init__ first.
        for target in list(targets):
            parts = target.split(".")
            targets |= {
                ".".join(parts[:i])
                for i in range(1, len(parts))
                if not name.startswith(".".join(parts[:i]))
            }
        graph[name] = targets & set(modules)
    cycles: list[list[str]] = []
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        stack.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert cycles == []


@pytest.mark.parametrize(
    "path",
    sorted((REPO / "service" / "migrations" / "versions").glob("*.py")),
    ids=lambda path: path.stem,
)
def test_migrations_run_no_domain_code(path):
    live = [
        found
        for found in _imports(path)
        if found.startswith(("service.domain", "service.api", "service.models"))
    ]
    assert live == []
