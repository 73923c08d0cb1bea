"""bench/client.py: the server URL and the JSON-in-a-string fields of Mistral."""

from __future__ import annotations

import pytest

from bench import client


def test_the_v2_suffix_and_trailing_slashes_are_dropped() -> None:
    assert client.normalize_url(" http://127.0.0.1:9101/v2/ ") == "http://127.0.0.1:9101"
    with pytest.raises(SystemExit):
        client.normalize_url("127.0.0.1:9101")


def test_json_fields_are_decoded_when_they_are_json() -> None:
    assert client.json_field('{"n": 3}') == {"n": 3}
    assert client.json_field("not json") == "not json"
    assert client.json_field({"n": 3}) == {"n": 3}


def test_a_request_outside_the_server_is_refused() -> None:
    with pytest.raises(ValueError):
        client.Client("http://127.0.0.1:9", 1.0).call("GET", "http://elsewhere/")
