"""``/v2/info``: which version and build this service runs and what its process serves (not in Mistral 23).

``version`` is the package version, ``build`` the git commit the package was built from
(the version when the build did not know it), ``services`` what ``mistral-server`` runs in
the process that answers (api, engine, executor...; a reader process passes the request to
the engine's process). Always served, to callers the API lets in: unlike Mistral's ``/info`` (the
build file an operator chose to publish, off unless ``[api] enable_info_endpoint``), it names only
this package's own version and what the process runs.
"""

from __future__ import annotations

from typing import Any

from mistral import process_info
from mistral.api import contract


class InfoController:
    @contract.expose(
        "The service's version, build and the services of the process that answers",
        returns=contract.FreeForm("version, build, commit and services"),
    )
    def index(self) -> dict[str, Any]:
        return process_info.describe()
