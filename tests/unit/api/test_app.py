"""The middleware around the controllers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from keystonemiddleware import auth_token

from mistral import config
from mistral.api import app as api_app


@pytest.fixture
def authtoken_uri() -> Iterator[str]:
    uri = "http://keystone.example:5000/v3"
    for group, opts in auth_token.list_opts():
        config.CONF.register_opts(opts, group=group)
    config.CONF.set_override("www_authenticate_uri", uri, group="keystone_authtoken")
    yield uri
    config.CONF.clear_override("www_authenticate_uri", group="keystone_authtoken")


def test_keystone_middleware_reads_the_service_configuration(authtoken_uri: str) -> None:
    # [keystone_authtoken] comes from the files mistral-server was given (--config-file), which are
    # the service's configuration object, not the default files a private copy would read.
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return []

    middleware = api_app._with_keystone(app)
    assert middleware._conf.get("www_authenticate_uri") == authtoken_uri
