"""The short form of the crash trials: 5 trials on real processes (tests/chaos/__init__.py has the rules).

Off unless ``MISTRAL_CHAOS=1``: today's engine does not pass it yet (issue 8). When on, a
missing PostgreSQL or RabbitMQ fails it under CI=true and skips it elsewhere, like the
integration tests. ``MISTRAL_CHAOS_SEED`` picks the faults (default 8).
"""

from __future__ import annotations

import io
import os
import pathlib

import pytest

from tests.chaos.harness import Harness, Settings
from tests.conftest import PG_ADMIN_URL, service_missing
from tests.integration.cluster import RABBIT_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.rabbit,
    pytest.mark.skipif(
        os.environ.get("MISTRAL_CHAOS") != "1", reason="crash trials run with MISTRAL_CHAOS=1"
    ),
]

TRIALS = 5


@pytest.mark.timeout(420)
def test_five_crash_trials_leave_every_side_effect_done_exactly_once(tmp_path: pathlib.Path) -> None:
    settings = Settings(
        trials=TRIALS,
        seed=int(os.environ.get("MISTRAL_CHAOS_SEED", "8")),
        keep_going=True,
        stuck_after=30.0,
        workdir=tmp_path / "chaos",
        admin_url=PG_ADMIN_URL,
        rabbit_url=RABBIT_URL,
    )
    out = io.StringIO()
    harness = Harness(settings, out=out)
    try:
        harness.check_services()
    except Exception as error:  # noqa: BLE001 - any failure to reach a service means "missing"
        harness.stop(keep=False)
        service_missing("PostgreSQL or RabbitMQ", error)
    problems = True
    try:
        harness.start()
        harness.run()
        problems = any(r.problems for r in harness.results)
    finally:
        harness.stop(keep=problems, keep_database=False)
    assert not problems, f"{out.getvalue()}\n{harness.summary()}"
