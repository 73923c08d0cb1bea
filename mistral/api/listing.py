"""List requests: query parameters in, ``{"<plural>": [...], "next": url}`` out."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pecan

from mistral import config
from mistral.api.controllers.resource import Resource
from mistral.api.errors import RequestError
from mistral.db.query import OPERATORS, Filter, ListQuery


def csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_filter(name: str, raw: str) -> Filter:
    op, sep, rest = raw.partition(":")
    if sep and op in OPERATORS:
        value: Any = rest
    else:
        op, value = "eq", raw
    if op in ("in", "nin") or name == "tags":
        value = csv(value)
    if value == "null" and op in ("eq", "neq"):
        value = None
    return Filter(op, value)


def _limit(raw: str | None, largest: int) -> int:
    if raw in (None, ""):
        # NOTE: as in Mistral, no limit means one page of the largest size, with a next link.
        return largest
    try:
        limit = int(raw)
    except ValueError as error:
        raise RequestError(f"Limit must be a positive whole number, got '{raw}'") from error
    if limit <= 0:
        raise RequestError(f"Limit must be positive, got {limit}")
    return min(limit, largest)


def _bool(name: str, raw: str | None) -> bool:
    if raw in (None, "", "false", "False", "0"):
        return False
    if raw in ("true", "True", "1"):
        return True
    raise RequestError(f"'{name}' must be true or false, got '{raw}'")


def parse(
    params: Mapping[str, str],
    resource: type[Resource],
    filterable: Iterable[str],
    *,
    default_sort: str = "created_at",
    beyond_max_limit: int = 0,
) -> tuple[ListQuery, list[str]]:
    """A ListQuery and the requested fields (the endpoint's contract has refused unknown parameters).

    A page holds at most ``[api] max_limit`` rows plus ``beyond_max_limit``: rows the operator
    installed, which no user can multiply.
    """
    filterable = set(filterable)
    filters = {k: parse_filter(k, v) for k, v in params.items() if k in filterable}
    if params.get("project_id"):
        filters["project_id"] = parse_filter("project_id", params["project_id"])
    fields = resource.check_fields(csv(params.get("fields"))) if params.get("fields") else []
    sort_keys, sort_dirs = sort_order(params, default_sort)
    q = ListQuery(
        filters=filters,
        marker=params.get("marker") or None,
        limit=_limit(params.get("limit"), config.CONF.api.max_limit + beyond_max_limit),
        sort_keys=sort_keys,
        sort_dirs=sort_dirs,
        all_projects=_bool("all_projects", params.get("all_projects")),
    )
    return q, fields


def sort_order(params: Mapping[str, str], default_sort: str) -> tuple[list[str], list[str]]:
    """``sort_keys`` and ``sort_dirs`` as Mistral reads them, completed with the ``id`` tie-breaker.

    NOTE: as in Mistral, a repeated key counts once (``id,id`` is ``id``), there may be fewer
    directions than keys (the rest are ``asc``) but not more, and ``id`` ascending ends every
    order that lacks it, so marker paging neither skips nor repeats a row; the ``next`` link
    carries the whole order.
    """
    keys = list(dict.fromkeys(k.lower() for k in csv(params.get("sort_keys")))) or [default_sort]
    dirs = [d.lower() for d in csv(params.get("sort_dirs"))]
    if len(dirs) > len(keys):
        raise RequestError(
            f"Length of sort_keys must be equal or greater than sort_dirs. "
            f"sort_keys={','.join(keys)}, sort_dirs={','.join(dirs)}"
        )
    dirs += ["asc"] * (len(keys) - len(dirs))
    if "id" not in keys:
        keys, dirs = [*keys, "id"], [*dirs, "asc"]
    return keys, dirs


def envelope(
    plural: str,
    items: list[Any],
    q: ListQuery,
    fields: list[str],
    params: Mapping[str, str],
    render: Callable[[Any], dict[str, Any]],
    *,
    marker_of: Callable[[Any], str] = lambda obj: obj.id,
) -> dict[str, Any]:
    """The list body; ``next`` points at the following page when this one is full."""
    body: dict[str, Any] = {plural: [render(obj) for obj in items]}
    if q.limit and len(items) == q.limit:
        query = {k: v for k, v in params.items() if k not in ("marker", "limit")}
        query.update(limit=str(q.limit), marker=marker_of(items[-1]))
        query.update(sort_keys=",".join(q.sort_keys), sort_dirs=",".join(q.sort_dirs))
        if fields:
            query["fields"] = ",".join(fields)
        base = pecan.request.application_url
        # NOTE: commas left bare, as Mistral writes them: clients (Tempest among them) split the
        # link's query on '&' and '=' and read "sort_keys=name,id" without unquoting it.
        body["next"] = f"{base}/v2/{plural}?{urllib.parse.urlencode(query, safe=',')}"
    return body
