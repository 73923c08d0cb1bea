"""The child process describing the generated actions for ``mistral-server`` (see actions.generated_child)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mistral import config
from mistral.actions import generated_child, registry


def main(argv: Sequence[str] | None = None) -> None:
    config.parse_args(sys.argv[1:] if argv is None else argv)
    config.setup_logging()
    generated_child.write_output(registry.describe_all_generated())


if __name__ == "__main__":
    main()
