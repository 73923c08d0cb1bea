"""The security context travels as plain data, and secrets never reach a log."""

from __future__ import annotations

import json
import logging

import pytest

from mistral import context
from mistral.utils.redact import masked, redact


def test_a_context_survives_the_trip_through_json() -> None:
    ctx = context.Context(
        project_id="p1", user_id="u1", auth_token="tok", roles=("admin", "member"), is_admin=True
    )
    data = ctx.to_dict()
    assert data["roles"] == ["admin", "member"]
    assert set(data) == set(context.Context.__dataclass_fields__)
    assert context.Context.from_dict(json.loads(json.dumps(data))) == ctx


def test_secret_looking_keys_are_masked_at_any_depth() -> None:
    value = {"user": "me", "password": "p", "nested": [{"auth_token": "t", "ok": 1}]}
    assert redact(value) == {"user": "me", "password": "***", "nested": [{"auth_token": "***", "ok": 1}]}
    assert value["password"] == "p"  # a copy: the original is untouched


def test_masked_redacts_only_when_the_record_is_written(caplog: pytest.LogCaptureFixture) -> None:
    class Exploding(dict):
        def items(self) -> list:  # redacting this value fails the test
            raise AssertionError("redacted although the record was not written")

    log = logging.getLogger("mistral.test.masked")
    with caplog.at_level(logging.INFO, logger="mistral.test.masked"):
        log.debug("dropped %s", masked(Exploding(secret="s")))
    with caplog.at_level(logging.DEBUG, logger="mistral.test.masked"):
        log.debug("written %s", masked({"secret": "s", "n": 1}))
    assert caplog.messages == ["written {'secret': '***', 'n': 1}"]
