"""Listing the system actions does not import the libraries that only running some of them needs."""

from __future__ import annotations

import json
import subprocess
import sys

LIST_ACTIONS = """
import json, sys
from mistral import config
config.parse_args([])
config.CONF.set_default("load_action_generators", False, group="legacy_action_provider")
from mistral.actions import registry
names = sorted(registry.load_system_actions())
print(json.dumps({"names": names, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_listing_the_actions_leaves_paramiko_unloaded_until_an_ssh_action_is_built() -> None:
    # NOTE: a fresh interpreter: this test process may have imported paramiko already.
    argv = [sys.executable, "-W", "ignore", "-c", LIST_ACTIONS]
    found = json.loads(subprocess.run(argv, capture_output=True, check=True, text=True).stdout)
    assert {"std.ssh", "std.ssh_proxied"} <= set(found["names"])
    assert "paramiko" not in found["modules"]
