"""The engine's share of a hop over one workload: from action results arriving to the next actions' send.

Two sources, both ours only (the reference has neither):

- ``GET /v2/engine_stats?since=N``: the percentiles one engine keeps of its latest hops. Its RPC
  call reaches one engine, so it stands for the whole deployment only when there is one engine
  (embedded, or ``--engines 1``).
- the ``mistral_engine_hop_seconds`` histogram each engine of a distributed deployment the
  benchmark started serves on its ``[metrics]`` port: the buckets of every engine are added up,
  and the percentiles are read from them as Prometheus' ``histogram_quantile`` does (linear within
  a bucket), so they are shown as approximate.
"""

from __future__ import annotations

import math
import re
from typing import Any

import requests

from bench.client import ApiError
from bench.report import fmt
from bench.runner import Bench

HISTOGRAM = "mistral_engine_hop_seconds"
_BUCKET = re.compile(HISTOGRAM + r'_bucket\{(?:[^}]*,)?le="([^"]+)"[^}]*\}\s+(\S+)')

#: Cumulative counts by upper bound (seconds; the last is infinity).
Buckets = dict[float, float]


def buckets(text: str) -> Buckets:
    """The hop histogram's cumulative bucket counts in a Prometheus text page, summed over labels."""
    out: Buckets = {}
    for match in _BUCKET.finditer(text):
        bound = math.inf if match.group(1) == "+Inf" else float(match.group(1))
        out[bound] = out.get(bound, 0.0) + float(match.group(2))
    return out


def added(pages: list[Buckets]) -> Buckets:
    """The buckets of several engines as one histogram."""
    out: Buckets = {}
    for page in pages:
        for bound, count in page.items():
            out[bound] = out.get(bound, 0.0) + count
    return out


def quantile(before: Buckets, after: Buckets, q: float) -> float | None:
    """Seconds under which ``q`` of the hops observed between two reads fell; None without hops.

    A rank in the last (unbounded) bucket gives the largest finite bound, as Prometheus does.
    """
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    rank = q * counts[-1]
    lower, below = 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return None


def _read_histograms(urls: list[str], timeout: float) -> Buckets | None:
    pages = []
    for url in urls:
        try:
            resp = requests.get(url, timeout=timeout)
        except requests.RequestException:
            return None
        if resp.status_code != 200:
            return None
        pages.append(buckets(resp.text))
    return added(pages)


def before(bench: Bench) -> dict[str, Any] | None:
    """Where the engines' hop figures stand now, to take the workload's hops from later; None: unknown."""
    if bench.engine_metrics:
        histogram = _read_histograms(bench.engine_metrics, bench.args.http_timeout)
        return None if histogram is None else {"buckets": histogram}
    try:
        stats = bench.c.get_json("/v2/engine_stats")
    except ApiError:
        return None
    count = (stats.get("result_to_next_send") or {}).get("count") if isinstance(stats, dict) else None
    return None if count is None else {"count": count}


def add(bench: Bench, res: dict[str, Any], start: dict[str, Any] | None) -> None:
    """The engine's hop figure over this workload's hops (``start`` is what ``before`` read)."""
    if start is None:
        return
    if "buckets" in start:
        figure = _from_histograms(bench, start["buckets"])
    else:
        figure = _from_engine_stats(bench, start["count"])
    res["engine_hop_ms"] = figure
    if "error" in figure:
        return
    engines = figure.get("engines")
    approx = "~" if engines else ""
    p50, p95 = fmt(figure.get("p50_ms")), fmt(figure.get("p95_ms"))
    res["check"] += f"; engine result->next send p50 {approx}{p50} ms p95 {approx}{p95} ms"
    if engines:
        res["check"] += f" ({figure['count']} hops, the histograms of {engines} engine{'s' * (engines > 1)})"


def _from_histograms(bench: Bench, start: Buckets) -> dict[str, Any]:
    now = _read_histograms(bench.engine_metrics, bench.args.http_timeout)
    if now is None:
        return {"error": "an engine's [metrics] port did not answer"}

    def ms(q: float) -> float | None:
        seconds = quantile(start, now, q)
        return None if seconds is None else round(1000 * seconds, 3)

    hops = now.get(math.inf, 0.0) - start.get(math.inf, 0.0)
    return {"count": int(hops), "p50_ms": ms(0.5), "p95_ms": ms(0.95), "engines": len(bench.engine_metrics)}


def _from_engine_stats(bench: Bench, count: int) -> dict[str, Any]:
    try:
        stats = bench.c.get_json("/v2/engine_stats", params={"since": count})
    except ApiError as e:
        return {"error": str(e)}
    return stats.get("result_to_next_send") or {}
