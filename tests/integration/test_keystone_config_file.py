"""``mistral-server --config-file`` behind Keystone, as an operator runs it.

The regression: keystonemiddleware was built with ``oslo_config_project`` only, read its own copy
of the default config files and never saw ``[keystone_authtoken]`` of ``--config-file``; every
request then answered 500 (``MissingAuthPlugin``). Here the one file holds ``[pecan] auth_enable``
and ``[keystone_authtoken]``: no token is a 401, a real token a 200.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
import requests

from tests.functional.tenancy import PROJECT_A, keystone, keystone_authtoken, password_session  # noqa: F401
from tests.integration import processes
from tests.integration.processes import Process
from tests.polling import wait_for

START_TIMEOUT = 45.0


@pytest.fixture
def server_behind_keystone(keystone: str, tmp_path: pathlib.Path) -> Iterator[str]:  # noqa: F811
    port = processes.free_port()
    config = processes.write_config(
        tmp_path / "mistral.conf",
        {
            "DEFAULT": {"data_dir": tmp_path / "data"},
            "api": {"host": "127.0.0.1", "port": port},
            "pecan": {"auth_enable": "true"},
            "keystone_authtoken": keystone_authtoken(keystone),
        },
    )
    processes.migrate(config)
    argv = [processes.MISTRAL_SERVER, "--config-file", str(config), "--server", "all"]
    server = Process("all", argv, tmp_path / "server.log", tmp_path)
    server.start()
    url = f"http://127.0.0.1:{port}/v2"
    try:
        # NOTE: any status means it listens (a Response of a 401 is falsy); the test checks which.
        wait_for(f"GET {url}/workflows", lambda: requests.get(f"{url}/workflows", timeout=2).status_code,
                 START_TIMEOUT, check=server.check_alive)  # fmt: skip
        yield url
    except BaseException:
        print(server.tail())
        raise
    finally:
        processes.stop_all([server])


def test_the_config_file_configures_keystonemiddleware(server_behind_keystone: str) -> None:
    url = server_behind_keystone
    resp = requests.get(f"{url}/workflows", timeout=30)
    assert resp.status_code == 401, resp.text
    assert resp.headers["Server-Error-Message"]

    token = password_session(f"{PROJECT_A}-member", PROJECT_A).get_token()
    resp = requests.get(f"{url}/workflows", headers={"X-Auth-Token": token}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert "workflows" in resp.json()
    resp = requests.get(f"{url}/workflows", headers={"X-Auth-Token": "not-a-token"}, timeout=30)
    assert resp.status_code == 401, resp.text
