"""The command-line options of ``mistral-server``, which its API reader process parses too.

NOTE: apart from ``mistral.cmd.launch`` so that the reader process, which parses the
same arguments, does not import what only the server's start needs (the schema check
and with it Alembic).
"""

from __future__ import annotations

from oslo_config import cfg

from mistral import launcher

cli_opts = [
    cfg.ListOpt(
        "server",
        default=["all"],
        help=f"Comma-separated services to run in this process: {', '.join(launcher.SERVERS)}.",
    ),
]
