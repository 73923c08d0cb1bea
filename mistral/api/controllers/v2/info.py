"""``/v2/info``: which version and build this service runs and what its process serves (not in Mistral 23).

``version`` is the package version, ``build`` the git commit the package was built from
(the version when the build did not know it), ``services`` what ``mistral-server`` runs in
the process that answers (api, engine, executor...; a reader process passes the request to
the engine's process). Like Mistral's ``/info``, off unless ``[api] enable_info_endpoint``.
"""

from __future__ import annotations

from typing import Any

from mistral import process_info
from mistral.api import contract
from mistral.api.errors import RequestError
from mistral.config import CONF


class InfoController:
    @contract.expose(
        "The service's version, build and services (when enabled)",
        returns=contract.FreeForm("version, build, commit and services"),
    )
    def index(self) -> dict[str, Any]:
        if not CONF.api.enable_info_endpoint:
            raise RequestError("Info endpoint disabled.")
        return process_info.describe()
