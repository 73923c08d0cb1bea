"""``mistral-db-manage``: schema migrations, the system actions and the preinstalled workflows."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mistral import config
from mistral.db.migration import cli
from mistral.services import actions as action_service
from mistral.services import system_workflows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mistral-db-manage", description=__doc__)
    parser.add_argument("--config-file", action="append", default=[], help="configuration file (repeatable)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("upgrade", "upgrade to a revision"), ("downgrade", "downgrade to a revision")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("revision", nargs="?", default="head" if name == "upgrade" else "-1")
    sub.add_parser("current", help="show the current revision")
    sub.add_parser("history", help="list the revisions")
    p = sub.add_parser("stamp", help="set the revision without migrating")
    p.add_argument("revision")
    p = sub.add_parser("revision", help="create a new revision file")
    p.add_argument("-m", "--message", required=True)
    p.add_argument("--autogenerate", action="store_true")
    sub.add_parser("populate", help="register the installed system actions and preinstalled workflows")
    sub.add_parser("populate_actions", help="same as populate")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    config_args = [arg for path in args.config_file for arg in ("--config-file", path)]
    config.parse_args(config_args)
    # NOTE: as Mistral's: the migrations log where the config file's oslo.log options say.
    config.setup_logging()
    if args.command in ("populate", "populate_actions"):
        count = action_service.sync_system_actions()
        print(f"Registered {count} system actions")
        count = system_workflows.sync_system_workflows()
        print(f"Registered {count} preinstalled workflows")
    elif args.command in ("upgrade", "downgrade", "stamp"):
        cli.run(args.command, args.revision)
    elif args.command == "revision":
        cli.run("revision", message=args.message, autogenerate=args.autogenerate)
    else:
        cli.run(args.command)


if __name__ == "__main__":
    main()
