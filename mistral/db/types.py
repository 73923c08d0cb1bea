"""Column types that behave the same on SQLite, PostgreSQL and MySQL."""

from __future__ import annotations

import datetime
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql


class JsonEncoded(sa.types.TypeDecorator):
    """JSON stored as text.

    NOTE: text rather than a native JSON type so that the API's ``has``
    filter (SQL LIKE over the serialized value) works on every database, as
    it does in Mistral.
    """

    impl = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=False, default=str)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")


def utcnow() -> datetime.datetime:
    """Naive UTC time: what every timestamp column stores."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
