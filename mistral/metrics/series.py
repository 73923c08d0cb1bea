"""Every Prometheus series of the service, in this process's default registry.

Names follow Prometheus' conventions: ``mistral_`` first, base units (seconds), ``_total`` on
counters. Labels are a handful of fixed values (states, executor hosts, RPC methods, job
names), never ids: an execution id as a label would make a series per execution.

NOTE on cost: recording is an increment or a histogram bucket under a lock (about a
microsecond); the engine records once per task, execution or result batch, never per
database row, and what a transaction saw is recorded only after it committed (see
``mistral.engine.outbox``), so a unit of work run again after a transient error counts once.
"""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram

#: Seconds, from a quick action to an hour-long one.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
#: Seconds the engine may take over a batch of results: milliseconds when well.
APPLY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: Seconds of the engine's share of a hop: about a millisecond when well, so finer below 10 ms.
HOP_BUCKETS = (
    0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5,
    1, 2.5,
)  # fmt: skip
#: Seconds a scheduled job may wait past its due time: the loop polls about every second.
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900)

EXECUTIONS_STARTED = Counter(
    "mistral_executions_started",
    "Workflow executions created (sub-workflows included)",
)
EXECUTIONS_FINISHED = Counter(
    "mistral_executions_finished",
    "Workflow executions that reached a final state (again after a re-run)",
    ["state"],
)
TASK_DURATION = Histogram(
    "mistral_task_duration_seconds",
    "Seconds from a task's start to its final state",
    ["state"],
    buckets=DURATION_BUCKETS,
)
ACTION_DURATION = Histogram(
    "mistral_action_duration_seconds",
    "Seconds an executor ran an action (asynchronous actions: until they started)",
    ["state"],
    buckets=DURATION_BUCKETS,
)
ACTIONS_QUEUED = Gauge(
    "mistral_executor_actions_queued",
    "Actions an executor accepted and has not started yet",
    ["executor"],
)
ACTIONS_RUNNING = Gauge(
    "mistral_executor_actions_running",
    "Actions an executor is running now",
    ["executor"],
)
RESULTS_APPLIED = Counter(
    "mistral_engine_results_applied",
    "Action results the engine applied (repeats and late arrivals ignored are not counted)",
)
APPLY_LATENCY = Histogram(
    "mistral_engine_apply_seconds",
    "Seconds from a batch of action results reaching the engine to its transaction's commit",
    buckets=APPLY_BUCKETS,
)
HOP_LATENCY = Histogram(
    "mistral_engine_hop_seconds",
    "Seconds from action results reaching the engine to the send of the actions they caused: the "
    "engine's share of a hop (GET /v2/engine_stats gives the percentiles of one engine)",
    buckets=HOP_BUCKETS,
)
WORK_CLAIMS = Histogram(
    "mistral_work_item_claim_seconds",
    "Seconds an external worker's claim took in this process, from its first look to its answer "
    "(a long-poll's wait for items included), by whether it took items",
    ["outcome"],
    buckets=APPLY_BUCKETS,
)
SCHEDULER_LAG = Histogram(
    "mistral_scheduler_lag_seconds",
    "Seconds from a scheduled job's due time to the moment a scheduler claimed it",
    ["job"],
    buckets=LAG_BUCKETS,
)
DB_RETRIES = Counter(
    "mistral_db_transaction_retries",
    "Units of work run again after a transient database error (deadlock, busy, lost connection)",
)
RPC_TIMEOUTS = Counter(
    "mistral_rpc_timeouts",
    "RPC calls that got no answer in time",
    ["topic", "method"],
)


# NOTE: ``labels()`` takes a lock and builds a key on every call; the few label values of the
# hot paths are looked up once.


@functools.cache
def executions_finished(state: str) -> Counter:
    return EXECUTIONS_FINISHED.labels(state)


@functools.cache
def task_duration(state: str) -> Histogram:
    return TASK_DURATION.labels(state)


@functools.cache
def action_duration(state: str) -> Histogram:
    return ACTION_DURATION.labels(state)


@functools.cache
def work_claims(outcome: str) -> Histogram:
    return WORK_CLAIMS.labels(outcome)
