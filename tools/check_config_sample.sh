#!/usr/bin/env bash
# Fails when etc/mistral.conf.sample is not what oslo-config-generator makes of the code now.
set -euo pipefail
venv="${1:-.venv}"
fresh="$(mktemp)"
trap 'rm -f "$fresh"' EXIT
"$venv/bin/oslo-config-generator" --config-file etc/config-generator.conf --output-file "$fresh"
if ! diff -u etc/mistral.conf.sample "$fresh"; then
    echo "etc/mistral.conf.sample is stale: run 'tox -e genconfig' and commit it" >&2
    exit 1
fi
