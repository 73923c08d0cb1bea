"""Public entry points: DSL v2 text in, validated immutable specs out.

Every function raises ``InvalidSpecError`` listing every problem found, each
with its path and YAML line. With ``validate=False`` only what parsing needs
is checked (well-formed YAML, a mapping, the version, the names).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from mistral.lang import definitions, schema
from mistral.lang.problems import Problems
from mistral.lang.specs import ActionSpec, WorkbookSpec, WorkflowListSpec
from mistral.lang.workflows import build_action, build_workflow
from mistral.lang.yaml_loader import Document, Path, load

SUPPORTED_VERSION = "2.0"


def _load(text: str, validate: bool) -> Problems:
    problems = Problems(load(text), validate=validate)
    if not isinstance(problems.doc.data, dict):
        problems.add_fatal((), "the document must be a YAML mapping")
        problems.raise_if_fatal()
    return problems


def _check_version(data: dict[str, Any], path: Path, problems: Problems, *, required: bool = False) -> None:
    """A document must say ``version: '2.0'`` (Mistral 23 refuses it missing, even unvalidated);
    a workflow or action inside one may repeat it."""
    if required and "version" not in data:
        problems.add_fatal(path, "'version' is a required property (add version: '2.0')")
        return
    version = data.get("version", SUPPORTED_VERSION)
    if str(version) != SUPPORTED_VERSION:
        problems.add_fatal(path + ("version",), f"Unsupported DSL version: {version!r} (expected '2.0')")


def _node(doc: Document, key: str) -> yaml.Node | None:
    root = doc.node
    if isinstance(root, yaml.MappingNode):
        pairs: list[tuple[yaml.Node, yaml.Node]] = root.value
        for key_node, value_node in pairs:
            if key_node.value == key:
                return value_node
    return None


def _named_mappings(section: Any, path: Path, problems: Problems, kind: str) -> dict[str, dict[str, Any]]:
    """The ``name: {...}`` entries of ``section`` (``version`` left out), bad ones reported as fatal."""
    result = {}
    for name, body in section.items():
        if name == "version":
            continue
        if not isinstance(body, dict):
            problems.add_fatal(path + (name,), f"a {kind} must be a mapping, got {type(body).__name__}")
            continue
        _check_version(body, path + (name,), problems)
        result[str(name)] = body
    return result


def _build_all(
    text: str,
    node: yaml.Node | None,
    items: dict[str, dict[str, Any]],
    path: Path,
    problems: Problems,
    **kw: Any,
) -> list[Any]:
    """Workflows or actions (``kw['builder']``) with their standalone definitions."""
    builder, whole = kw.pop("builder"), kw.pop("whole_text", False)
    texts = {} if whole else definitions.extract(text, node, items)
    specs = []
    for name, body in items.items():
        spec = builder(name, body, path + (name,), problems, **kw)
        definition = text if whole else texts.get(name) or definitions.HEADER
        specs.append(dataclasses.replace(spec, definition=definition))
    return specs


def parse_workflows(text: str, *, validate: bool = True) -> WorkflowListSpec:
    """A workflow list document (``POST /v2/workflows``)."""
    problems = _load(text, validate)
    data = problems.doc.data
    _check_version(data, (), problems, required=True)
    items = _named_mappings(data, (), problems, "workflow")
    if not items and not problems.fatal:
        problems.add_fatal((), "the document defines no workflow")
    problems.raise_if_fatal()
    workflows = _build_all(
        text, problems.doc.node, items, (), problems, builder=build_workflow, whole_text=len(items) == 1
    )
    problems.raise_if_any()
    return WorkflowListSpec(version=SUPPORTED_VERSION, workflows=workflows)


def parse_actions(text: str, *, validate: bool = True) -> list[ActionSpec]:
    """An ad-hoc action list document (``POST /v2/actions``)."""
    problems = _load(text, validate)
    data = problems.doc.data
    _check_version(data, (), problems, required=True)
    items = _named_mappings(data, (), problems, "action")
    if not items and not problems.fatal:
        problems.add_fatal((), "the document defines no action")
    problems.raise_if_fatal()
    actions = _build_all(
        text, problems.doc.node, items, (), problems, builder=build_action, whole_text=len(items) == 1
    )
    problems.raise_if_any()
    return actions


def _section(data: dict[str, Any], key: str, problems: Problems) -> dict[str, Any]:
    section = data.get(key) or {}
    if not isinstance(section, dict):
        problems.add_fatal((key,), f"'{key}' must be a mapping of names to {key}")
        return {}
    return section


def parse_workbook(text: str, *, validate: bool = True) -> WorkbookSpec:
    """A workbook document (``POST /v2/workbooks``): its workflows and actions are named ``<wb>.<name>``."""
    problems = _load(text, validate)
    data = problems.doc.data
    _check_version(data, (), problems, required=True)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add_fatal(("name",) if "name" in data else (), "the workbook needs a 'name'")
    if validate:
        problems.add_all((), [p for p in schema.check(data, schema.WORKBOOK) if p[0] != ()])
    sections = {}
    for key, kind in (("workflows", "workflow"), ("actions", "action")):
        sections[key] = _named_mappings(_section(data, key, problems), (key,), problems, kind)
    problems.raise_if_fatal()
    common = {"workbook": name}
    workflows = _build_all(
        text, _node(problems.doc, "workflows"), sections["workflows"], ("workflows",), problems,
        builder=build_workflow, **common,
    )  # fmt: skip
    actions = _build_all(
        text, _node(problems.doc, "actions"), sections["actions"], ("actions",), problems,
        builder=build_action, **common,
    )  # fmt: skip
    problems.raise_if_any()
    return WorkbookSpec(
        name=name,
        version=SUPPORTED_VERSION,
        description=data.get("description"),
        tags=list(data["tags"]) if isinstance(data.get("tags"), list) else [],
        workflows=workflows,
        actions=actions,
        definition=text,
        raw=data,
    )
