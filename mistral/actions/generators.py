"""Actions made by the generators registered under the ``mistral.generators`` entry points.

mistral-extra registers one factory there; it yields a generator class per
OpenStack service, and each generator's ``create_actions()`` returns dicts of
``name`` (``nova.servers_create``), ``class``, ``description`` and
``arg_list`` (the input string Mistral shows, e.g. ``name, image, flavor,
meta=null, action_region=""``).

NOTE: building them imports every OpenStack client library and inspects about
1200 client methods, ~5 s on one core and ~50 MB of RSS (1400 modules). It is
done once per process, the first time anyone asks, and kept here apart from the
registry's own cache, which tests reset freely. A server describes them in a
child process instead (mistral.actions.generated_child) and builds the classes
of one generator here, with ``action_class``, only when one of its actions is
first made.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from mistral import config, exceptions
from mistral.utils.inputs import NO_DEFAULT, Param

LOG = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mistral.generators"


@dataclass(frozen=True)
class GeneratedAction:
    """One action as its generator describes it; the registry checks the class like any plugin's."""

    name: str
    action_class: Any
    params: list[Param]
    #: The input string exactly as the generator gives it (Mistral shows it verbatim).
    arg_list: str
    #: The whole description (a client method's docstring), as Mistral shows it.
    description: str
    #: Where it came from, for load errors.
    source: str
    #: The entry point's value and the generator's ``__name__``: what ``action_class`` finds it by.
    entry_point: str = ""
    generator: str = ""


_lock = threading.Lock()
_cache: dict[str, GeneratedAction] | None = None
#: The classes of the generators asked for by ``action_class``: (entry point, generator) -> name -> class.
_classes: dict[tuple[str, str], dict[str, Any]] = {}


def _entry_points() -> Iterable[metadata.EntryPoint]:
    """The installed entry points of the group; tests replace this."""
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def generated_actions() -> dict[str, GeneratedAction]:
    """Every generated action by name (unfiltered), built once per process."""
    global _cache
    with _lock:
        if _cache is None:
            _cache = _generate()
        return _cache


def reset() -> None:
    """Forget the generated actions (tests that install fake generators)."""
    global _cache
    with _lock:
        _cache = None
        _classes.clear()


def action_class(entry_point: str, generator: str, name: str) -> Any:
    """The class of the generated action ``name``, building only its own generator's actions.

    Raises LookupError when the entry point, the generator or the action is gone.
    """
    with _lock:
        key = (entry_point, generator)
        if key not in _classes:
            _classes[key] = _generator_classes(entry_point, generator)
        try:
            return _classes[key][name]
        except KeyError:
            raise LookupError(f"{generator} of {entry_point} no longer generates {name}") from None


def _generator_classes(entry_point: str, generator: str) -> dict[str, Any]:
    # The actions read [keystone_authtoken] and [keystone] when they run, in this process.
    config.register_keystone_opts()
    for ep in _entry_points():
        if ep.value != entry_point:
            continue
        for found in ep.load()():
            if getattr(found, "__name__", None) == generator:
                return {str(a.get("name")): a.get("class") for a in _created(found)}
    raise LookupError(f"no generator {generator} in the {ENTRY_POINT_GROUP} entry point {entry_point}")


def _generate() -> dict[str, GeneratedAction]:
    eps = list(_entry_points())
    if not eps:
        return {}
    # The actions read [keystone_authtoken] and [keystone] when they run, in this process.
    config.register_keystone_opts()
    found: dict[str, GeneratedAction] = {}
    for ep in eps:
        try:
            generators = list(ep.load()())
        except Exception as exc:  # whatever a plugin's import raises
            where = f"{ep.name} = {ep.value}"
            LOG.error("%s", exceptions.ActionLoadError(where, f"{type(exc).__name__}: {exc}"))
            continue
        for generator in generators:
            generator_name = str(getattr(generator, "__name__", "?"))
            for action in _created(generator):
                generated = _generated(action, ep.value, generator_name)
                if generated is not None:
                    found.setdefault(generated.name, generated)
    LOG.info("Generated %d actions from %d %s entry points", len(found), len(eps), ENTRY_POINT_GROUP)
    return found


def _generated(action: dict[str, Any], entry_point: str, generator: str) -> GeneratedAction | None:
    source = f"{entry_point} ({generator})"
    name, arg_list = action.get("name"), action.get("arg_list") or ""
    try:
        params = parse_spec(arg_list)
    except ValueError as exc:
        LOG.error("Skipping generated action %s from %s: %s", name, source, exc)
        return None
    return GeneratedAction(
        name=str(name),
        action_class=action.get("class"),
        params=params,
        arg_list=arg_list,
        description=action.get("description") or "",
        source=f"{name} from {source}",
        entry_point=entry_point,
        generator=generator,
    )


def _created(generator: Any) -> list[dict[str, Any]]:
    try:
        return list(generator.create_actions())
    except Exception:  # one broken generator (a client library missing) must not hide the others
        LOG.exception("Action generator %s failed", getattr(generator, "__name__", generator))
        return []


def parse_spec(text: str) -> list[Param]:
    """The params of an input string such as ``a, b=1, c="x, y", **kwargs`` (defaults as JSON).

    A default that is not JSON is kept as its text. Raises ValueError for a nameless entry.
    """
    params: list[Param] = []
    decoder = json.JSONDecoder()
    pos, end = 0, len(text)
    while pos < end:
        pos = _skip(text, pos, " \t\n,")
        if pos >= end:
            break
        stop = _next(text, pos, ",=")
        name = text[pos:stop].strip()
        if not name:
            raise ValueError(f"Unnamed parameter at {pos} in '{text}'")
        if name.startswith("**"):
            params.append(Param(name[2:], var_keyword=True))
            pos = stop
            continue
        if stop < end and text[stop] == "=":
            start = _skip(text, stop + 1, " \t")
            try:
                default, pos = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                pos = _next(text, start, ",")
                default = text[start:pos].strip()
            params.append(Param(name, default))
        else:
            params.append(Param(name, NO_DEFAULT))
            pos = stop
    return params


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _next(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] not in chars:
        pos += 1
    return pos
