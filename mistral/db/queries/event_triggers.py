"""Named queries of the event triggers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mistral.db import models
from mistral.db.queries import common
from mistral.db.query import ListQuery
from mistral.exceptions import NotFoundError

__all__ = [
    "create_event_trigger",
    "delete_event_trigger",
    "get_event_trigger",
    "list_event_triggers",
    "load_event_trigger",
    "update_event_trigger",
]


def create_event_trigger(values: Mapping[str, Any]) -> models.EventTrigger:
    key = (
        f"exchange={values.get('exchange')}, topic={values.get('topic')}, "
        f"event={values.get('event')}, workflow_id={values.get('workflow_id')}"
    )
    return common.create(models.EventTrigger, values, key)


def load_event_trigger(trigger_id: str) -> models.EventTrigger | None:
    # NOTE: event triggers are addressed by id only; their names need not be unique.
    return common.first(models.EventTrigger, models.EventTrigger.id == trigger_id)


def get_event_trigger(trigger_id: str) -> models.EventTrigger:
    trigger = load_event_trigger(trigger_id)
    if trigger is None:
        raise NotFoundError(models.EventTrigger.__kind__, trigger_id)
    return trigger


def list_event_triggers(q: ListQuery | None = None) -> list[models.EventTrigger]:
    return common.find_all(models.EventTrigger, q or ListQuery())


def update_event_trigger(trigger_id: str, values: Mapping[str, Any]) -> models.EventTrigger:
    return common.update(get_event_trigger(trigger_id), values)


def delete_event_trigger(trigger_id: str) -> None:
    common.delete(get_event_trigger(trigger_id))
