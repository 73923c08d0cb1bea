"""``/info``: the build information an operator's build wrote to a JSON file, as Mistral 23 serves it.

Off unless ``[api] enable_info_endpoint``; the document is whatever JSON the file
named by ``[api] info_json_file_path`` holds, read on every request so a redeploy
that rewrites it needs no restart.
"""

from __future__ import annotations

import json
from typing import Any

from mistral.api import contract
from mistral.api.errors import RequestError
from mistral.config import CONF


class InfoController:
    @contract.expose("Build information (when enabled)", returns=contract.FreeForm("The info JSON file"))
    def index(self) -> Any:
        if not CONF.api.enable_info_endpoint:
            raise RequestError("Info endpoint disabled.")
        path = CONF.api.info_json_file_path
        try:
            with open(path, encoding="utf-8") as stream:
                return json.load(stream)
        except FileNotFoundError as exc:
            raise RequestError("Incorrect path to info json file.") from exc
        except (OSError, ValueError) as exc:
            raise RequestError(f"The info json file {path} cannot be read: {exc}") from exc
