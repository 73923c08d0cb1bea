"""What each endpoint takes and answers, declared once: the server enforces it and the API document shows it.

``expose`` replaces ``errors.endpoint`` on a controller method. It records a ``Contract``
on the exposed function (``__contract__``) and refuses query parameters the contract
does not name, so the OpenAPI document (``mistral.api.apidoc``) and the server cannot
disagree about them.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import pecan

from mistral.api import errors
from mistral.api.controllers.resource import Resource
from mistral.api.errors import RequestError


@dataclasses.dataclass(frozen=True)
class Param:
    """A query parameter; ``schema`` is its JSON schema (a string unless said otherwise)."""

    name: str
    schema: dict[str, Any] = dataclasses.field(default_factory=lambda: {"type": "string"})
    description: str = ""


def text(name: str, description: str = "") -> Param:
    return Param(name, {"type": "string"}, description)


def flag(name: str, description: str = "") -> Param:
    return Param(name, {"type": "boolean"}, description)


def integer(name: str, description: str = "", minimum: int | None = None) -> Param:
    schema: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    return Param(name, schema, description)


@dataclasses.dataclass(frozen=True)
class Text:
    """A ``text/plain`` request body: a YAML definition of ``kind``."""

    kind: str


@dataclasses.dataclass(frozen=True)
class Body:
    """A JSON object request body with (some of) a resource's fields."""

    resource: type[Resource]
    only: tuple[str, ...] | None = None

    @property
    def fields(self) -> list[str]:
        names = self.resource.field_names()
        return [n for n in names if self.only is None or n in self.only]


@dataclasses.dataclass(frozen=True)
class One:
    """A resource in the answer; ``plain`` keeps its JSON fields nested instead of as JSON text."""

    resource: type[Resource]
    plain: bool = False


@dataclasses.dataclass(frozen=True)
class ListOf:
    """``{"<plural>": [resource, ...]}``, with a ``next`` link when ``paged``."""

    plural: str
    item: One
    paged: bool = False


@dataclasses.dataclass(frozen=True)
class FreeForm:
    """A JSON object whose keys the server does not fix (the report, the version document)."""

    description: str


@dataclasses.dataclass(frozen=True)
class OneOf:
    """Either answer, by the path taken (``PUT /workflows`` lists, ``PUT /workflows/{id}`` gives one)."""

    choices: tuple[One | ListOf, ...]


Returns = One | ListOf | OneOf | FreeForm | type[Resource] | None


@dataclasses.dataclass(frozen=True)
class Contract:
    status: int
    query: tuple[Param, ...]
    body: Text | Body | None
    returns: Returns
    summary: str


def expose(
    summary: str,
    *,
    status: int = 200,
    query: Iterable[Param] = (),
    body: Text | Body | None = None,
    returns: Returns = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Expose a controller method under ``contract``; unknown query parameters are a 400."""
    answer = One(returns) if isinstance(returns, type) and issubclass(returns, Resource) else returns
    contract = Contract(status, tuple(query), body, answer, summary)
    allowed = frozenset(p.name for p in contract.query)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        positions = {name: i for i, name in enumerate(inspect.signature(func).parameters)}

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            query = pecan.request.GET
            unknown = sorted(set(query) - allowed)
            if unknown:
                raise RequestError(f"Unknown argument: {', '.join(unknown)}")
            # NOTE: Pecan hands a repeated parameter over as a list, which no endpoint expects;
            # as in Mistral (whose WSME reads one value of a query parameter), the last one counts.
            repeated = {name: query.getall(name)[-1] for name in set(query) if len(query.getall(name)) > 1}
            for name, value in repeated.items():
                if name in kwargs:
                    kwargs[name] = value
                elif name in positions and positions[name] < len(args):
                    # NOTE: Pecan passes a parameter by position when the method names it.
                    index = positions[name]
                    args = (*args[:index], value, *args[index + 1 :])
            return func(*args, **kwargs)

        exposed = errors.endpoint(status)(checked)
        exposed.__contract__ = contract  # type: ignore[attr-defined]
        return exposed

    return decorate


def contract_of(method: Any) -> Contract | None:
    return getattr(method, "__contract__", None)


#: The paging parameters every list takes (read by ``mistral.api.listing.parse``), typed.
PAGING = (
    text("marker", "Id of the last item of the previous page"),
    integer("limit", "Largest number of items to return", minimum=1),
    text("sort_keys", "Comma-separated fields to sort by"),
    text("sort_dirs", "Comma-separated directions (asc, desc), one per sort key"),
    text("fields", "Comma-separated fields to return (id is always returned)"),
    flag("all_projects", "Admin only: list the rows of every project"),
    text("project_id", "Admin only, with all_projects: the rows of this project"),
)


NAMESPACE = text("namespace", "The namespace of the definition")
FIELDS = text("fields", "Comma-separated fields to return (id is always returned)")
SCOPE = Param("scope", {"type": "string", "enum": ["private", "public"]}, "Who may see the definition")
SKIP_VALIDATION = flag("skip_validation", "Store the definition without checking it")
DEFINITION_QUERY = (NAMESPACE, SCOPE, SKIP_VALIDATION)
TREE_QUERY = (
    flag("errors_only", "Only executions in ERROR and their parents"),
    integer("max_depth", "How deep to descend into sub-executions; -1 for all", minimum=-1),
    flag("include_output", "Include each execution's output"),
)


def list_query(filterable: Iterable[str], *, extra: Iterable[Param] = ()) -> tuple[Param, ...]:
    """A list's query: paging, one filter per filterable field (``op:value`` or a value), extras."""
    filters = tuple(
        text(name, "Filter: a value, or operator:value (eq, neq, in, nin, lt, lte, gt, gte, has)")
        for name in filterable
        if name not in {p.name for p in PAGING}
    )
    return (*PAGING, *filters, *extra)
