"""bench/engine_hops.py: the engine's share of a hop over a workload, from one engine or from all of them."""

from __future__ import annotations

import argparse
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench import engine_hops
from bench.client import ApiError

BOUNDS = ("0.001", "0.002", "0.005", "+Inf")


def page(*cumulative: int, labels: str = "") -> str:
    """A Prometheus page holding the hop histogram with these cumulative counts (and another series)."""
    lines = ["# TYPE mistral_engine_hop_seconds histogram"]
    lines += [
        f'mistral_engine_hop_seconds_bucket{{{labels}le="{b}"}} {float(c)}'
        for b, c in zip(BOUNDS, cumulative, strict=True)
    ]
    lines += [f"mistral_engine_hop_seconds_count {float(cumulative[-1])}", 'other_bucket{le="0.001"} 99.0']
    return "\n".join(lines) + "\n"


def test_buckets_are_read_by_bound_and_summed_over_labels() -> None:
    text = page(1, 2, 3, 4) + page(10, 10, 10, 10, labels='x="y",')
    assert engine_hops.buckets(text) == {0.001: 11.0, 0.002: 12.0, 0.005: 13.0, math.inf: 14.0}
    assert engine_hops.buckets("no histogram here") == {}


def test_percentiles_of_the_hops_between_two_reads() -> None:
    start = engine_hops.buckets(page(100, 100, 100, 100))  # hops of earlier workloads
    now = engine_hops.buckets(page(105, 110, 110, 110))
    # NOTE: ten hops: five up to 1 ms, five between 1 and 2 ms; a rank is placed linearly in its bucket.
    assert engine_hops.quantile(start, now, 0.5) == pytest.approx(0.001)
    assert engine_hops.quantile(start, now, 0.95) == pytest.approx(0.0019)
    assert engine_hops.quantile(start, start, 0.5) is None
    slow = engine_hops.buckets(page(0, 0, 0, 4))
    assert engine_hops.quantile({}, slow, 0.5) == 0.005  # beyond the last bound: the last bound


def test_engines_add_up() -> None:
    one, two = engine_hops.buckets(page(1, 1, 1, 1)), engine_hops.buckets(page(0, 2, 2, 3))
    assert engine_hops.added([one, two]) == {0.001: 1.0, 0.002: 3.0, 0.005: 3.0, math.inf: 4.0}


class _Pages:
    """The [metrics] ports of two engines, served over HTTP; their pages change between reads."""

    def __init__(self) -> None:
        self.texts = {"/a": page(0, 0, 0, 0), "/b": page(0, 0, 0, 0)}
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = pages.texts.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write((body or "").encode())

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def pages() -> Iterator[_Pages]:
    served = _Pages()
    threading.Thread(target=served.httpd.serve_forever, daemon=True).start()
    yield served
    served.httpd.shutdown()
    served.httpd.server_close()


class _Client:
    def __init__(self, answers: list[Any]) -> None:
        self.answers, self.asked = answers, []

    def get_json(self, path: str, params: dict | None = None) -> Any:
        self.asked.append((path, params))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class _Bench:
    def __init__(self, client: _Client, engine_metrics: list[str]) -> None:
        self.c, self.engine_metrics = client, engine_metrics
        self.args = argparse.Namespace(http_timeout=5)


def test_a_distributed_deployment_is_read_from_every_engine(pages: _Pages) -> None:
    client = _Client([])
    bench = _Bench(client, [pages.base + "/a", pages.base + "/b"])
    start = engine_hops.before(bench)  # type: ignore[arg-type]
    pages.texts = {"/a": page(3, 5, 5, 5), "/b": page(2, 5, 5, 5)}  # the chain ran on both
    res = {"check": "output v=50"}
    engine_hops.add(bench, res, start)  # type: ignore[arg-type]
    assert res["engine_hop_ms"] == {"count": 10, "p50_ms": 1.0, "p95_ms": 1.9, "engines": 2}
    assert res["check"] == (
        "output v=50; engine result->next send p50 ~1.000 ms p95 ~1.900 ms"
        " (10 hops, the histograms of 2 engines)"
    )
    assert client.asked == []  # one engine's window would not stand for the others


def test_an_engine_that_does_not_answer_gives_no_figure(pages: _Pages) -> None:
    bench = _Bench(_Client([]), [pages.base + "/a", pages.base + "/gone"])
    assert engine_hops.before(bench) is None  # type: ignore[arg-type]
    bench.engine_metrics = [pages.base + "/a"]
    start = engine_hops.before(bench)  # type: ignore[arg-type]
    pages.texts = {}
    res = {"check": "x"}
    engine_hops.add(bench, res, start)  # type: ignore[arg-type]
    assert res == {"check": "x", "engine_hop_ms": {"error": "an engine's [metrics] port did not answer"}}


def test_one_engine_answers_for_itself_through_the_api() -> None:
    window = {"count": 60, "window": 50, "p50_ms": 0.9, "p95_ms": 1.4, "max_ms": 3.0}
    client = _Client([{"result_to_next_send": {"count": 10}}, {"result_to_next_send": window}])
    bench = _Bench(client, [])
    start = engine_hops.before(bench)  # type: ignore[arg-type]
    res = {"check": "output v=50"}
    engine_hops.add(bench, res, start)  # type: ignore[arg-type]
    assert client.asked == [("/v2/engine_stats", None), ("/v2/engine_stats", {"since": 10})]
    assert res["engine_hop_ms"] == window
    assert res["check"] == "output v=50; engine result->next send p50 0.900 ms p95 1.400 ms"


def test_a_server_without_engine_stats_gives_no_figure() -> None:
    bench = _Bench(_Client([ApiError("GET", "/v2/engine_stats", 404, "not found")]), [])
    assert engine_hops.before(bench) is None  # type: ignore[arg-type]
    res = {"check": "x"}
    engine_hops.add(bench, res, None)  # type: ignore[arg-type]
    assert res == {"check": "x"}
