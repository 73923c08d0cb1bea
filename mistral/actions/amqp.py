"""std.amqp publishes one message to an AMQP broker; std.amqp_wait waits for a reply (kombu).

Both take the broker as a URL (``amqp://user:password@host:5672/vhost``, ``amqps://`` for TLS),
checked by mistral.actions.amqp_guard before connecting. Errors name the broker with its password
masked.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from mistral_lib import actions
from mistral_lib.actions.context import ActionContext
from mistral_lib.exceptions import ActionException

from mistral.actions import amqp_guard, async_results
from mistral.config import CONF

if TYPE_CHECKING:
    import kombu

# NOTE: kombu is imported where a broker is reached, not here: every process that lists the
# actions imports this module, and kombu with py-amqp is 4 MB that only a running std.amqp needs.

LOG = logging.getLogger(__name__)

JSON = "application/json"


def _number(value: Any, name: str, *, minimum: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if number <= minimum:
        raise ValueError(f"{name} must be greater than {minimum:g}, got {value!r}")
    return number


def sanitized(url: str) -> str:
    """``url`` with its password masked, for messages."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)


def connect(url: str, timeout: float) -> kombu.Connection:
    """An open connection to the broker of ``url``; ActionException says why there is none."""
    import kombu

    where = sanitized(url)
    try:
        broker = amqp_guard.parse(url)
        amqp_guard.check(broker)
    except (ValueError, amqp_guard.RefusedError) as exc:
        raise ActionException(f"AMQP broker {where} refused: {exc}") from exc
    conn = kombu.Connection(
        url,
        ssl=broker.ssl,
        connect_timeout=timeout,
        heartbeat=0,
        # NOTE: py-amqp's own socket timeouts; without them a broker that accepts the connection
        # and then says nothing would hold the worker.
        transport_options={"read_timeout": timeout, "write_timeout": timeout, "confirm_publish": True},
    )
    try:
        # NOTE: one attempt: kombu's own connect() tries twice, two seconds apart.
        conn.ensure_connection(max_retries=0, reraise_as_library_errors=False)
    except Exception as exc:  # noqa: BLE001 - socket, TLS and AMQP errors alike mean "no broker"
        conn.release()
        raise ActionException(f"AMQP broker {where} unreachable: {type(exc).__name__}: {exc}") from exc
    return conn


def decode(message: Any) -> Any:
    """A message body as the workflow sees it: JSON decoded when it says it is JSON (or parses)."""
    body = message.body
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        if message.content_type == JSON:
            LOG.warning("An AMQP message said it is JSON but is not; returned as text")
        return text


