"""A daemon's own metrics port ([metrics] port): prometheus_client's server, started and stopped with it."""

from __future__ import annotations

import socket

import requests

from mistral.metrics import exposition, series


def test_a_port_serves_the_series_until_stopped() -> None:
    series.DB_RETRIES.inc(0)
    port = exposition.Port("127.0.0.1", 0)
    assert port.start()
    try:
        text = requests.get(f"http://127.0.0.1:{port.port}/metrics", timeout=10).text
        assert "# TYPE mistral_db_transaction_retries_total counter" in text
    finally:
        port.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port.port)) != 0


def test_a_port_in_use_is_logged_not_fatal() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = exposition.Port("127.0.0.1", taken.getsockname()[1])
        assert not port.start()
        port.stop()
