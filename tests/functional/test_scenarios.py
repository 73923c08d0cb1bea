"""Every scenario in tests/fixtures/scenarios/, run end to end over the REST API."""

from __future__ import annotations

import pytest

from tests.functional.conftest import Server
from tests.functional.scenario_support import all_scenario_names, check, load_scenario, run_scenario


@pytest.mark.parametrize("name", all_scenario_names())
def test_scenario(name: str, api: Server) -> None:
    scenario = load_scenario(name)
    outcome = run_scenario(api.v2, scenario)
    assert check(outcome, scenario) == [], scenario.description
