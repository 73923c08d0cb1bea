"""The request object of the Pecan application."""

from __future__ import annotations

from typing import Any

import pecan

from mistral.api import middleware


class Request(pecan.Request):
    """Pecan's request, whose ``json`` is the body decoded once per request (``middleware.request_json``)."""

    @property
    def json(self) -> Any:
        return middleware.request_json(self)

    json_body = json
