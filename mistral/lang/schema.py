"""JSON schemas of the DSL v2 objects and the translation of their errors into readable problems.

Each level has ``additionalProperties: false`` so that a misspelt keyword is
reported. Unions carry an ``x-expected`` phrase used when no branch fits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

Path = tuple[str | int, ...]

_EXPR_PATTERN = r"(?s)^\s*(<%.*%>|{{.*}})\s*$"
EXPRESSION = {"type": "string", "pattern": _EXPR_PATTERN}
ANY: dict[str, Any] = {}
STRING = {"type": "string"}
NONEMPTY_STRING = {"type": "string", "minLength": 1}
STRING_LIST = {"type": "array", "items": STRING}
DICT = {"type": "object"}


def _union(expected: str, *branches: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": list(branches), "x-expected": expected}


NUMBER_OR_EXPR = _union(
    "a non-negative number or an expression", {"type": "number", "minimum": 0}, EXPRESSION
)
INT_OR_EXPR = _union("a non-negative integer or an expression", {"type": "integer", "minimum": 0}, EXPRESSION)
BOOL_OR_EXPR = _union("a boolean or an expression", {"type": "boolean"}, EXPRESSION)
BACKOFF = _union("a number of at least 1 or an expression", {"type": "number", "minimum": 1}, EXPRESSION)
DICT_OR_EXPR = _union("a mapping or an expression", DICT, EXPRESSION)
STRING_OR_LIST = _union("a string or a list of strings", STRING, STRING_LIST)

_TRANSITION_ITEM = _union(
    "a task name, an engine command or a {task: condition} mapping",
    STRING,
    {"type": "object", "minProperties": 1, "maxProperties": 1},
)
_TRANSITIONS = _union(
    "a task name or a list of transitions", STRING, {"type": "array", "items": _TRANSITION_ITEM}
)
_ADVANCED_PUBLISH = {
    "type": "object",
    "properties": {"branch": DICT, "global": DICT, "atomic": DICT},
    "additionalProperties": False,
}
ON_CLAUSE = _union(
    "a task name, a list of transitions or a {publish, next} mapping",
    STRING,
    {"type": "array", "items": _TRANSITION_ITEM},
    {
        "type": "object",
        "properties": {"publish": _ADVANCED_PUBLISH, "next": _TRANSITIONS},
        "additionalProperties": False,
    },
)
RETRY = _union(
    "a retry mapping or a 'count=N delay=N' string",
    STRING,
    {
        "type": "object",
        "properties": {
            "count": INT_OR_EXPR,
            "delay": NUMBER_OR_EXPR,
            "break-on": ANY,
            "continue-on": ANY,
            "backoff": BACKOFF,
            "max-delay": NUMBER_OR_EXPR,
            "jitter": BOOL_OR_EXPR,
        },
        "required": ["count", "delay"],
        "additionalProperties": False,
    },
)
#: ``{tags: [a, b]}``: every task carrying all of those tags (see mistral.lang.tag_deps).
TAGS_SELECTOR = {
    "type": "object",
    "properties": {"tags": {"type": "array", "items": STRING, "minItems": 1}},
    "required": ["tags"],
    "additionalProperties": False,
}
JOIN = _union(
    "'all', 'one', a positive integer or a {tags: [...]} mapping",
    {"enum": ["all", "one"]},
    {"type": "integer", "minimum": 1},
    TAGS_SELECTOR,
)
REQUIRES = _union(
    "a task name, a {tags: [...]} mapping or a list of them",
    STRING,
    TAGS_SELECTOR,
    {"type": "array", "items": _union("a task name or a {tags: [...]} mapping", STRING, TAGS_SELECTOR)},
)

_POLICIES = {
    "retry": RETRY,
    "wait-before": NUMBER_OR_EXPR,
    "wait-after": NUMBER_OR_EXPR,
    "timeout": NUMBER_OR_EXPR,
    "pause-before": BOOL_OR_EXPR,
    "concurrency": INT_OR_EXPR,
    "fail-on": ANY,
    "safe-rerun": BOOL_OR_EXPR,
}
_ON_CLAUSES = {key: ON_CLAUSE for key in ("on-success", "on-error", "on-complete", "on-skip")}
_TASK_COMMON = {
    "name": STRING,
    "description": STRING,
    "tags": STRING_LIST,
    "action": NONEMPTY_STRING,
    "workflow": NONEMPTY_STRING,
    "input": DICT_OR_EXPR,
    "publish": DICT,
    "publish-on-error": DICT,
    "publish-on-skip": DICT,
    "with-items": STRING_OR_LIST,
    "keep-result": BOOL_OR_EXPR,
    "target": STRING,
    "queue": NONEMPTY_STRING,
    **_POLICIES,
}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False, **extra}


DIRECT_TASK = _object({**_TASK_COMMON, **_ON_CLAUSES, "join": JOIN})
REVERSE_TASK = _object({**_TASK_COMMON, "requires": REQUIRES})
TASK_DEFAULTS = _object({**_POLICIES, **_ON_CLAUSES, "requires": REQUIRES, "queue": NONEMPTY_STRING})
_INPUT = {
    "type": "array",
    "items": _union(
        "a name or a {name: default} mapping",
        STRING,
        {"type": "object", "minProperties": 1, "maxProperties": 1},
    ),
}
WORKFLOW = _object(
    {
        "version": ANY,
        "name": STRING,
        "type": {"enum": ["direct", "reverse"]},
        "description": STRING,
        "tags": STRING_LIST,
        "input": _INPUT,
        "output": ANY,
        "output-on-error": ANY,
        "vars": DICT,
        "task-defaults": DICT,
        "tasks": {"type": "object", "minProperties": 1},
    },
    required=["tasks"],
)
ACTION = _object(
    {
        "version": ANY,
        "name": STRING,
        "base": NONEMPTY_STRING,
        "base-input": DICT,
        "input": _INPUT,
        "output": ANY,
        "description": STRING,
        "tags": STRING_LIST,
    },
    required=["base"],
)
WORKBOOK = _object(
    {
        "version": ANY,
        "name": NONEMPTY_STRING,
        "description": STRING,
        "tags": STRING_LIST,
        "workflows": DICT,
        "actions": DICT,
    },
    required=["name"],
)

#: Extra words for keywords that exist, but not where they were used.
HINTS = {
    "requires": "only reverse workflows have 'requires'",
    "join": "only direct workflows have 'join'",
    **{key: f"only direct workflows have '{key}'" for key in _ON_CLAUSES},
}

_TYPE_NAMES = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
}


# The schemas are module constants, so a validator per schema object is built once.
_VALIDATORS: dict[int, jsonschema.Draft7Validator] = {}


def check(instance: Any, schema: dict[str, Any]) -> list[tuple[Path, str]]:
    """Every schema violation of ``instance`` as (relative path, message)."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        validator = _VALIDATORS[id(schema)] = _validator(schema)
    problems: list[tuple[Path, str]] = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        problems.extend(_translate(error, ()))
    return problems


