"""Standalone definition texts for the workflows and actions of a multi-object document.

Each object's own lines are cut out of the original text, so that comments and
layout survive; flow-style documents, where objects share lines, fall back to
a YAML dump of the object.
"""

from __future__ import annotations

from typing import Any

import yaml

from mistral.utils import safe_yaml

HEADER = "version: '2.0'\n\n"


def _dump(name: Any, data: Any) -> str:
    return HEADER + safe_yaml.dump({name: data}, sort_keys=False)


def _end_line(node: yaml.Node) -> int:
    """The line after the last line of ``node`` (0-based)."""
    mark = node.end_mark
    return mark.line + 1 if mark.column > 0 else mark.line


def _trim(lines: list[str], indent: int) -> list[str]:
    # Trailing blank lines, and comments indented less than the object, belong to what follows.
    while lines:
        last = lines[-1]
        stripped = last.strip()
        if stripped and not (stripped.startswith("#") and len(last) - len(last.lstrip()) < indent + 1):
            break
        lines.pop()
    return lines


def _leading_comments(lines: list[str], start: int, floor: int, indent: int) -> int:
    """Move ``start`` up over the comment lines, at the key's indent, right above the key."""
    while start > floor and lines[start - 1].strip().startswith("#"):
        line = lines[start - 1]
        if len(line) - len(line.lstrip()) != indent:
            break
        start -= 1
    return start


def _dedent(lines: list[str], indent: int) -> list[str]:
    return [line[indent:] if line[:indent].strip() == "" else line.lstrip() for line in lines]


def extract(text: str, mapping: yaml.Node | None, data: dict[Any, Any]) -> dict[Any, str]:
    """Definitions of every entry of ``mapping`` (a node of ``text``) except ``version``."""
    if not isinstance(mapping, yaml.MappingNode):
        return {}
    lines = text.splitlines()
    entries = mapping.value
    result: dict[Any, str] = {}
    for i, (key_node, _) in enumerate(entries):
        key = key_node.value
        if key == "version":
            continue
        start = key_node.start_mark.line
        end = entries[i + 1][0].start_mark.line if i + 1 < len(entries) else _end_line(mapping)
        shared = i > 0 and entries[i - 1][1].end_mark.line > start
        if shared or end <= start or mapping.flow_style:
            result[key] = _dump(key, data.get(key))
            continue
        indent = key_node.start_mark.column
        floor = entries[i - 1][1].start_mark.line + 1 if i > 0 else 0
        start = _leading_comments(lines, start, floor, indent)
        block = _dedent(_trim(lines[start:end], indent), indent)
        result[key] = HEADER + "\n".join(block) + "\n"
    return result
