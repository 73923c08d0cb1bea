"""``GET /info`` (build information) and the version documents at ``/`` and ``/v2``, through REST."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import requests

from tests.functional.conftest import Server

BUILD = {"build": {"version": "1.2.3", "commit": "abc123", "built_at": "2026-11-29T15:00:00Z"}, "extra": [1]}


def _info(server: Server) -> requests.Response:
    return requests.get(f"{server.url}/info", timeout=30)


def test_info_is_off_by_default(server: Server) -> None:
    resp = _info(server)
    assert resp.status_code == 400
    assert resp.json()["faultstring"] == "Info endpoint disabled."


def test_info_answers_the_configured_file(server: Server, override_conf: Any, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "info.json"
    path.write_text(json.dumps(BUILD))
    override_conf("api", "enable_info_endpoint", True)
    override_conf("api", "info_json_file_path", str(path))
    resp = _info(server)
    assert resp.status_code == 200, resp.text
    assert resp.json() == BUILD
    # Read on every request: a redeploy that rewrites the file needs no restart.
    path.write_text(json.dumps({"build": {"version": "1.2.4"}}))
    assert _info(server).json() == {"build": {"version": "1.2.4"}}


def test_info_with_a_missing_or_broken_file_is_400(
    server: Server, override_conf: Any, tmp_path: pathlib.Path
) -> None:
    override_conf("api", "enable_info_endpoint", True)
    override_conf("api", "info_json_file_path", str(tmp_path / "nowhere.json"))
    missing = _info(server)
    assert (missing.status_code, missing.json()["faultstring"]) == (400, "Incorrect path to info json file.")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    override_conf("api", "info_json_file_path", str(broken))
    resp = _info(server)
    assert resp.status_code == 400 and "broken.json" in resp.json()["faultstring"], resp.text


def test_version_documents(server: Server) -> None:
    root = requests.get(f"{server.url}/", timeout=30).json()
    assert root == {
        "versions": [
            {
                "id": "v2.0",
                "status": "CURRENT",
                "links": [{"href": f"{server.v2}", "target": "v2", "rel": "self"}],
            }
        ]
    }
    assert requests.get(f"{server.v2}", timeout=30).json() == {"uri": server.v2}
