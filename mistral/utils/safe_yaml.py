"""The one YAML reader and writer for every text the service parses or produces.

Follows Mistral's YAML rules: safe loading only, anchors and aliases are not
interpreted (``&x`` and ``*x`` are read as plain text, so an alias bomb is just
a string), ``@`` or a backquote may start a plain scalar, and dumps never emit
aliases (so what ``dump`` writes, ``load`` reads back). Nesting is bounded, so
a deeply nested document is an error naming the limit instead of a
RecursionError.
"""

from __future__ import annotations

from typing import Any

import yaml

from mistral.utils.nesting import MAX_DEPTH


class NestingError(yaml.MarkedYAMLError):
    """A document nested deeper than the limit."""


class SafeLoader(yaml.SafeLoader):
    """SafeLoader whose scanner reads anchors and aliases as plain scalars, with bounded nesting."""

    _depth = 0
    _too_deep = f"nested deeper than {MAX_DEPTH} levels"

    def fetch_alias(self) -> None:
        self.fetch_plain()

    def fetch_anchor(self) -> None:
        self.fetch_plain()

    def check_plain(self) -> bool:
        return self.peek() in "@`" or super().check_plain()

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # NOTE: the scanner keeps every open bracket as a possible simple key, so
        # 10**5 brackets cost seconds before the composer sees the first one.
        if self.flow_level >= MAX_DEPTH:
            raise NestingError(None, None, self._too_deep, self.get_mark())
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Any, index: Any) -> Any:
        # NOTE: the composer (and the constructor after it) recurse once per level;
        # refusing depth here keeps both far from Python's recursion limit.
        if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise NestingError(None, None, self._too_deep, mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class SafeDumper(yaml.SafeDumper):
    """SafeDumper that writes a shared object twice instead of as an anchor and its aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def load(text: str) -> Any:
    """The data of one YAML document; malformed or too deep YAML raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - SafeLoader subclass


def dump(data: Any, **kwargs: Any) -> str:
    """``data`` as YAML text (block style unless ``default_flow_style`` says otherwise)."""
    kwargs.setdefault("default_flow_style", False)
    return yaml.dump(data, Dumper=SafeDumper, **kwargs)
