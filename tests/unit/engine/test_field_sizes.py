"""A value measured against [engine] execution_field_size_limit_kb and stored: encoded once."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from mistral.engine import data_flow
from mistral.exceptions import InputError


@pytest.mark.parametrize("limit_kb", [1, -1])
def test_checked_json_is_the_stored_encoding_refused_past_the_limit(
    limit_kb: int, override_conf: Any
) -> None:
    override_conf("engine", "execution_field_size_limit_kb", limit_kb)
    value = {"when": datetime.date(2026, 1, 2), "text": "é"}
    assert data_flow.checked_json("input", value) == json.dumps(value, default=str)
    big = {"text": "x" * 1100}
    if limit_kb < 0:
        assert data_flow.checked_json("input", big) == json.dumps(big)
    else:
        with pytest.raises(InputError, match=r"\[field=input, size=1KB, limit=1KB\]"):
            data_flow.checked_json("input", big)
