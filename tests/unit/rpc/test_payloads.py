"""Action requests on the wire: every field there and back, unknown keys ignored."""

from __future__ import annotations

import dataclasses

from mistral.rpc.payloads import ActionRequest


def test_a_request_goes_there_and_back_with_every_field() -> None:
    request = ActionRequest("a1", "std.echo", {"output": 1}, target="t", timeout=2.0, reply_to="engine-1")
    data = request.to_dict()
    assert list(data) == [f.name for f in dataclasses.fields(ActionRequest)]
    assert ActionRequest.from_dict({**data, "from_a_newer_engine": 1}) == request
