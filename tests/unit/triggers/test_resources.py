"""The cron trigger resource renders as Mistral's JSON."""

from __future__ import annotations

import json

from mistral.api.controllers.v2.trigger_resources import CronTrigger


def test_sample_round_trips_with_json_string_fields() -> None:
    rendered = CronTrigger.sample().to_json()
    assert json.loads(rendered["workflow_input"]) == {"volume": "data"}
    assert json.loads(rendered["workflow_params"]) == {"env": {"region": "RegionOne"}}
    assert rendered["remaining_executions"] == 42
    assert set(rendered) == set(CronTrigger.field_names())
