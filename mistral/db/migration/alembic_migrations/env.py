"""Alembic environment: runs migrations on the connection ``mistral.db.migration.cli`` hands over."""

from alembic import context

from mistral.db import models

config = context.config
connection = config.attributes.get("connection")

# NOTE: render_as_batch lets ALTER-style revisions run on SQLite, which
# cannot alter columns or constraints in place.
context.configure(
    connection=connection,
    target_metadata=models.Base.metadata,
    render_as_batch=True,
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()
