"""The routes the Pecan controller tree serves, found by walking it as Pecan's RestController routes.

A RestController at path P serves ``get_all`` (GET P), ``get_one`` (GET P/{id}...), ``post``,
``put`` and ``delete``; positional arguments after those its parents consumed become path
segments, and an argument with a default is an optional segment. A sub-controller attribute
``name`` of a RestController is reached at P/{id}/name, and its methods receive that id first.
A plain controller serves its ``index`` at its own path.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator
from typing import Any

from pecan import rest

from mistral.api.contract import Contract, contract_of

REST_METHODS = (
    ("get_all", "get"),
    ("get_one", "get"),
    ("post", "post"),
    ("put", "put"),
    ("delete", "delete"),
)


@dataclasses.dataclass(frozen=True)
class Route:
    method: str
    path: str
    path_params: tuple[str, ...]
    contract: Contract
    handler: str
    #: The exposed function Pecan calls for it.
    func: Any


def _is_controller(obj: Any) -> bool:
    if isinstance(obj, rest.RestController):
        return True
    return callable(getattr(obj, "index", None)) and getattr(obj.index, "exposed", False)


def _children(controller: Any) -> Iterator[tuple[str, Any]]:
    for name in dir(controller):
        if name.startswith("_"):
            continue
        value = getattr(controller, name)
        if not callable(value) and _is_controller(value):
            yield name, value


def _contract(controller: Any, name: str) -> Contract:
    contract = contract_of(getattr(controller, name))
    if contract is None:
        raise TypeError(f"{type(controller).__name__}.{name} has no contract: expose it with contract.expose")
    return contract


def _own_args(func: Any, consumed: int) -> list[tuple[str, bool]]:
    """The method's positional arguments after the parents' ones, each with whether it is optional."""
    signature = inspect.signature(inspect.unwrap(func))
    args = []
    for param in list(signature.parameters.values())[1:]:
        if param.kind is param.VAR_POSITIONAL:
            # NOTE: Pecan needs ``*name`` for an optional segment; the controller refuses a second one.
            args.append((param.name, True))
        elif param.kind is param.POSITIONAL_OR_KEYWORD:
            args.append((param.name, param.default is not param.empty))
    return args[consumed:]


def _parent_names(func: Any, consumed: int) -> list[str]:
    signature = inspect.signature(inspect.unwrap(func))
    positional = [p.name for p in signature.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    return positional[1:][:consumed]


def _takes_parent_id(child: Any, consumed: int) -> bool:
    """Whether a sub-controller works on one item of its parent (its methods take the item's id)."""
    for attr in ("get_all", "post", "put", "delete"):
        func = getattr(type(child), attr, None)
        if func is not None:
            return len(_parent_names(func, consumed + 1)) > consumed
    return False


def _rest_routes(controller: rest.RestController, path: str, consumed: int) -> Iterator[Route]:
    for attr, verb in REST_METHODS:
        func = getattr(type(controller), attr, None)
        if func is None:
            continue
        contract = _contract(controller, attr)
        parents = _parent_names(func, consumed)
        prefix = path.format(*[f"{{{n}}}" for n in parents]) if parents else path
        own = _own_args(func, consumed)
        # NOTE: a GET without the identifier is get_all's, so get_one needs at least one segment.
        for count in range(1 if attr == "get_one" else 0, len(own) + 1):
            if not all(optional for _, optional in own[count:]):
                continue
            names = [name for name, _ in own[:count]]
            yield Route(
                verb,
                "/".join([prefix, *[f"{{{n}}}" for n in names]]),
                (*parents, *names),
                contract,
                f"{type(controller).__name__}.{attr}",
                func,
            )


def walk(controller: Any, path: str = "", consumed: int = 0) -> Iterator[Route]:
    """Every route under ``controller`` mounted at ``path`` (``{}`` marks the parents' ids)."""
    if isinstance(controller, rest.RestController):
        yield from _rest_routes(controller, path, consumed)
        for name, child in _children(controller):
            if _takes_parent_id(child, consumed):
                yield from walk(child, f"{path}/{{}}/{name}", consumed + 1)
            else:
                yield from walk(child, f"{path}/{name}", consumed)
        return
    index = type(controller).index
    yield Route(
        "get", path or "/", (), _contract(controller, "index"), f"{type(controller).__name__}.index", index
    )
    for name, child in _children(controller):
        yield from walk(child, f"{path}/{name}", consumed)
