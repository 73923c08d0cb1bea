"""The engine's operations: each is one transaction, and its outbox leaves after commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from mistral import config
from mistral.db import api as db_api
from mistral.db import models
from mistral.db.types import utcnow
from mistral.engine import (
    action_owners,
    action_requests,
    action_results,
    adhoc_runs,
    cascades,
    controls,
    handover,
    hop_latency,
    mocked_actions,
    tallies,
    task_records,
    tasks,
    with_items,
    work_queue,
    workflow_records,
    workflows,
)
from mistral.engine.run import WfRun, lock_run, lock_task
from mistral.engine.unit_of_work import unit_of_work
from mistral.exceptions import InputError, MistralError, NotFoundError, ServiceUnavailable
from mistral.scheduler import jobs
from mistral.services import environments, workflow_versions
from mistral.utils import json_objects, log_ids, uuids
from mistral.workflow import states

if TYPE_CHECKING:
    from mistral.engine.applier import Ticket

LOG = logging.getLogger(__name__)


#: Actions whose results are to be applied (ORM objects, or rows where many share a task) with their tasks.
Pairs = list[tuple[models.ActionExecution | db_api.ActionToApply, models.TaskExecution]]


class Take(NamedTuple):
    """One executor's request to take one action; ``request_id`` tells two copies apart.

    ``again``: the executor's earlier take of it got no answer (see ``take_action_executions``).
    """

    executor: str
    action_ex_id: str
    request_id: str
    again: bool = False


def _read_actions_with_tasks(action_ex_ids: list[str], task_count: int) -> Pairs:
    """The actions and their tasks, read again under the workflows' locks.

    NOTE: one statement when each action has a task of its own (a chain, a fan-out); when
    several share a task (with-items), a join would decode that task's row once per action.
    """
    if task_count == len(action_ex_ids):
        return list(db_api.find_actions_with_tasks(action_ex_ids))
    actions = db_api.find_actions_to_apply(action_ex_ids)
    # NOTE: only actions of tasks come here: each has its task's id.
    task_ids = [cast(str, a.task_execution_id) for a in actions]
    task_by_id = {t.id: t for t in db_api.find_task_executions_by_ids(list(set(task_ids)), fresh=True)}
    return [(a, task_by_id[task_id]) for a, task_id in zip(actions, task_ids, strict=True)]


def _ignored_worker_results(
    pairs: list[tuple[Any, dict[str, Any]]], outcomes: list[action_results.Outcome | None]
) -> set[int]:
    """Workers' results not applied (their action is no longer RUNNING): refused, as ``settle`` refuses."""
    return {
        id(result)
        for (_, result), outcome in zip(pairs, outcomes, strict=True)
        if outcome is None and work_queue.is_worker_result(result)
    }


def _lock_and_read(task_owned: dict[str, str], task_count: int) -> tuple[list[WfRun], dict[str, Pairs]]:
    """Lock the workflows of the actions ``task_owned`` (action id -> workflow id), then read the actions.

    NOTE: every workflow is locked first, in one statement and in id order (the order
    all engines lock in, so they cannot deadlock), and only then are the rows read:
    another engine may have applied results to them a moment ago.
    """
    by_wf: dict[str, Pairs] = defaultdict(list)
    wf_ex_ids = sorted(set(task_owned.values()))
    together = db_api.lock_workflows_reading_actions(wf_ex_ids, list(task_owned))
    if together is not None:
        for action_ex, task_ex, _ in together:
            by_wf[task_owned[action_ex.id]].append((action_ex, task_ex))
        return [WfRun(wf_ex) for _, _, wf_ex in together], by_wf
    locked = db_api.lock_workflow_executions(wf_ex_ids)
    for action, task_ex in _read_actions_with_tasks(list(task_owned), task_count):
        by_wf[task_owned[action.id]].append((action, task_ex))
    return [WfRun(wf_ex) for wf_ex in locked], by_wf


