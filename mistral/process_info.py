"""What this process is: the package version, the build it came from and the services it runs.

``GET /v2/info`` answers with ``describe()``. The build is the git commit the package was
built from, when the build could tell (``setup.py`` writes ``mistral/_build.py`` into the
wheel); otherwise the package version stands for it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Sequence
from typing import Any

#: The distribution name of this package.
DISTRIBUTION = "mistral-ws"

_services: list[str] = []


def set_services(names: Sequence[str]) -> None:
    """The services ``mistral-server`` started in this process (api, engine, executor...)."""
    _services[:] = list(names)


def services() -> list[str]:
    return list(_services)


def version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"  # a source tree that was never installed


def commit() -> str | None:
    """The git commit the installed package was built from, or None when the build did not know it."""
    try:
        build = importlib.import_module("mistral._build")
    except ImportError:
        return None
    return getattr(build, "COMMIT", None) or None


def describe() -> dict[str, Any]:
    """``{"version", "build", "commit", "services"}``: ``build`` is the commit, else the version."""
    sha = commit()
    return {"version": version(), "build": sha or version(), "commit": sha, "services": services()}
