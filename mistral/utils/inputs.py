"""Parameter specs shared by workflows, ad-hoc actions and system actions.

A spec is an ordered list of ``Param``; Mistral shows it as a string such as
``url, method="GET", params=null`` (action defaults rendered as JSON), or
``a, b="2", c="None"`` for a workflow (each default's Python text, double-quoted).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mistral.exceptions import InputError

NO_DEFAULT: Any = inspect.Parameter.empty


@dataclass(frozen=True)
class Param:
    name: str
    default: Any = NO_DEFAULT
    #: True for ``**kwargs``: the spec then accepts any extra input.
    var_keyword: bool = False

    @property
    def required(self) -> bool:
        return self.default is NO_DEFAULT and not self.var_keyword


def format_spec(params: Iterable[Param]) -> str:
    parts = []
    for p in params:
        if p.var_keyword:
            parts.append(f"**{p.name}")
        elif p.default is NO_DEFAULT:
            parts.append(p.name)
        else:
            parts.append(f"{p.name}={json.dumps(p.default, default=str)}")
    return ", ".join(parts)


def format_workflow_spec(params: Iterable[Param]) -> str:
    """A workflow's ``input`` string: each default as its Python text in double quotes.

    NOTE: Mistral 23 renders workflow inputs so (checked black-box: ``c: 3`` gives ``c="3"``,
    ``d: null`` gives ``d="None"``, ``[1, "x"]`` gives ``e="[1, 'x']"``), while action inputs are
    JSON; clients show this text as is, so it is copied exactly.
    """
    return ", ".join(p.name if p.default is NO_DEFAULT else f'{p.name}="{p.default}"' for p in params)


def spec_from_callable(func: Callable[..., Any]) -> list[Param]:
    """The params spec of a constructor or function, ``self`` and ``*args`` left out."""
    params = []
    for p in inspect.signature(func).parameters.values():
        if p.name == "self" or p.kind == p.VAR_POSITIONAL:
            continue
        params.append(Param(p.name, p.default, var_keyword=p.kind == p.VAR_KEYWORD))
    return params


def spec_from_dsl(entries: Iterable[Any]) -> list[Param]:
    """The params spec of a DSL ``input`` list: ``name`` or ``{name: default}`` items."""
    params = []
    for entry in entries:
        if isinstance(entry, Mapping):
            ((name, default),) = entry.items()
            params.append(Param(str(name), default))
        else:
            params.append(Param(str(entry)))
    return params


def check_input(params: Iterable[Param], given: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Return (missing, unexpected) names of ``given`` against ``params``."""
    params = list(params)
    names = {p.name for p in params if not p.var_keyword}
    missing = [p.name for p in params if p.required and p.name not in given]
    if any(p.var_keyword for p in params):
        return missing, []
    return missing, [k for k in given if k not in names]


def with_defaults(params: Iterable[Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` completed with the defaults of the params it leaves out."""
    result = {p.name: p.default for p in params if not p.required and not p.var_keyword}
    result.update(given)
    return result


def checked_workflow_input(name: str, params: Iterable[Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` with defaults filled in; missing or unexpected names are an ``InputError`` naming them."""
    params = list(params)
    missing, unexpected = check_input(params, given)
    if missing or unexpected:
        details = [f"missing={missing}"] if missing else []
        details += [f"unexpected={unexpected}"] if unexpected else []
        raise InputError(f"Invalid input [name={name}, class=Workflow, {', '.join(details)}]")
    return with_defaults(params, given)
