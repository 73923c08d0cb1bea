"""Discovery of the system actions registered under the ``mistral.actions`` entry points.

Loading is tolerant: a plugin that fails to import, is not an action class or
has an unreadable constructor is logged and skipped, so one broken package
never takes the standard actions down with it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import inspect
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from mistral_lib import actions

from mistral import config, exceptions
from mistral.actions import generated_child, generators
from mistral.config import CONF
from mistral.utils.inputs import Param, check_input, format_spec, spec_from_callable

LOG = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mistral.actions"
BUILTIN_PREFIX = "std."


@dataclass(frozen=True)
class ActionDescriptor:
    name: str
    action_class: type
    params: list[Param]
    #: The params as Mistral shows them, e.g. ``output, delay=0``.
    input_string: str
    #: The first line of the class's own docstring.
    description: str
    #: The class-level answer of ``is_sync``; see ``_class_is_sync`` for its limits.
    is_sync: bool


# Reentrant: a plugin whose import looks up another action must not deadlock discovery.
_lock = threading.RLock()
_cache: dict[str, ActionDescriptor] | None = None


def _entry_points() -> Iterable[metadata.EntryPoint]:
    """The installed entry points of the group; tests replace this."""
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def load_system_actions() -> dict[str, ActionDescriptor]:
    """Every allowed system action by name, loaded once per process."""
    return dict(_loaded())


def _loaded() -> dict[str, ActionDescriptor]:
    global _cache
    with _lock:
        if _cache is None:
            _cache = _discover()
        return _cache


def reset_cache() -> None:
    """Forget the loaded actions so the next call rediscovers them (config or plugins changed)."""
    global _cache
    with _lock:
        _cache = None


def get_system_action(name: str) -> ActionDescriptor | None:
    return _loaded().get(name)


def instantiate(descriptor: ActionDescriptor, action_input: Mapping[str, Any]) -> actions.Action:
    """A new action from ``action_input``; raises InvalidActionError when the input does not fit."""
    cls_name = descriptor.action_class.__name__
    missing, unexpected = check_input(descriptor.params, action_input)
    if missing or unexpected:
        raise exceptions.InvalidActionError(
            f"Invalid input [name={descriptor.name}, class={cls_name}, "
            f"missing={missing}, unexpected={unexpected}]"
        )
    try:
        return descriptor.action_class(**action_input)
    except (TypeError, ValueError) as exc:
        # Constructors validate values (a negative size, body with json): that is bad input too.
        raise exceptions.InvalidActionError(
            f"Invalid input [name={descriptor.name}, class={cls_name}]: {exc}"
        ) from exc


def is_allowed(name: str) -> bool:
    """Whether ``[legacy_action_provider]`` lets the action called ``name`` load."""
    opts = CONF.legacy_action_provider
    builtin = name.startswith(BUILTIN_PREFIX)
    if not builtin and (opts.only_builtin_actions or not opts.load_action_plugins):
        return False
    if not any(fnmatch.fnmatchcase(name, pattern) for pattern in opts.allowlist or []):
        return False
    return not any(fnmatch.fnmatchcase(name, pattern) for pattern in opts.denylist or [])


def _discover() -> dict[str, ActionDescriptor]:
    found: dict[str, ActionDescriptor] = {}
    sources: dict[str, str] = {}
    for ep in _entry_points():
        # Filter before loading: a denied plugin is never even imported.
        if not is_allowed(ep.name):
            continue
        if ep.name in found:
            # The same distribution seen twice on sys.path repeats its entry points.
            if sources[ep.name] != ep.value:
                LOG.warning("Action %s is registered twice, keeping %s", ep.name, sources[ep.name])
            continue
        descriptor = _load(ep)
        if descriptor is not None:
            found[ep.name], sources[ep.name] = descriptor, ep.value
    if CONF.legacy_action_provider.load_action_generators:
        _add_generated(found)
    LOG.info("Loaded %d system actions", len(found))
    return found


#: Generated actions are described by a child process, and their classes built on first use
#: (mistral.actions.generated_child); tests of fake generators describe them in this process.
DESCRIBE_GENERATED_IN_CHILD = True


def _add_generated(found: dict[str, ActionDescriptor]) -> None:
    """Add the allowed generated actions (``mistral.generators``) that no entry point took first."""
    in_child = DESCRIBE_GENERATED_IN_CHILD and any(True for _ in generators._entry_points())
    described = generated_child.describe_in_child() if in_child else None
    if described is None:
        for name, generated in generators.generated_actions().items():
            if name not in found and is_allowed(name):
                descriptor = describe_generated(name, generated)
                if descriptor is not None:
                    found[name] = descriptor
        return
    # The child process described them all: the provider options are applied here.
    config.register_keystone_opts()
    for d in described:
        if d.name not in found and is_allowed(d.name):
            found[d.name] = ActionDescriptor(
                name=d.name,
                action_class=generated_child.stand_in(d),
                params=d.params,
                input_string=d.input_string,
                description=d.description,
                is_sync=d.is_sync,
            )


def describe_generated(name: str, generated: generators.GeneratedAction) -> ActionDescriptor | None:
    """The descriptor of one generated action, or None (logged) when its class cannot be used."""
    try:
        descriptor = describe(name, generated.action_class, entry_point=generated.source)
    except exceptions.ActionLoadError as exc:
        LOG.error("%s", exc)
        return None
    # NOTE: as Mistral does, what the generator leaves empty comes from the class itself: its
    # constructor's params (``**kwargs``) and its whole docstring, inherited included.
    return dataclasses.replace(
        descriptor,
        params=generated.params if generated.arg_list else descriptor.params,
        input_string=generated.arg_list or descriptor.input_string,
        description=generated.description or inspect.getdoc(generated.action_class) or "",
    )


def describe_all_generated() -> list[generated_child.DescribedAction]:
    """Every generated action described (unfiltered), for ``generated_child``: run in the child."""
    out = []
    for name, generated in generators.generated_actions().items():
        d = describe_generated(name, generated)
        if d is not None:
            cls = d.action_class
            out.append(
                generated_child.DescribedAction(
                    name=name,
                    params=d.params,
                    input_string=d.input_string,
                    description=d.description,
                    is_sync=d.is_sync,
                    module=cls.__module__,
                    qualname=cls.__qualname__,
                    class_name=cls.__name__,
                    entry_point=generated.entry_point,
                    generator=generated.generator,
                )
            )
    return out


def _load(ep: metadata.EntryPoint) -> ActionDescriptor | None:
    """The descriptor of one entry point, or None (logged) when it cannot be used."""
    where = f"{ep.name} = {ep.value}"
    try:
        return describe(ep.name, ep.load(), entry_point=where)
    except exceptions.ActionLoadError as exc:
        LOG.error("%s", exc)
    except Exception as exc:  # whatever a plugin's import raises
        LOG.error("%s", exceptions.ActionLoadError(where, f"{type(exc).__name__}: {exc}"))
    return None


def describe(name: str, obj: Any, *, entry_point: str | None = None) -> ActionDescriptor:
    """The descriptor of action class ``obj`` registered as ``name``; raises ActionLoadError."""
    where = entry_point or name
    if not (inspect.isclass(obj) and issubclass(obj, actions.Action)):
        raise exceptions.ActionLoadError(where, f"{obj!r} is not a subclass of mistral_lib.actions.Action")
    # Action is no ABC, so a missing run() is not caught by Python itself.
    action_cls: Any = obj  # NOTE: mistral_lib has no types: the check above is all mypy could know
    if inspect.isabstract(action_cls) or action_cls.run is actions.Action.run:
        raise exceptions.ActionLoadError(where, f"{obj.__name__} does not implement run()")
    try:
        params = spec_from_callable(obj.__init__)
    except (TypeError, ValueError) as exc:
        raise exceptions.ActionLoadError(where, f"unreadable constructor signature: {exc}") from exc
    return ActionDescriptor(
        name=name,
        action_class=obj,
        params=params,
        input_string=format_spec(params),
        description=_description(obj),
        is_sync=_class_is_sync(obj),
    )


def _description(cls: type[Any]) -> str:
    # The class's own docstring only: an inherited one would describe the base class.
    doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    return doc.splitlines()[0].strip() if doc else ""


def _class_is_sync(cls: Any) -> bool:  # NOTE: Any: mistral_lib has no types, and type.__new__ is not its
    """Whether the class's actions are synchronous, known without constructing one.

    NOTE: a constructor needs the action's input, so ``is_sync`` is called on a
    bare instance made with ``__new__``. Every known action answers with a
    constant; one whose answer depends on its input (or fails on a bare
    instance) is reported as synchronous here, and whoever runs the action
    must still ask the real instance.
    """
    if cls.is_sync is actions.Action.is_sync:
        return True
    try:
        return bool(cls.is_sync(cls.__new__(cls)))
    except Exception:  # the answer depends on instance state
        LOG.debug("is_sync of %s needs an instance; assuming synchronous", cls.__name__)
        return True
