"""An in-process oslo.messaging driver for the embedded mode (``transport_url = local://``).

oslo.messaging's own ``fake`` driver polls its queues every 50 ms, which puts
up to 50 ms on every hop between engine and executor. This one hands each
message over through a condition variable, so a waiting server wakes at once.
Everything else (exchanges, topics, servers, replies) is the fake driver's.
Calls and quick casts between servers of this process skip it altogether
(mistral.rpc.direct); what remains here are the other casts and messages to a
server that is stopping.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import oslo_messaging
from oslo_messaging._drivers import base, impl_fake
from oslo_serialization import jsonutils


class _SignallingExchange(impl_fake.FakeExchange):
    def __init__(self, name: str, ready: threading.Condition) -> None:
        super().__init__(name)
        self._ready = ready

    def deliver_message(self, *args: Any, **kwargs: Any) -> None:
        super().deliver_message(*args, **kwargs)
        with self._ready:
            self._ready.notify_all()


class _ExchangeManager(impl_fake.FakeExchangeManager):
    def __init__(self, default_exchange: str | None) -> None:
        super().__init__(default_exchange)
        self.ready = threading.Condition()

    def get_exchange(self, name: str | None) -> impl_fake.FakeExchange:
        name = name or self._default_exchange
        with self._exchanges_lock:
            if name not in self._exchanges:
                self._exchanges[name] = _SignallingExchange(name, self.ready)
            return self._exchanges[name]


class _Listener(impl_fake.FakeListener):
    @base.batch_poll_helper
    def poll(self, timeout: float | None = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        ready = self._exchange_manager.ready
        while True:
            with ready:
                message = self._take()
                if message is not None:
                    return message
                # NOTE: a stopped listener still hands over what is queued, and
                # oslo.messaging polls a stopped one until it answers nothing: in
                # this process nobody else would ever read those messages (a broker
                # keeps them for another consumer), so a stopping engine applies the
                # results its executor sent just before.
                if self._stopped.is_set():
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                ready.wait(0.5 if remaining is None else min(remaining, 0.5))

    def _take(self) -> Any:
        for target in self._targets:
            exchange = self._exchange_manager.get_exchange(target.exchange)
            ctxt, message, reply_q, requeue = exchange.poll(target, self._pool)
            if message is not None:
                return impl_fake.FakeIncomingMessage(ctxt, message, reply_q, requeue)
        return None

    def stop(self) -> None:
        super().stop()
        with self._exchange_manager.ready:
            self._exchange_manager.ready.notify_all()


class LocalDriver(impl_fake.FakeDriver):
    def __init__(
        self, conf: Any, url: Any, default_exchange: str | None = None, allowed_remote_exmods: Any = None
    ):
        super().__init__(conf, url, default_exchange, allowed_remote_exmods)
        self._exchange_manager = _ExchangeManager(default_exchange)

    def _send(self, target: Any, ctxt: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        # NOTE: a JSON round trip gives the receiver its own copy, as a broker
        # would, so the embedded mode cannot depend on shared objects.
        message = jsonutils.loads(jsonutils.dumps(message))
        ctxt = jsonutils.loads(jsonutils.dumps(ctxt))
        return super()._send(target, ctxt, message, *args, **kwargs)

    @staticmethod
    def _check_serialize(message: Any) -> None:
        return None  # _send already encoded it

    def listen(self, target: oslo_messaging.Target, batch_size: int, batch_timeout: float) -> Any:
        exchange = target.exchange or self._default_exchange
        listener = _Listener(
            self._exchange_manager,
            [
                oslo_messaging.Target(topic=target.topic, server=target.server, exchange=exchange),
                oslo_messaging.Target(topic=target.topic, exchange=exchange),
            ],
        )
        return base.PollStyleListenerAdapter(listener, batch_size, batch_timeout)
