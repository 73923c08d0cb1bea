"""Event definitions: the optional ``[event_engine] event_definitions_cfg_file``.

A YAML list; the first entry one of whose ``event_types`` globs matches a
notification's event type turns it into ``event_params`` by evaluating its
``properties`` (YAQL or Jinja) over::

    {"event_type": ..., "publisher_id": ..., "timestamp": ..., "payload": {...}, "context": {...}}

for example::

    - event_types: [compute.instance.create.*]
      properties:
        instance_id: <% $.payload.instance_id %>
        project: <% $.context.project_id %>

Events that no entry matches pass their payload unchanged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from mistral.event_engine.events import Event, matches
from mistral.exceptions import InputError
from mistral.expressions import evaluator
from mistral.utils import safe_yaml

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventDefinition:
    event_types: tuple[str, ...]
    properties: Mapping[str, Any]

    def applies_to(self, event_type: str) -> bool:
        return any(matches(pattern, event_type) for pattern in self.event_types)

    def convert(self, event: Event) -> dict[str, Any]:
        """The properties evaluated over the event; raises ``ExpressionError``."""
        data = {
            "event_type": event.event_type,
            "publisher_id": event.publisher_id,
            "timestamp": event.timestamp,
            "payload": event.payload,
            "context": dict(event.ctxt),
        }
        return dict(evaluator.evaluate(dict(self.properties), data))


def parse(data: Any, source: str = "event definitions") -> list[EventDefinition]:
    """Definitions from loaded YAML; a wrong shape or a bad expression is an ``InputError``."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise InputError(f"{source}: a list of definitions expected, got {type(data).__name__}")
    found = []
    for index, item in enumerate(data):
        where = f"{source}[{index}]"
        if not isinstance(item, dict) or set(item) - {"event_types", "properties"}:
            raise InputError(f"{where}: only 'event_types' and 'properties' are allowed")
        types = item.get("event_types")
        types = [types] if isinstance(types, str) else types
        if not types or not all(isinstance(t, str) for t in types):
            raise InputError(f"{where}: 'event_types' must be a glob or a list of globs")
        properties = item.get("properties") or {}
        if not isinstance(properties, dict):
            raise InputError(f"{where}: 'properties' must be a mapping")
        problems = evaluator.validate(properties)
        if problems:
            raise InputError(f"{where}: {'; '.join(problems)}")
        found.append(EventDefinition(tuple(types), properties))
    return found


def load(path: str | None) -> list[EventDefinition]:
    """The definitions in ``path``; none when the file does not exist."""
    if not path or not os.path.exists(path):
        LOG.info("No event definitions file (%s): events pass their payload unchanged", path)
        return []
    with open(path, encoding="utf-8") as stream:
        try:
            data = safe_yaml.load(stream.read())
        except yaml.YAMLError as error:
            raise InputError(f"{path}: not valid YAML: {error}") from error
    definitions = parse(data, path)
    LOG.info("Loaded %d event definitions from %s", len(definitions), path)
    return definitions


def find(definitions: Sequence[EventDefinition], event_type: str) -> EventDefinition | None:
    return next((d for d in definitions if d.applies_to(event_type)), None)
