#!/usr/bin/env python3
"""Benchmarks for any server speaking the Mistral v2 REST API.

Only the public REST API is used (through ``requests``); nothing is imported
from the ``mistral`` package, so the same script measures our service and the
real OpenStack Mistral. See bench/README.rst for the workloads and targets.

    python bench/run.py --url http://127.0.0.1:8989 [--workload NAME ...]
                        [--json results.json] [--timeout S] [--dry-run]

This file is only the entry point; the command line itself is ``bench.cli``.
"""

from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script: bench/ is sys.path[0], its parent holds the package
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
