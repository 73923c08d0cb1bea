"""Every import checked against the layers of DESIGN.md."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "mistral"

#: package -> imports it must not make (prefix match), with the reason from DESIGN.md
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
