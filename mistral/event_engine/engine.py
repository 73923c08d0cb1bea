"""The event engine service: listeners per (exchange, topic), the trigger set, firing triggers.

NOTE: the trigger set is reloaded by polling the database every
``RELOAD_INTERVAL`` seconds. That works the same whether the API runs in this
process or on another host, needs no extra RPC topic, and a missed message
cannot leave an engine stale. A trigger's row is read again when it fires, so
a changed input or a deleted trigger takes effect at once; only a new
(exchange, topic) waits for the next reload to get its listener.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import oslo_messaging

from mistral import config, context
from mistral.db import api as db_api
from mistral.event_engine import definitions as event_definitions
from mistral.event_engine import events
from mistral.event_engine.events import Event, TriggerRef
from mistral.exceptions import MistralError
from mistral.rpc import clients
from mistral.rpc import transport as rpc_transport
from mistral.services import trusts
from mistral.utils.redact import masked

LOG = logging.getLogger(__name__)

#: Seconds between two reads of the trigger set.
RELOAD_INTERVAL = 2.0
#: oslo.messaging notification priorities; a listener takes them all.
PRIORITIES = ("audit", "critical", "debug", "error", "info", "sample", "warn")

Key = tuple[str, str]


def load_trigger_refs() -> list[TriggerRef]:
    """Every project's event triggers (the event engine acts for all of them)."""
    with context.using(context.Context(is_internal=True)):
        return [
            TriggerRef(t.id, t.name, t.exchange, t.topic, t.event, t.project_id, t.scope)
            for t in db_api.list_event_triggers(db_api.ListQuery())
        ]


class TriggerSet:
    """The triggers by (exchange, topic); replaced whole on reload, never changed in place."""

    def __init__(self, refs: Iterable[TriggerRef] = ()) -> None:
        by_key: dict[Key, list[TriggerRef]] = defaultdict(list)
        for ref in refs:
            by_key[(ref.exchange, ref.topic)].append(ref)
        self._by_key = dict(by_key)

    @property
    def keys(self) -> frozenset[Key]:
        return frozenset(self._by_key)

    def matching(self, exchange: str, topic: str, event_type: str) -> list[TriggerRef]:
        return [r for r in self._by_key.get((exchange, topic), ()) if events.matches(r.event, event_type)]


class _Endpoint:
    """The notification endpoint of one listener: every priority goes to ``handle``."""

    def __init__(self, handle: Callable[[Event], Any], exchange: str, topic: str) -> None:
        self._handle, self.exchange, self.topic = handle, exchange, topic
        for priority in PRIORITIES:
            setattr(self, priority, self._receiver(priority))

    def _receiver(self, priority: str) -> Callable[..., Any]:
        def receive(ctxt: Any, publisher_id: str, event_type: str, payload: Any, metadata: Any) -> Any:
            event = Event(
                exchange=self.exchange,
                topic=self.topic,
                event_type=event_type,
                payload=payload,
                publisher_id=publisher_id or "",
                priority=priority,
                ctxt=dict(ctxt or {}),
                metadata=dict(metadata or {}),
            )
            try:
                self._handle(event)
            except Exception:  # noqa: BLE001 - one bad event must not stop the listener
                LOG.exception("Handling event %s from %s/%s failed", event_type, self.exchange, self.topic)
            # NOTE: handled even when a start failed: a requeued event would fail the same way forever.
            return oslo_messaging.NotificationResult.HANDLED

        return receive


