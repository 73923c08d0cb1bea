"""Loading DSL YAML with the line number of every key and item.

The YAML rules (no alias expansion, bounded nesting) are those of
:mod:`mistral.utils.safe_yaml`, shared with every other reader of YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from mistral.exceptions import InvalidSpecError, SpecProblem
from mistral.utils.safe_yaml import SafeLoader

Path = tuple[str | int, ...]


@dataclass
class Document:
    """Loaded YAML data plus the 1-based line of each path and the root node."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    node: yaml.Node | None = None

    def line(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def format_path(path: Path) -> str:
    """``("wf", "tasks", "t1", "on-success", 0)`` → ``wf.tasks.t1.on-success[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def load(text: str) -> Document:
    """Parse ``text``; malformed YAML raises InvalidSpecError naming line and column."""
    try:
        # NOTE: the reader refuses control characters already here, before any node is read.
        loader = SafeLoader(text)
    except yaml.YAMLError as exc:
        raise InvalidSpecError([SpecProblem("", _yaml_error(exc))]) from exc
    try:
        node = loader.get_single_node()
        doc = Document(data=None, node=node)
        if node is not None:
            doc.data = _construct(loader, node, (), doc.lines)
        return doc
    except yaml.YAMLError as exc:
        raise InvalidSpecError([SpecProblem("", _yaml_error(exc))]) from exc
    finally:
        loader.dispose()


def _yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    detail = f"{context}; {problem}" if context else problem
    return f"Invalid YAML{where}: {detail}"


def _construct(loader: SafeLoader, node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                key = str(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _construct(loader, value_node, path + (key,), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, path + (i,), lines) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
