"""Every import checked against the layers of doc/architecture.rst, and no circle inside a package."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "mistral"

#: package -> imports it must not make (prefix match), as the table of layers in doc/architecture.rst says
FORBIDDEN = {
    "lang": ("mistral.db", "mistral.rpc", "mistral.engine", "mistral.api", "oslo_config", "pecan"),
    "expressions": ("mistral.engine", "mistral.db", "mistral.rpc", "mistral.api"),
    "workflow": ("mistral.db", "mistral.rpc", "mistral.engine", "mistral.api", "oslo_config", "pecan"),
    "executor": ("mistral.db", "mistral.engine", "mistral.api"),
    "actions": ("mistral.db", "mistral.engine", "mistral.api", "mistral.workflow"),
    "rpc": ("mistral.engine", "mistral.api", "mistral.db", "mistral.services"),
    "db": ("mistral.engine", "mistral.api", "mistral.rpc", "mistral.executor", "mistral.services"),
    "services": ("mistral.api", "mistral.engine", "pecan"),
    "api": ("mistral.engine", "mistral.executor"),
    "scheduler": ("mistral.api", "mistral.engine"),
    # the notifier reads the events the engine wrote; it never drives executions
    "notifier": ("mistral.engine", "mistral.api", "mistral.executor", "mistral.rpc"),
    # a client of the REST API, run beside the service (or on another host)
    "worker": (
        "mistral.engine",
        "mistral.api",
        "mistral.executor",
        "mistral.rpc",
        "mistral.db",
        "mistral.services",
    ),
    # every layer records its series here, so it records nothing of theirs
    "metrics": (
        "mistral.engine",
        "mistral.api",
        "mistral.executor",
        "mistral.rpc",
        "mistral.db",
        "mistral.scheduler",
        "mistral.services",
        "oslo_config",
    ),
}


def _imports(path: pathlib.Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layers(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package]):
                bad.append(f"{path.relative_to(ROOT.parent)} imports {name}")
    assert bad == []


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sibling_imports(path: pathlib.Path, package: str) -> tuple[set[str], list[str]]:
    """The modules of ``package`` that ``path`` imports (typing-only imports aside), and where it does
    so inside a function."""
    module = _module_name(path)
    here = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    inside: list[str] = []

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        base = node.module or ""
        if node.level:
            up = here.split(".")[: len(here.split(".")) - node.level + 1]
            base = ".".join([*up, base] if base else up)
        return [f"{base}.{alias.name}" for alias in node.names] + [base]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import | ast.ImportFrom):
                names = {n for n in targets(child) if n.startswith(package + ".") and _is_module(n)}
                found.update(names)
                if in_function and names:
                    inside.append(f"{path.relative_to(ROOT.parent)}:{child.lineno} imports {sorted(names)}")
            visit(child, nested)

    visit(ast.parse(path.read_text()), False)
    return found, inside


def _is_module(name: str) -> bool:
    relative = pathlib.Path(*name.split(".")[1:])
    return (ROOT / relative).with_suffix(".py").exists() or (ROOT / relative / "__init__.py").exists()


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` (module -> modules it imports), or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[module] = 2
        return []

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return []


PACKAGES = [p.name for p in sorted(ROOT.iterdir()) if (p / "__init__.py").exists()]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_a_package(package: str) -> None:
    # NOTE: imports made inside functions count: they hide a cycle from Python, not from the reader.
    name = f"mistral.{package}"
    graph = {
        _module_name(path): _sibling_imports(path, name)[0] - {name}
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert _cycle(graph) == []


def test_the_engine_imports_its_own_modules_at_the_top() -> None:
    inside = [
        line
        for path in sorted((ROOT / "engine").rglob("*.py"))
        for line in _sibling_imports(path, "mistral.engine")[1]
    ]
    assert inside == []


def test_a_cycle_is_found() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
