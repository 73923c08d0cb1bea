"""Alembic commands on the configured database."""

from __future__ import annotations

import os
from typing import Any

from alembic import command
from alembic.config import Config

from mistral.db import session

SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), "alembic_migrations")


def alembic_config(connection: Any | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def run(name: str, *args: Any, **kwargs: Any) -> None:
    """Run alembic ``command.<name>`` against the configured database."""
    with session.get_engine().begin() as connection:
        getattr(command, name)(alembic_config(connection), *args, **kwargs)


def upgrade(revision: str = "head") -> None:
    run("upgrade", revision)
