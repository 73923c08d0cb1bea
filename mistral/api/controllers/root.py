"""``/`` and the version document."""

from __future__ import annotations

from typing import Any

import pecan

from mistral.api import contract
from mistral.api.controllers import info
from mistral.api.controllers.v2 import root as v2_root


class RootController:
    v2 = v2_root.V2Controller()
    info = info.InfoController()

    @contract.expose("The API versions", returns=contract.FreeForm("The API versions"))
    def index(self) -> dict[str, Any]:
        host = pecan.request.application_url
        return {
            "versions": [
                {
                    "id": "v2.0",
                    "status": "CURRENT",
                    "links": [{"href": f"{host}/v2", "target": "v2", "rel": "self"}],
                }
            ]
        }
