"""Column types that behave the same on SQLite, PostgreSQL and MySQL."""

from __future__ import annotations

import datetime
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql


class StoredJson(str):
    """A ``JsonEncoded`` column's value as the text stored: ``json.dumps`` of the value."""


class JsonEncoded(sa.types.TypeDecorator):
    """JSON stored as text; a ``StoredJson`` value is that text already.

    NOTE: text rather than a native JSON type so that the API's ``has``
    filter (SQL LIKE over the serialized value) works on every database, as
    it does in Mistral.
    """

    impl = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None or type(value) is StoredJson:
            return value
        return json.dumps(value, sort_keys=False, default=str)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")


class JsonText(sa.types.TypeDecorator):
    """Reads a ``JsonEncoded`` column as its text (a ``StoredJson``), left undecoded.

    NOTE: the API shows an execution's dicts as JSON text; the stored text is that text, so a
    read only to show them skips decoding and encoding them again (most of a POST's answer and
    of a poll of an execution with a 100 000-item input).
    """

    impl = LongText
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Any) -> StoredJson | None:
        return None if value is None else StoredJson(value)


def utcnow() -> datetime.datetime:
    """Naive UTC time: what every timestamp column stores."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