class AMQPAction(actions.Action):
    """Publish one message: ``body`` (any JSON value; a string when ``content_type`` is not JSON).

    Either ``queue`` (through the default exchange, routing key = queue name) or ``exchange`` with a
    ``routing_key``. ``declare`` declares the queue, or the exchange as ``exchange_type``, first, and
    the ``reply_to`` queue (durable unless ``durable`` is false), so that neither the message nor an
    early reply is dropped for want of a queue. The broker confirms the message before the action
    succeeds.
    """

    def __init__(
        self,
        url: str,
        queue: str | None = None,
        exchange: str = "",
        routing_key: str | None = None,
        body: Any = None,
        headers: dict[str, Any] | None = None,
        correlation_id: str | None = None,
        reply_to: str | None = None,
        content_type: str = JSON,
        exchange_type: str = "direct",
        declare: bool = True,
        durable: bool = True,
        persistent: bool = True,
        timeout: float | None = None,
    ) -> None:
        amqp_guard.parse(url)  # a malformed URL is bad input, reported before anything runs
        if bool(queue) == (routing_key is not None):
            raise ValueError("give either queue or routing_key (with an exchange, or '' for the default one)")
        if queue and exchange:
            raise ValueError(
                "queue publishes through the default exchange; give routing_key with an exchange"
            )
        if headers is not None and not isinstance(headers, dict):
            raise ValueError(f"headers must be a mapping, got {type(headers).__name__}")
        self.url = url
        self.queue = queue
        self.exchange = exchange or ""
        self.routing_key = queue if queue else str(routing_key)
        self.body = body
        self.headers = headers
        self.correlation_id = None if correlation_id is None else str(correlation_id)
        self.reply_to = reply_to
        self.content_type = content_type or JSON
        self.exchange_type = exchange_type
        self.declare = bool(declare)
        self.durable = bool(durable)
        self.persistent = bool(persistent)
        self.timeout = None if timeout is None else _number(timeout, "timeout")

    def run(self, context: ActionContext) -> dict[str, Any]:
        timeout = CONF.action_amqp.default_timeout if self.timeout is None else self.timeout
        conn = connect(self.url, timeout)
        where = sanitized(self.url)
        try:
            with conn:
                self._publish(conn)
        except ActionException:
            raise
        except Exception as exc:  # noqa: BLE001 - kombu and py-amqp raise many kinds
            raise ActionException(f"AMQP publish to {where} failed: {type(exc).__name__}: {exc}") from exc
        return {
            "exchange": self.exchange,
            "routing_key": self.routing_key,
            "correlation_id": self.correlation_id,
            "reply_to": self.reply_to,
        }

    def _publish(self, conn: kombu.Connection) -> None:
        import kombu

        exchange = kombu.Exchange(self.exchange, type=self.exchange_type, durable=self.durable)
        declare: list[Any] = []
        if self.declare and self.queue:
            declare.append(kombu.Queue(self.queue, durable=self.durable, auto_delete=False))
        elif self.declare and self.exchange:
            declare.append(exchange)
        if self.declare and self.reply_to:
            # NOTE: a reply can come before std.amqp_wait starts reading: it must find its queue.
            declare.append(kombu.Queue(self.reply_to, durable=self.durable, auto_delete=False))
        properties = {
            k: v for k, v in (("correlation_id", self.correlation_id), ("reply_to", self.reply_to)) if v
        }
        body, kwargs = self._encoded()
        conn.Producer().publish(
            body,
            exchange=exchange,
            routing_key=self.routing_key,
            headers=dict(self.headers or {}),
            declare=declare,
            delivery_mode=2 if self.persistent else 1,
            retry=False,
            **kwargs,
            **properties,
        )

    def _encoded(self) -> tuple[Any, dict[str, Any]]:
        if self.content_type == JSON:
            return self.body, {"serializer": "json"}
        text = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return text.encode("utf-8"), {"content_type": self.content_type, "content_encoding": "utf-8"}


class AMQPWaitAction(actions.Action):
    """Wait on ``queue`` for the message whose ``correlation_id`` matches; its body is the result.

    Asynchronous: ``run()`` checks the broker and declares the queue (durable unless ``durable`` is
    false), then returns; a thread of the executor waits and reports the body (JSON decoded when it
    parses), or an error after ``timeout`` seconds. Other messages on the queue are left there for
    their own waiters. The reply is acknowledged only once an engine has committed the result, and
    the executor heartbeats the action while it waits (doc/amqp.rst: an executor restart).
    """

    def __init__(
        self,
        url: str,
        queue: str,
        correlation_id: str,
        timeout: float = 60,
        declare: bool = True,
        durable: bool = True,
        poll_interval: float = 0.2,
        connect_timeout: float | None = None,
    ) -> None:
        amqp_guard.parse(url)
        if not queue or not isinstance(queue, str):
            raise ValueError("queue must be a queue name")
        if correlation_id is None or str(correlation_id) == "":
            raise ValueError("correlation_id must not be empty")
        self.url = url
        self.queue = queue
        self.correlation_id = str(correlation_id)
        self.timeout = _number(timeout, "timeout")
        self.declare = bool(declare)
        self.durable = bool(durable)
        self.poll_interval = _number(poll_interval, "poll_interval")
        self.connect_timeout = (
            None if connect_timeout is None else _number(connect_timeout, "connect_timeout")
        )

    def is_sync(self) -> bool:
        return False

    def run(self, context: ActionContext) -> None:
        execution = getattr(context, "execution", None)
        action_ex_id = getattr(execution, "action_execution_id", None)
        if not action_ex_id:
            raise ActionException("std.amqp_wait needs an action execution to complete later")
        # NOTE: the broker is checked now, so a bad URL or a refused broker fails the action at once.
        conn = connect(self.url, self._connect_timeout)
        try:
            self._bind(conn)
        except Exception as exc:  # noqa: BLE001
            conn.release()
            raise ActionException(f"AMQP queue {self.queue!r} unusable: {type(exc).__name__}: {exc}") from exc
        waiter = _Waiter(self, conn, action_ex_id, getattr(execution, "workflow_execution_id", None))
        async_results.hold(action_ex_id)
        threading.Thread(target=waiter.run, name=f"amqp-wait-{action_ex_id}", daemon=True).start()
        return None

    @property
    def _connect_timeout(self) -> float:
        return CONF.action_amqp.default_timeout if self.connect_timeout is None else self.connect_timeout

    def _bind(self, conn: kombu.Connection) -> kombu.Queue:
        import kombu

        queue = kombu.Queue(self.queue, durable=self.durable, auto_delete=False, channel=conn.default_channel)
        if self.declare:
            queue.declare()
        return queue


