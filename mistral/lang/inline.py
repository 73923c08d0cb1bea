"""The DSL's one-line mini-syntaxes.

* inline parameters: ``std.http url="x" method=GET n=1 v=<% $.x %>``
* engine commands: ``fail``, ``fail msg="why"``, ``fail(msg="why")``
* with-items: ``x in <% $.list %>``, ``x in [1, 2]``
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from mistral.expressions import has_expression
from mistral.utils import nesting, safe_yaml

ENGINE_COMMANDS = frozenset({"fail", "succeed", "pause", "noop"})

_KEY_RE = re.compile(r"([\w][\w.-]*)=")
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_COMMAND_RE = re.compile(
    r"^(?P<name>fail|succeed|pause|noop)(?:\((?P<call>.*)\)|\s+(?P<args>.*))?$", re.DOTALL
)
_WITH_ITEMS_RE = re.compile(r"^\s*(?P<var>[A-Za-z_]\w*)\s+in\s+(?P<coll>.+?)\s*$", re.DOTALL)
_CLOSERS = {'"': '"', "'": "'", "<%": "%>", "{{": "}}"}


class InlineSyntaxError(ValueError):
    """A one-line value that does not follow its syntax."""


def _scan_quoted(text: str, start: int) -> tuple[str, int]:
    quote, i, out = text[start], start + 1, []
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise InlineSyntaxError(f"unterminated quoted string in {text!r}")


def _scan_delimited(text: str, start: int, opener: str) -> tuple[str, int]:
    end = text.find(_CLOSERS[opener], start + len(opener))
    if end < 0:
        raise InlineSyntaxError(f"unterminated expression in {text!r}")
    end += len(_CLOSERS[opener])
    return text[start:end], end


def _scan_bracketed(text: str, start: int) -> tuple[Any, int]:
    depth, i, quote = 0, start, None
    while i < len(text):
        ch = text[i]
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                raw = text[start : i + 1]
                return _literal_collection(raw), i + 1
        i += 1
    raise InlineSyntaxError(f"unbalanced brackets in {text!r}")


def _literal_collection(raw: str) -> Any:
    # JSON first (the documented form), then YAML flow style; a collection
    # holding expressions stays text for the engine to evaluate.
    try:
        return nesting.loads_json(raw)
    except nesting.TooDeepError as error:
        raise InlineSyntaxError(f"the collection is {error}") from None
    except ValueError:
        pass
    try:
        return safe_yaml.load(raw)
    except safe_yaml.NestingError as error:
        raise InlineSyntaxError(f"the collection is {error.problem}") from None
    except yaml.YAMLError:
        return raw


def _scalar(token: str) -> Any:
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if _NUMBER_RE.match(token):
        return float(token) if any(c in token for c in ".eE") else int(token)
    return token


def _scan_value(text: str, start: int) -> tuple[Any, int]:
    if start >= len(text) or text[start].isspace():
        return "", start
    ch = text[start]
    if ch in "\"'":
        return _scan_quoted(text, start)
    for opener in ("<%", "{{"):
        if text.startswith(opener, start):
            return _scan_delimited(text, start, opener)
    if ch in "[{":
        return _scan_bracketed(text, start)
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return _scalar(text[start:end]), end


def parse_params(text: str) -> dict[str, Any]:
    """``a=1 b="x y" c=<% $.c %>`` → ``{"a": 1, "b": "x y", "c": "<% $.c %>"}``."""
    params: dict[str, Any] = {}
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return params
        match = _KEY_RE.match(text, i)
        if not match:
            token = text[i:].split(None, 1)[0]
            raise InlineSyntaxError(f"expected key=value, got {token!r}")
        params[match.group(1)], i = _scan_value(text, match.end())
        if i < len(text) and not text[i].isspace():
            raise InlineSyntaxError(f"expected a space after the value of {match.group(1)!r} in {text!r}")


def parse_command(text: str) -> tuple[str, dict[str, Any]]:
    """``std.http url="x"`` → ``("std.http", {"url": "x"})``; a lone expression is kept whole."""
    text = text.strip()
    if text.startswith(("<%", "{{")):
        # The action name itself is an expression, evaluated at run time.
        return text, {}
    parts = text.split(None, 1)
    if not parts:
        raise InlineSyntaxError("empty name")
    return parts[0], parse_params(parts[1]) if len(parts) > 1 else {}


def parse_engine_command(text: str) -> tuple[str, dict[str, Any]] | None:
    """``fail msg="x"`` or ``fail(msg="x")`` → ``("fail", {"msg": "x"})``; None if not a command."""
    match = _COMMAND_RE.match(text.strip())
    if not match:
        return None
    args = match.group("call")
    if args is not None:
        # Call form: commas between arguments are optional separators.
        args = re.sub(r",\s*(?=[\w][\w.-]*=)", " ", args)
    else:
        args = match.group("args") or ""
    return match.group("name"), parse_params(args)


def parse_with_items(text: str) -> tuple[str, Any]:
    """``x in <% $.xs %>`` → ``("x", "<% $.xs %>")``; ``x in [1, 2]`` → ``("x", [1, 2])``."""
    match = _WITH_ITEMS_RE.match(text)
    if not match:
        raise InlineSyntaxError(f"expected 'name in <collection>', got {text!r}")
    var, coll = match.group("var"), match.group("coll")
    if coll.startswith("["):
        value, end = _scan_bracketed(coll, 0)
        if end == len(coll) and isinstance(value, list):
            return var, value
        raise InlineSyntaxError(f"invalid list literal {coll!r}")
    if has_expression(coll) and coll.startswith(("<%", "{{")):
        return var, coll
    raise InlineSyntaxError(f"the collection must be an expression or a [list], got {coll!r}")
