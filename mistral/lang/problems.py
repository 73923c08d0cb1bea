"""Collecting every problem found while building specs, with its path and YAML line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mistral.exceptions import InvalidSpecError, SpecProblem
from mistral.expressions import validate_string
from mistral.lang.yaml_loader import Document, Path, format_path

# Meta keywords whose text is shown, never evaluated.
_NOT_EVALUATED = frozenset({"name", "description", "tags", "version", "type"})


@dataclass
class Problems:
    """The problems of one document.

    ``fatal`` problems stop parsing whatever ``validate`` says (bad YAML, wrong
    version, no names); the others are raised only when validating.
    """

    doc: Document
    validate: bool = True
    fatal: list[SpecProblem] = field(default_factory=list)
    found: list[SpecProblem] = field(default_factory=list)

    def _problem(self, path: Path, message: str) -> SpecProblem:
        line = self.doc.line(path)
        return SpecProblem(format_path(path), f"{message} (line {line})" if line else message)

    def add(self, path: Path, message: str) -> None:
        self.found.append(self._problem(path, message))

    def add_fatal(self, path: Path, message: str) -> None:
        self.fatal.append(self._problem(path, message))

    def add_all(self, base: Path, items: list[tuple[Path, str]]) -> None:
        for path, message in items:
            self.add(base + path, message)

    def raise_if_fatal(self) -> None:
        if self.fatal:
            raise InvalidSpecError(self.fatal)

    def raise_if_any(self) -> None:
        problems = self.fatal + (self.found if self.validate else [])
        if problems:
            raise InvalidSpecError(problems)

    def check_expressions(self, mapping: Any, path: Path) -> None:
        """Syntax-check every expression in the keywords of ``mapping`` (meta keywords excepted)."""
        if not self.validate or not isinstance(mapping, dict):
            return
        for key, value in mapping.items():
            if key not in _NOT_EVALUATED:
                self._check_value(value, path + (key,))

    def _check_value(self, value: Any, path: Path) -> None:
        if isinstance(value, str):
            for message in validate_string(value):
                self.add(path, message)
        elif isinstance(value, dict):
            for key, item in value.items():
                self._check_value(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._check_value(item, path + (i,))