class EventEngine:
    def __init__(
        self,
        transport: Any = None,
        *,
        engine_client: Callable[[], Any] | None = None,
        definitions: Sequence[event_definitions.EventDefinition] | None = None,
        reload_interval: float = RELOAD_INTERVAL,
        pool_name: str | None = None,
    ) -> None:
        self._own_transport = transport is None
        self._transport = transport
        # NOTE: looked up per event, so a replaced client (tests, a reset transport) is the one used.
        self._engine_client = engine_client or (lambda: clients.engine())
        self._definitions = definitions
        self._interval = reload_interval
        self._pool_name = pool_name
        self._triggers = TriggerSet()
        self._listeners: dict[Key, Any] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life -------------------------------------------------------------

    def start(self) -> None:
        """Listen for the triggers there are now (before returning), then keep the set current."""
        conf = config.CONF.event_engine
        if self._definitions is None:
            self._definitions = event_definitions.load(conf.event_definitions_cfg_file)
        if self._pool_name is None:
            self._pool_name = conf.listener_pool_name
        if self._transport is None:
            self._transport = rpc_transport.get_notification_transport()
        self._stopped.clear()
        try:
            self.reload()
        except Exception:  # noqa: BLE001 - the loop retries; a database hiccup must not stop the service
            LOG.exception("Loading the event triggers failed")
        self._thread = threading.Thread(target=self._loop, name="event-engine-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        with self._lock:
            while self._listeners:
                self._close(*self._listeners.popitem())
        if self._own_transport and self._transport is not None:
            self._transport.cleanup()
            self._transport = None

    def _loop(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self.reload()
            except Exception:  # noqa: BLE001 - try again at the next interval
                LOG.exception("Reloading the event triggers failed")

    # -- the trigger set and its listeners -------------------------------

    @property
    def listening(self) -> frozenset[Key]:
        """The (exchange, topic) pairs with a running listener."""
        return frozenset(self._listeners)

    def reload(self) -> None:
        """Read the triggers again; start and stop listeners to fit them."""
        triggers = TriggerSet(load_trigger_refs())
        with self._lock:
            # NOTE: triggers first, so a new listener's first event finds its trigger.
            self._triggers = triggers
            for key in sorted(triggers.keys - set(self._listeners)):
                try:
                    self._listeners[key] = self._listen(key)
                except Exception:  # noqa: BLE001 - the next reload tries again
                    LOG.exception("Can't listen for notifications on exchange %s, topic %s", *key)
            for key in sorted(set(self._listeners) - triggers.keys):
                self._close(key, self._listeners.pop(key))

    def pool(self, key: Key) -> str:
        """The listener pool (with RabbitMQ: the queue) of one (exchange, topic).

        NOTE: oslo.messaging binds every target of a pooled listener to one queue
        named after the pool, so a pool shared by two (exchange, topic) pairs
        would mix their events. One pool per pair keeps them apart, while event
        engines with the same ``listener_pool_name`` still share each pair's load.
        """
        return f"{self._pool_name}.{key[0]}.{key[1]}"

    def _listen(self, key: Key) -> Any:
        exchange, topic = key
        listener = oslo_messaging.get_notification_listener(
            self._transport,
            [oslo_messaging.Target(exchange=exchange, topic=topic)],
            [_Endpoint(self.handle, exchange, topic)],
            executor="threading",
            pool=self.pool(key),
        )
        listener.start()
        LOG.info("Listening for notifications on exchange %s, topic %s", exchange, topic)
        return listener

    @staticmethod
    def _close(key: Key, listener: Any) -> None:
        try:
            listener.stop()
            listener.wait()
        except Exception:  # noqa: BLE001 - stop the others whatever this one does
            LOG.exception("Stopping the listener of exchange %s, topic %s failed", *key)
        LOG.info("Stopped listening on exchange %s, topic %s", *key)

    # -- events -----------------------------------------------------------

    def handle(self, event: Event) -> list[str]:
        """Start the workflow of every trigger that matches; the ids of the started executions."""
        refs = [
            ref
            for ref in self._triggers.matching(event.exchange, event.topic, event.event_type)
            if events.may_fire(ref, event, auth_enabled=config.CONF.pecan.auth_enable)
        ]
        if not refs:
            return []
        try:
            params_of_event = self.event_params(event)
        except MistralError as error:
            LOG.error("Event %s can't be converted, no workflow started: %s", event.event_type, error)
            return []
        started = []
        for ref in refs:
            try:
                wf_ex_id = self._fire(ref, event, params_of_event)
            except Exception:  # noqa: BLE001 - the other triggers still fire
                LOG.exception("Event trigger %s failed to start its workflow", ref.id)
                continue
            if wf_ex_id:
                started.append(wf_ex_id)
        return started

    def event_params(self, event: Event) -> dict[str, Any]:
        definition = event_definitions.find(self._definitions or (), event.event_type)
        properties = definition.convert(event) if definition is not None else None
        return events.event_params(event, properties)

    def _fire(self, ref: TriggerRef, event: Event, params_of_event: dict[str, Any]) -> str | None:
        with context.using(context.Context(is_internal=True)):
            trigger = db_api.load_event_trigger(ref.id)
            if trigger is None:
                return None  # deleted since the last reload
        # NOTE: the workflow runs as the trigger's owner, through its trust when it has one (with a
        # token of the owner made from the trust).
        owner = trusts.owner_context(trigger.project_id, trigger.trust_id)
        with context.using(owner):
            wf_def = db_api.load_workflow_definition(trigger.workflow_id, None)
        if wf_def is None:
            LOG.warning("Event trigger %s: workflow %s no longer exists", trigger.id, trigger.workflow_id)
            return None
        request = events.start_request(trigger, wf_def.namespace, event, params_of_event)
        LOG.info(
            "Event %s on %s/%s fires trigger %s", event.event_type, event.exchange, event.topic, trigger.id
        )
        LOG.debug("Trigger %s params: %s", trigger.id, masked(request.params))
        with context.using(owner):
            started = self._engine_client().start_workflow(
                request.wf_identifier,
                request.wf_namespace,
                request.wf_ex_id,
                request.wf_input,
                request.description,
                request.params,
            )
        return started["id"]
