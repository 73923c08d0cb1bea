"""Checks that the database schema is the one this code needs.

NOTE on memory: Alembic, with the Mako and Pygments it imports and the migration
scripts it loads, kept some 6.5 MB in every server process for the rest of its life,
for one comparison at start. The check therefore reads the version table and the
migration files' ``revision`` lines itself, and an embedded database is upgraded by a
child process: a server started on a new data directory (every benchmark run) kept
some 4 MB more RSS to its end when it upgraded in its own process.
"""

from __future__ import annotations

import ast
import logging
import os
import sys

import sqlalchemy as sa

from mistral import config
from mistral.db import session
from mistral.db.retry import retry_on_transient
from mistral.utils import children

LOG = logging.getLogger(__name__)

VERSIONS_DIR = os.path.join(os.path.dirname(__file__), "migration", "alembic_migrations", "versions")
#: Alembic's table holding the revision a database is at.
VERSION_TABLE = "alembic_version"


def head_revision(versions_dir: str = VERSIONS_DIR) -> str:
    """The newest migration: the one no other migration revises."""
    revised: set[str] = set()
    revisions: list[str] = []
    for name in sorted(os.listdir(versions_dir)):
        if name.endswith(".py") and not name.startswith("__"):
            revision, down = _revision_of(os.path.join(versions_dir, name))
            revisions.append(revision)
            revised.update(down)
    heads = [r for r in revisions if r not in revised]
    if len(heads) != 1:
        raise RuntimeError(f"the migrations in {versions_dir} have {len(heads)} heads: {heads}")
    return heads[0]


def _revision_of(path: str) -> tuple[str, list[str]]:
    """``revision`` and the revisions ``down_revision`` names (one, several for a merge, or none)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    values = {
        target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision")
    }
    down = values.get("down_revision")
    return values["revision"], [] if down is None else [down] if isinstance(down, str) else list(down)


@retry_on_transient  # NOTE: a server starting while the database drops connections must still start
def current_revision() -> str | None:
    with session.get_engine().connect() as conn:
        return _version_in(conn)


def _version_in(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) > 1:
        raise RuntimeError(f"the database is at several schema revisions at once: {rows}")
    return rows[0] if rows else None


def describe_url() -> str:
    return sa.engine.make_url(config.database_url()).render_as_string(hide_password=True)


def ensure_current() -> None:
    """Upgrade an embedded SQLite database; refuse to start on a stale server database."""
    if current_revision() == head_revision():
        return
    url = config.database_url()
    if url.startswith("sqlite"):
        LOG.info("Upgrading the embedded database %s to the latest schema", describe_url())
        _upgrade_embedded(url)
        return
    raise SystemExit(
        f"The database {describe_url()} is at schema revision {current_revision()}, not {head_revision()}: "
        "run 'mistral-db-manage upgrade head' first"
    )


def _upgrade_embedded(url: str) -> None:
    """Upgrade in a child process (see the module's note on memory), in this one if no other sees it."""
    if session.is_memory_url(url):
        from mistral.db.migration import cli

        cli.upgrade("head")
        return
    child = children.run([sys.executable, "-m", "mistral.db.migration.embedded", url])
    if child.returncode != 0:
        raise SystemExit(
            f"Upgrading the embedded database {describe_url()} failed (exit code {child.returncode})"
        )