def _started(wf_ex: models.WorkflowExecution) -> dict[str, Any]:
    """A start's answer: the id, and the state the start commits (the API answers with that state)."""
    return {"id": wf_ex.id, "state": wf_ex.state, "state_info": wf_ex.state_info}


class Engine:
    """Everything an engine does, as the RPC endpoint and the scheduler call it."""

    def __init__(self) -> None:
        #: the engine server's results applier, once it runs here: workers' results join its batches
        self._batched: Callable[[list[Any], float], Ticket] | None = None

    # -- workflows -----------------------------------------------------------

    def start_workflow(self, wf_identifier: str, wf_namespace: str = "", wf_ex_id: str | None = None,
                       wf_input: dict[str, Any] | None = None, description: str = "",
                       params: dict[str, Any] | None = None,
                       send_first_step: bool = True,
                       wf_input_json: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Create and start an execution; answers its ``id``.

        A first step that fans out runs after the answer (``run_first_steps``); with
        ``send_first_step`` False the caller sends it, and the answer says so
        (``first_step_pending``). A lost message is the recovery loop's (architecture rule 2).
        ``wf_input_json`` is the input as the JSON text a client sent, read here instead of ``wf_input``.
        """
        if wf_ex_id:
            existing = db_api.load_workflow_execution(wf_ex_id)
            if existing is not None:
                return {"id": existing.id, "existing": True}
        if wf_input_json is not None:
            wf_input = json_objects.parse_json_object(wf_input_json, "input")
        # NOTE: the id is chosen once for every run of the unit of work: its expressions
        # see it (``execution().id``), and a run again takes their outcomes by what they saw.
        return db_api.run_with_retry(
            self._start_workflow, wf_identifier, wf_namespace, wf_ex_id or uuids.generate(),
            wf_input, description, params, send_first_step,
        )  # fmt: skip

    def _start_workflow(self, wf_identifier: str, wf_namespace: str, wf_ex_id: str,
                        wf_input: dict[str, Any] | None, description: str,
                        params: dict[str, Any] | None, send_first_step: bool) -> dict[str, Any]:  # fmt: skip
        params = dict(params or {})
        params.setdefault("namespace", wf_namespace or "")
        # NOTE: the definition is looked up as the caller, who may only use what they can see.
        wf_def = db_api.find_workflow_definition(wf_identifier, list(dict.fromkeys([wf_namespace or "", ""])))
        params["env"] = environments.variables_of(params.get("env"))
        version = None
        if workflow_versions.PARAM in params:
            version = workflow_versions.version_of(wf_def, params[workflow_versions.PARAM])
        mocked_actions.check_start(wf_def, version, params)
        # NOTE: a first step with with-items may launch any number of actions: it runs after the
        # answer, in run_first_steps. Any other runs here, as Mistral's does: clients (Tempest among
        # them) expect the first tasks to be listed as soon as the start has answered.
        # Urgent: its caller waits for the answer; under 50 starts at once, queued behind the
        # running executions' result batches, their POST p50 was about twice as long.
        with unit_of_work(urgent=True) as box:
            wf_ex = workflow_records.create_execution(
                wf_def, wf_input or {}, params, wf_ex_id=wf_ex_id, description=description or "",
                first_step_done=False, version=version,
            )  # fmt: skip
            run = WfRun(wf_ex)
            if not workflows.first_step_fans_out(run):
                workflows.run_first_step(run)
                return _started(wf_ex)
            if send_first_step:
                box.first_steps.append(wf_ex.id)
                return _started(wf_ex)
            return {**_started(wf_ex), "first_step_pending": True}

    def run_first_steps(self, wf_ex_ids: list[str]) -> None:
        """Run the first step of executions started a moment ago (or left unstarted by a crash), once."""
        for wf_ex_id in wf_ex_ids:
            try:
                self._run_first_step(wf_ex_id)
            except NotFoundError:
                LOG.info("Execution %s to start is gone (deleted)", wf_ex_id)
            except Exception as error:  # noqa: BLE001 - a bug or a lasting fault fails this start, once
                LOG.exception("The first step of execution %s failed", wf_ex_id)
                self._fail_start(wf_ex_id, error)

    @db_api.retry_on_transient
    def _fail_start(self, wf_ex_id: str, error: Exception) -> None:
        """Without this, recovery would find the execution unstarted and run the failing step forever."""
        with unit_of_work():
            run = lock_run(wf_ex_id)
            if run.wf_ex.first_step_done or run.wf_ex.state != states.RUNNING:
                return
            run.wf_ex.first_step_done = True
            workflows.finish(run, states.ERROR, f"Failed to start the workflow: {error}")

    @db_api.retry_on_transient
    def _run_first_step(self, wf_ex_id: str) -> None:
        with unit_of_work():
            run = lock_run(wf_ex_id)
            if run.wf_ex.first_step_done:
                return  # NOTE: a second copy of the message, or recovery and the message both: once only
            if states.is_completed(run.wf_ex.state):
                run.wf_ex.first_step_done = True  # stopped before it started: nothing to run
                return
            if run.wf_ex.state != states.RUNNING:
                return  # NOTE: paused before its first step: resuming runs it
            try:
                workflows.run_first_step(run)
            except MistralError as error:
                workflows.finish(run, states.ERROR, f"Failed to start the workflow: {error}")

    @db_api.retry_on_transient
    def pause_workflow(self, wf_ex_id: str) -> dict[str, Any]:
        with unit_of_work():
            run = lock_run(wf_ex_id)
            if run.wf_ex.state == states.RUNNING:
                workflows.pause(run, "Paused by the user")
            elif run.wf_ex.state != states.PAUSED:
                raise InputError(f"Can't pause execution {wf_ex_id} in state {run.wf_ex.state}")
            return {"id": wf_ex_id}

    @db_api.retry_on_transient
    def resume_workflow(self, wf_ex_id: str, env: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume; the answer names the state the resume left (RUNNING, or done if nothing was left)."""
        with unit_of_work():
            run = lock_run(wf_ex_id)
            controls.resume(run, env)
            return {"id": wf_ex_id, "state": run.wf_ex.state}

    @db_api.retry_on_transient
    def stop_workflow(self, wf_ex_id: str, state: str, message: str | None = None) -> dict[str, Any]:
        with unit_of_work():
            controls.stop(lock_run(wf_ex_id), state, message)
            return {"id": wf_ex_id}

    @db_api.retry_on_transient
    def rerun_task(
        self, task_ex_id: str, reset: bool = True, env: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        with unit_of_work():
            run, task_ex = self._lock_with_ancestors(task_ex_id)
            controls.rerun(run, task_ex, reset, env)
            # NOTE: the state the re-run left (the API answers with it: see _as_resumed there)
            return {"id": task_ex_id, "state": task_ex.state}

    @db_api.retry_on_transient
    def skip_task(self, task_ex_id: str) -> dict[str, Any]:
        with unit_of_work():
            run, task_ex = self._lock_with_ancestors(task_ex_id)
            controls.skip(run, task_ex)
            return {"id": task_ex_id}

    @classmethod
    def _lock_with_ancestors(cls, task_ex_id: str) -> tuple[WfRun, models.TaskExecution]:
        """Lock a task the user acts on; its workflow's ancestors run again (see ``_reopen_ancestors``)."""
        run, task_ex = lock_task(task_ex_id)
        cls._reopen_ancestors(run.wf_ex)
        # NOTE: the ancestors' runs named themselves in the log ids: the lines to come are this task's
        log_ids.set_execution(run.wf_ex.id)
        log_ids.set_task(task_ex.id)
        return run, task_ex

    @staticmethod
    def _reopen_ancestors(wf_ex: models.WorkflowExecution) -> None:
        """A sub-workflow runs again: its parent task and parent workflows run again too."""
        while wf_ex.task_execution_id:
            _, parent_task = lock_task(wf_ex.task_execution_id)
            parent = db_api.get_workflow_execution(parent_task.workflow_execution_id)
            if wf_ex.reported_to_parent:
                # NOTE: its failure was counted by the parent task; it reports again when it ends.
                wf_ex.reported_to_parent = False
                if task_records.runtime(parent_task).with_items is not None:
                    with_items.take_back_failed_item(parent_task)
            if parent_task.state in (states.ERROR, states.CANCELLED):
                task_records.set_state(parent_task, states.RUNNING)
                parent_task.processed, parent_task.error_handled, parent_task.state_info = False, False, None
            controls.reopen(parent)
            wf_ex = parent

    # -- actions -------------------------------------------------------------

    @db_api.retry_on_transient
    def on_action_results(self, results: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Apply a batch of action results; repeats and late arrivals are ignored (architecture rule 3).

        A ``started`` entry says an asynchronous action has begun: it awaits its
        callback from now on, and no more heartbeats. Answers the results accepted when
        an external worker's was refused (``work_queue.settle_all``), else None (all of them).
        """
        with unit_of_work():
            started = [r["action_ex_id"] for r in results if r.get("started")]
            if started:
                db_api.mark_async_actions_started(started)
            refused = work_queue.settle_all(results)
            by_id = {r["action_ex_id"]: r for r in results if not r.get("started") and id(r) not in refused}
            owners = action_owners.find(list(by_id))  # action id -> (task id, workflow execution id)
            for missing in set(by_id) - set(owners):
                LOG.warning("Result for unknown action execution %s ignored", missing)
            ad_hoc = [a for a, (task_id, _) in owners.items() if task_id is None]
            ad_hoc_pairs: list[tuple[models.ActionExecution | db_api.ActionToApply, dict[str, Any]]] = [
                (a, by_id[a.id]) for a in db_api.find_action_executions_by_ids(ad_hoc)
            ]
            refused |= _ignored_worker_results(ad_hoc_pairs, self._apply_results(ad_hoc_pairs))
            task_owned = {a: wf for a, (task, wf) in owners.items() if task is not None and wf is not None}
            task_count = len({owners[a][0] for a in task_owned})
            runs, by_wf = _lock_and_read(task_owned, task_count)
            for run in runs:
                log_ids.set_execution(run.wf_ex.id)
                pairs = by_wf[run.wf_ex.id]
                # NOTE: every result of the run is written first, in one statement (the items
                # of a with-items task arrive by the hundred), then the tasks move on: a task
                # that completes reads its actions' outputs from the database.
                with_results = [(action_ex, by_id[action_ex.id]) for action_ex, _ in pairs]
                outcomes = self._apply_results(with_results)
                refused |= _ignored_worker_results(with_results, outcomes)
                with handover.offering(handover.offer_in([r for _, r in with_results]), run.wf_ex.id):
                    self._move_on(run, pairs, outcomes)
        return [r for r in results if id(r) not in refused] if refused else None

    @staticmethod
    def _move_on(run: WfRun, pairs: Pairs, outcomes: list[action_results.Outcome | None]) -> None:
        """The tasks of the results applied move on; results applied before may be handed again."""
        repeated = [action_ex.id for (action_ex, _), out in zip(pairs, outcomes, strict=True) if out is None]
        handover.hand_again(repeated)
        for (action_ex, task_ex), applied in zip(pairs, outcomes, strict=True):
            if applied is not None:
                index = (action_ex.runtime_context or {}).get("index", 0)
                tasks.on_action_done(run, task_ex, index, applied.state, applied.value)
        workflows.proceed(run)

    def apply_results(self, results: list[dict[str, Any]]) -> None:
        """Results no executor sent (a test run's mocked actions), applied as executors' are."""
        self.on_action_results(results)

    @staticmethod
    def _apply_results(
        pairs: list[tuple[models.ActionExecution | db_api.ActionToApply, dict[str, Any]]],
    ) -> list[action_results.Outcome | None]:
        """Write the outcome of each running action; answer its outcome, None for a repeat (rule 3)."""
        outcomes: list[action_results.Outcome | None] = []
        for action_ex, result in pairs:
            if action_ex.state != states.RUNNING:
                LOG.info("Result for action execution %s in state %s ignored", action_ex.id, action_ex.state)
                outcomes.append(None)
                continue
            transforms = (action_ex.runtime_context or {}).get("transforms") or []
            outcomes.append(action_results.outcome(result, transforms))
        written = [(a, r, out) for (a, r), out in zip(pairs, outcomes, strict=True) if out is not None]
        columns = [(a, out.columns) for a, _, out in written]
        db_api.write_action_results(columns)
        # NOTE: a worker's result closed its item already, under the item's lock (work_queue.settle_all).
        ended = [(a, out.columns["state"]) for a, r, out in written if not work_queue.is_worker_result(r)]
        work_queue.close(ended)
        tallies.results_applied(len(columns))
        return outcomes

    def complete_action(
        self, action_ex_id: str, result: dict[str, Any], lease_token: str | None = None
    ) -> dict[str, Any]:
        """An asynchronous action's result (through the API); an external worker's may carry its lease."""
        action_ex = db_api.get_action_to_apply(action_ex_id)
        if work_queue.is_queued(action_ex):
            return self._complete_work(action_ex, result, lease_token)
        if action_ex.state != states.RUNNING:
            raise InputError(f"Action execution {action_ex_id} is {action_ex.state}, not RUNNING")
        self.on_action_results([{"action_ex_id": action_ex_id, **result}])
        return {"id": action_ex_id}

    def apply_results_through(self, apply: Callable[[list[Any], float], Ticket] | None) -> None:
        """Where workers' results go to be applied in batches (the engine server's results applier)."""
        self._batched = apply

    def _complete_work(
        self, action_ex: db_api.ActionToApply, result: dict[str, Any], lease_token: str | None
    ) -> dict[str, Any]:
        """A worker's result: accepted once, under its work item's lock, in the transaction applying it.

        NOTE: it joins the results applier's batches, so the results of many workers share one
        transaction as executors' do; the caller is answered only once that transaction committed.
        """
        entry = work_queue.result_entry(action_ex, result, lease_token)
        batched = self._batched
        if batched is None:
            accepted = self.on_action_results([entry])
            taken = accepted is None or any(a is entry for a in accepted)
        else:
            timeout = config.CONF.engine.results_apply_timeout
            ticket = batched([entry], timeout)
            if not ticket.wait(0):
                raise ServiceUnavailable(
                    f"The result of action execution {action_ex.id} was not applied within {timeout:g} s; "
                    "send it again (once applied, a repeat is refused with 409)"
                )
            taken = any(a is entry for a in ticket.accepted)
        if not taken:
            raise work_queue.refusal(action_ex.id, lease_token)
        return {"id": action_ex.id}

    @db_api.retry_on_transient
    def update_action(self, action_ex_id: str, state: str) -> dict[str, Any]:
        if state == states.CANCELLED:
            return self.complete_action(action_ex_id, {"cancel": True})
        with unit_of_work():
            action_ex = db_api.get_action_execution(action_ex_id)
            if states.check_transition(action_ex.state, state, "action"):
                action_ex.state = state
            return {"id": action_ex_id}

    def start_action(
        self,
        action_name: str,
        action_input: dict[str, Any],
        description: str = "",
        namespace: str = "",
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return adhoc_runs.start(action_name, action_input, description, namespace, params or {})

    @db_api.retry_on_transient
    def take_actions(self, takes: list[Take]) -> set[Take]:
        """Executors take actions before running them; answers the takes granted (architecture rule 7).

        An action is taken once: a copy delivered twice (even twice in this
        batch), or one already finished or cancelled, is refused, so only what
        is answered here may run.
        """
        first: dict[str, Take] = {}
        for take in takes:
            first.setdefault(take.action_ex_id, take)
        by_taker: dict[tuple[str, bool], list[str]] = defaultdict(list)
        for take in first.values():
            by_taker[take.executor, take.again].append(take.action_ex_id)
        now = utcnow()
        # NOTE: urgent: executors wait for this to run anything, so it goes before result batches.
        if len(by_taker) == 1:
            # The usual batch, one executor's: its take is a transaction of its own (one statement).
            (((executor, again), ids),) = by_taker.items()
            granted = db_api.take_action_executions(ids, executor, now, urgent=True, again=again)
            return {first[i] for i in granted}
        with unit_of_work(urgent=True):
            return {
                first[action_ex_id]
                for (executor, again), ids in sorted(by_taker.items())
                for action_ex_id in db_api.take_action_executions(ids, executor, now, again=again)
            }

    @db_api.retry_on_transient
    def release_actions(self, action_ex_ids: list[str], executor: str) -> list[str]:
        """``executor`` gives back actions it took but never started (it is stopping): send them again."""
        with unit_of_work():
            given_back = db_api.release_taken_actions(action_ex_ids, executor, utcnow())
            for action_ex in given_back:
                action_requests.queue(action_requests.of(action_ex))
            return [a.id for a in given_back]

    @db_api.retry_on_transient
    def on_heartbeats(self, beats: list[tuple[str | None, str]]) -> None:
        """Actions still alive on their executor: ``(executor, action execution id)`` pairs."""
        by_executor: dict[str | None, list[str]] = defaultdict(list)
        for executor, action_ex_id in beats:
            by_executor[executor].append(action_ex_id)
        with unit_of_work():
            for executor, ids in by_executor.items():
                db_api.touch_action_heartbeats(ids, executor)

    # -- sub-workflows and cascades ------------------------------------------

    @db_api.retry_on_transient
    def on_subworkflows_finished(self, wf_ex_ids: list[str]) -> None:
        """Hand each finished sub-workflow's outcome to its parent task, once (``reported_to_parent``)."""
        with unit_of_work():
            children = [c for c in (db_api.load_workflow_execution(i) for i in wf_ex_ids) if c is not None]
            parent_task_ids = {c.task_execution_id for c in children if c.task_execution_id}
            parents = db_api.find_task_executions_by_ids(list(parent_task_ids))
            for wf_ex_id in sorted({t.workflow_execution_id for t in parents}):
                run = lock_run(wf_ex_id)  # NOTE: the execution logged about, until the next one
                ids = [t.id for t in parents if t.workflow_execution_id == wf_ex_id]
                for task_ex in db_api.find_task_executions_by_ids(ids, fresh=True):
                    for child in (c for c in children if c.task_execution_id == task_ex.id):
                        self._deliver(run, task_ex, child)
                workflows.proceed(run)

    @staticmethod
    def _deliver(run: WfRun, task_ex: models.TaskExecution, child: models.WorkflowExecution) -> None:
        db_api.refresh(child)  # NOTE: re-read under the parent's lock: another engine may have delivered it
        if child.reported_to_parent or not states.is_completed(child.state):
            return
        child.reported_to_parent = True
        value = child.output if child.state == states.SUCCESS else child.state_info
        tasks.on_action_done(run, task_ex, (child.params or {}).get("index", 0), child.state, value)

    @staticmethod
    def engine_stats(since: int = 0) -> dict[str, Any]:
        """This engine's figures for benchmarks and operators: result-to-next-send latency (hop_latency)."""
        return {"result_to_next_send": hop_latency.RESULT_TO_SEND.summary(since)}

    def cascade(self, operation: str, wf_ex_id: str, argument: Any = None) -> None:
        """Pause, resume or cancel a sub-workflow after its parent did (a ``cascades`` job)."""
        try:
            if operation == "pause":
                self.pause_workflow(wf_ex_id)
            elif operation == "resume":
                self.resume_workflow(wf_ex_id, argument)
            elif operation == "cancel":
                self.stop_workflow(wf_ex_id, states.CANCELLED, argument)
        except (InputError, NotFoundError) as error:
            LOG.info("Cascading %s to %s skipped: %s", operation, wf_ex_id, error)


_engine = Engine()
jobs.register(cascades.JOB, _engine.cascade)


def get() -> Engine:
    return _engine
