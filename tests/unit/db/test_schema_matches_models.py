"""The Alembic revisions build exactly the schema the models describe (tables, columns, indexes, keys)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mistral.db import models, session


def test_migrated_schema_matches_the_models(db: str) -> None:
    with session.get_engine().connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), models.Base.metadata)
    assert differences == []