def _validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    # NOTE: imported on the first validation (3 MB of RSS): only a process that takes definitions
    # (the API) validates; engines rebuild stored specs without, executors never parse the DSL.
    import jsonschema

    return jsonschema.Draft7Validator(schema)


def _describe(value: Any) -> str:
    kind = {dict: "a mapping", list: "a list", bool: "a boolean", type(None): "null"}.get(type(value))
    if kind:
        return kind
    return repr(value)


def _schema_of(error: jsonschema.ValidationError) -> Mapping[str, Any]:
    # A schema may be a bare true/false; only a mapping carries "properties" or "x-expected".
    return error.schema if isinstance(error.schema, Mapping) else {}


def _translate(error: jsonschema.ValidationError, base: Path) -> Iterator[tuple[Path, str]]:
    path = base + tuple(error.path)
    # NOTE: the stubs allow "unset" for the fields of a hand-built error; every error a validator
    # yields has them set, to any JSON value.
    kind = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    if kind == "additionalProperties":
        allowed = set(_schema_of(error).get("properties", {}))
        for key in instance:
            if key not in allowed:
                hint = f" ({HINTS[key]})" if key in HINTS else ""
                yield path + (key,), f"unknown keyword '{key}'{hint}"
    elif kind == "required":
        for key in value:
            if key not in instance:
                yield path, f"missing required keyword '{key}'"
    elif kind in ("anyOf", "oneOf"):
        yield from _translate_union(error, path)
    elif kind == "type":
        yield path, f"expected {_TYPE_NAMES.get(value, value)}, got {_describe(instance)}"
    elif kind == "enum":
        yield path, f"expected one of {', '.join(map(repr, value))}, got {_describe(instance)}"
    elif kind == "minProperties" and value == 1:
        yield path, "must not be empty"
    elif kind == "maxProperties" and value == 1:
        yield path, f"expected a single key, got {len(instance)} keys"
    elif kind == "minLength":
        yield path, "must not be empty"
    elif kind == "minimum":
        yield path, f"must be at least {value}, got {instance!r}"
    else:
        yield path, error.message


def _translate_union(error: jsonschema.ValidationError, path: Path) -> Iterator[tuple[Path, str]]:
    # A branch whose type matches the value explains the failure best: report
    # its own errors (deeper paths) rather than the generic expectation.
    by_branch: dict[str | int, list[jsonschema.ValidationError]] = {}
    for sub in error.context or ():
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    candidates = [
        subs
        for subs in by_branch.values()
        if not any(s.validator in ("type", "enum", "pattern") and not s.relative_path for s in subs)
    ]
    if candidates:
        for sub in min(candidates, key=len):
            yield from _translate(sub, path)
        return
    expected = _schema_of(error).get("x-expected", "a different value")
    yield path, f"expected {expected}, got {_describe(error.instance)}"