class _Waiter:
    """One wait: reads the queue until its reply comes, reports it, then acknowledges it."""

    def __init__(
        self, action: AMQPWaitAction, conn: kombu.Connection, action_ex_id: str, wf_ex_id: Any
    ) -> None:
        self.action = action
        self.conn: kombu.Connection | None = conn
        self.action_ex_id = action_ex_id
        self.wf_ex_id = wf_ex_id if isinstance(wf_ex_id, str) else None
        self.deadline = time.monotonic() + action.timeout

    def run(self) -> None:
        try:
            self._wait()
        except Exception:  # noqa: BLE001 - a thread's last word: the action must still end
            LOG.exception("Waiting for the AMQP reply of action %s failed", self.action_ex_id)
            self._report({"error": "std.amqp_wait failed while waiting; see the executor's log"})
        finally:
            if self.conn is not None:
                self.conn.release()

    def _wait(self) -> None:
        last_error = ""
        while time.monotonic() < self.deadline:
            if async_results.abandoned(self.action_ex_id):
                LOG.info("Action %s was cancelled: no more waiting for its AMQP reply", self.action_ex_id)
                async_results.release(self.action_ex_id)
                return
            try:
                if self._poll_once():
                    return
                last_error = ""
            except Exception as exc:  # noqa: BLE001 - a lost connection is tried again until the deadline
                last_error = f"{type(exc).__name__}: {exc}"
                LOG.warning("AMQP wait of action %s: %s; reconnecting", self.action_ex_id, last_error)
                self._reconnect()
            time.sleep(max(min(self.action.poll_interval, self.deadline - time.monotonic()), 0))
        why = f" (last error: {last_error})" if last_error else ""
        outcome = {
            "error": f"No message with correlation_id {self.action.correlation_id!r} arrived on queue "
            f"{self.action.queue!r} within {self.action.timeout:g} seconds{why}"
        }
        # NOTE: this error is the last word of the wait; an engine that does not confirm it gets a
        # few more tries, after which the task's own timeout (or a re-run) is what ends it.
        for delay in (0, 1, 2, 4, 8):
            time.sleep(delay)
            if self._report(outcome):
                return
        async_results.release(self.action_ex_id)  # no more heartbeats: the engine's check ends it

    def _poll_once(self) -> bool:
        """Read the queue through once; True when the reply was found, reported and acknowledged."""
        if self.conn is None:
            self.conn = connect(self.action.url, self.action._connect_timeout)
        queue = self.action._bind(self.conn)
        held = []
        try:
            while (message := queue.get(no_ack=False)) is not None:
                if message.properties.get("correlation_id") != self.action.correlation_id:
                    held.append(message)  # kept unacknowledged so the next get reads past it
                    continue
                if self._report({"data": decode(message)}):
                    message.ack()
                    return True
                held.append(message)
                return False
            return False
        finally:
            for message in held:
                if not message.acknowledged:
                    message.requeue()

    def _reconnect(self) -> None:
        if self.conn is not None:
            try:
                self.conn.release()
            except Exception:  # noqa: BLE001
                LOG.debug("Closing a broken AMQP connection failed", exc_info=True)
        self.conn = None

    def _report(self, outcome: dict[str, Any]) -> bool:
        try:
            async_results.complete(self.action_ex_id, outcome, self.wf_ex_id)
            return True
        except Exception:  # noqa: BLE001 - no engine confirmed it: the reply stays queued, tried again
            LOG.warning("Could not report the AMQP reply of action %s yet", self.action_ex_id, exc_info=True)
            return False
