"""Checks that the database schema is the one this code needs."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mistral import config
from mistral.db import session
from mistral.db.migration import cli
from mistral.db.retry import retry_on_transient

LOG = logging.getLogger(__name__)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(cli.alembic_config()).get_current_head()


@retry_on_transient  # NOTE: a server starting while the database drops connections must still start
def current_revision() -> str | None:
    with session.get_engine().connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def describe_url() -> str:
    return sa.engine.make_url(config.database_url()).render_as_string(hide_password=True)


def ensure_current() -> None:
    """Upgrade an embedded SQLite database; refuse to start on a stale server database."""
    if current_revision() == head_revision():
        return
    if config.database_url().startswith("sqlite"):
        LOG.info("Upgrading the embedded database %s to the latest schema", describe_url())
        cli.upgrade("head")
        return
    raise SystemExit(
        f"The database {describe_url()} is at schema revision {current_revision()}, not {head_revision()}: "
        "run 'mistral-db-manage upgrade head' first"
    )
