"""The short form of the crash trials: 5 trials on real processes (tests/chaos/__init__.py has the rules).

A missing PostgreSQL or RabbitMQ fails it under CI=true and skips it elsewhere, like the
integration tests. ``MISTRAL_CHAOS_SEED`` picks the faults; by default each run draws a new
seed, so every change meets other faults, and a failure names its seed to replay it with
``python -m tests.chaos --trials 5 --seed N``.
"""

from __future__ import annotations

import io
import os
import pathlib
import random

import pytest

from tests.chaos.harness import Harness, Settings
from tests.conftest import PG_ADMIN_URL, service_missing
from tests.integration.cluster import RABBIT_URL

pytestmark = [pytest.mark.postgres, pytest.mark.rabbit]

TRIALS = 5


@pytest.mark.timeout(420)
def test_five_crash_trials_leave_every_side_effect_done_exactly_once(tmp_path: pathlib.Path) -> None:
    seed = int(os.environ.get("MISTRAL_CHAOS_SEED") or random.randrange(1, 10**6))
    settings = Settings(
        trials=TRIALS,
        seed=seed,
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
    assert not problems, f"seed {seed}\n{out.getvalue()}\n{harness.summary()}"
