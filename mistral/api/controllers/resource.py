"""The base of every API resource: built from a model, rendered to Mistral's JSON."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, Self

import wsme.rest.json
from wsme import types as wtypes

from mistral.api.errors import RequestError

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_time(value: Any) -> Any:
    return value.strftime(TIME_FORMAT) if isinstance(value, datetime.datetime) else value


class Resource(wtypes.Base):
    #: A field whose model attribute has another name: field -> attribute (the API keeps Mistral's names).
    _model_names: dict[str, str] = {}

    @classmethod
    def model_name(cls, field: str) -> str:
        """The model attribute (and database column) behind ``field``."""
        return cls._model_names.get(field, field)

    @classmethod
    def field_names(cls) -> list[str]:
        return [attr.name for attr in wtypes.list_attributes(cls)]

    @classmethod
    def check_fields(cls, fields: Iterable[str]) -> list[str]:
        """The requested fields plus ``id``; an unknown one is a 400 naming it."""
        names = cls.field_names()
        fields = [f for f in fields if f]
        if not fields:
            return []
        unknown = [f for f in fields if f not in names]
        if unknown:
            raise RequestError(
                f"Some fields are not available for {cls.__name__.lower()}s: {', '.join(unknown)}"
            )
        return ["id", *[f for f in fields if f != "id"]] if "id" in names else fields

    @classmethod
    def from_model(cls, obj: Any, fields: Iterable[str] | None = None) -> Self:
        wanted = set(fields) if fields else None
        values = {}
        for name in cls.field_names():
            if wanted is not None and name not in wanted:
                continue
            values[name] = format_time(getattr(obj, cls.model_name(name), None))
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """Mistral's response shape: JSON-typed fields become JSON strings."""
        return wsme.rest.json.tojson(type(self), self)

    def to_plain(self) -> dict[str, Any]:
        """Nested values kept as they are: the shape of the text/plain endpoints' answers."""
        return {
            name: getattr(self, name)
            for name in self.field_names()
            if getattr(self, name) is not wtypes.Unset
        }
