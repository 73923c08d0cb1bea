"""``python -m mistral.db.migration.embedded URL``: upgrade one SQLite database to the head revision.

``schema.ensure_current`` runs this in a child process when a server starts on a new or
stale embedded database, so that the server itself never imports Alembic (see its note).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mistral import config
from mistral.db.migration import cli


def main(argv: Sequence[str]) -> None:
    (url,) = argv
    # NOTE: no configuration file: the database is the one named, whatever a default file says.
    config.parse_args([], default_config_files=[])
    config.CONF.set_override("connection", url, group="database")
    cli.upgrade("head")


if __name__ == "__main__":
    main(sys.argv[1:])
