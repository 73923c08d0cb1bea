"""Crash trials: is every side effect done exactly once while processes die and connections drop?

Run ``python -m tests.chaos --trials 50 --seed N [--keep-going]`` (PostgreSQL and RabbitMQ on
127.0.0.1, as for tests/integration), or the short pytest form ``MISTRAL_CHAOS=1 pytest tests/chaos``.

The cluster
    api, ``engine`` and ``engine-b``, executors ``exec-a`` and ``exec-b``: five ``mistral-server``
    processes (tests/integration/cluster.py) on a fresh database and a private RabbitMQ vhost,
    with fault detection made short (``harness.OPTIONS``: heartbeats every 1 s, 5 may be missed,
    unsent work re-sent after 3 s, a dead engine's claimed jobs taken over after 5 s). They live
    across trials; only what a trial killed is restarted.

A trial
    starts ``--per-kind`` executions (default 2) of each workflow of ``workflows.MIX``: a chain, a
    with-items of 10 (concurrency 3), a fan-out of 5 with a join, a ``wait-before: 2``, a
    sub-workflow, a retry (the server fails the first two calls; ``retry: count 3, delay 1``) and an
    async ``std.mistral_http`` the harness completes through the API (``PUT
    /v2/action_executions/<id>``) ``--async-delay`` seconds after its hook was called, retrying while
    the api is down. Every action calls the side-effect server (``sideeffects.py``) with a key unique
    to the execution and task (and item), so each call is counted; the server counts a call when it
    arrives and answers 0 to 2 x ``--action-time`` seconds (1) later, so kills land on actions in
    flight, and some actions end before their executor's first heartbeat (1 s), some after.
    Within ``--fault-window`` seconds of the start it SIGKILLs one process (two at once in a quarter
    of the trials), restarts it 1-3 s later, and, at another random moment, terminates every
    server-side backend of the trial's database (``pg_terminate_backend``).
    ``faults.Plan.draw`` decides all of it from the seed.

The rules, per execution (``checks.check``); an execution that breaks one is a problem:
    1. It exists: every execution the api accepted is still there. Otherwise **lost**.
    2. It is terminal (SUCCESS, ERROR or CANCELLED) no later than ``--stuck-after`` seconds (60)
       after the faults are over (the last restarted process is up again).
       Otherwise **stuck** (and nothing else is checked).
    3. A key is never hit more often than allowed, whatever the execution's state. Otherwise
       **duplicated**. Allowed: 1 (3 for the retry key), plus one for each executor killed in the
       trial when the key's task is ``safe-rerun: true`` (the engine may rerun an action whose
       executor went silent) or is the retry task (an attempt lost with its executor fails, and the
       retry policy calls again). Killing an engine, the api or database connections allows nothing:
       none of them runs actions, so none of them may cause a second call. The async hook is not
       safe-rerun: calling it again is a duplicate even if the first call's action never finished.
    4. A SUCCESS has hit every key at least as often as the workflow means (1; 3 for the retry
       key). Otherwise **lost**: the workflow says it did work that never happened.
    5. A SUCCESS has the right output (the keys its tasks published, in order; the retry count the
       server saw). Otherwise **wrong**.
    6. An ERROR is right only when it is explained by a kill: an executor was killed in this trial
       and a task *without* safe-rerun (or one of its actions), in the execution or its
       sub-workflow, says the engine failed it as silent (``Heartbeat lost``). A safe-rerun task
       failed that way is **wrong**: the engine should have run it again (architecture rule 4). Its keys
       are then checked against rule 3 only (tasks after the failure never ran). Any other ERROR, and
       any CANCELLED (nobody cancels anything here), is **wrong**.
    Besides: a process that exits without being killed, or does not come back within 60 s of its
    restart, is **crashed** (and is restarted before the next trial).

    Which tasks are safe-rerun (``workflows.MIX`` records it per key): chain a and b (c, d not);
    every with-items iteration; the fan-out's join (start and b0-b4 not); wait's ``after`` (``late``
    not); async's ``after`` (the hook not); neither task of the sub-workflow case; not the retry task.

What it reports
    per trial: the faults (what was killed when, for how long, when it was up again; how many
    backends were terminated), the seconds from each restarted process being up to the moment every
    execution of the trial was terminal (negative: they all finished before it was back), and the
    problems with their execution and action execution ids and the log lines naming them (plus log
    tails for the first few such trials). At the end, keys hit again after their trial was checked
    (late re-sends) are added as duplicates. ``--keep-going`` runs every trial and prints a summary
    table; without it the run stops after the first trial with a problem. The exit code is 1 when
    anything was found, and then the work dir (logs, configuration, ``chaos-report.json``) and the
    database are kept.
"""
