#!/usr/bin/env bash
# Type-check mistral/ with the [tool.mypy] configuration in pyproject.toml (strict on workflow/, lang/
# and engine/). Uses the project's .venv when there is one; the exit code is mypy's.
set -uo pipefail
cd "$(dirname "$0")/.."
mypy=mypy
if [ -x .venv/bin/mypy ]; then mypy=.venv/bin/mypy; fi
exec "$mypy" --config-file pyproject.toml "$@" mistral
