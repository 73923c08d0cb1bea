"""Open-loop polling: many clients, each asking for one URL at a fixed rate, as dashboards and CLIs do.

NOTE (issue 14): the closed-loop pollers of ``polling_load`` (50 threads, no pause) measure
how long a request waits behind 49 others on 2 cores, and the Python client's own GIL queue:
by Little's law 50 clients in a loop cannot see a 1.5 ms p50 unless the server answers
33 000 requests per second. Here every client sends one request per ``interval`` on its own
kept-alive connection, from one asyncio loop (no thread per client, no ``requests``), so the
client adds little to what it measures. A request's latency counts from the moment it was
due, not from when it left: a late answer delays the next request, and that wait is part
of what a client sees (the "coordinated omission" correction).

``wrk_latency`` asks ``wrk`` (a C load tool) for the latency of one connection with no
pause: the server's own time per request plus the loopback, with no Python client at all.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from bench.report import pct

#: Seconds a connection waits for one answer before the request counts as failed.
ANSWER_TIMEOUT_S = 10.0


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """The status, the Content-Length and whether the server closes the connection after this answer."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(None, 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    return status, length, close


def request_bytes(host: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def summary(latencies: list[float], failed: int, duration: float, clients: int, interval: float) -> dict:
    """Latency percentiles in ms, and the achieved rate against the one asked for."""
    values = sorted(latencies)
    return {
        "clients": clients,
        "interval_s": interval,
        "requests": len(values) + failed,
        "failed_requests": failed,
        "wanted_per_s": round(clients / interval, 1),
        "achieved_per_s": round(len(values) / duration, 1) if duration > 0 else None,
        **{f"p{p}": _ms(pct(values, p)) for p in (50, 95, 99)},
        "max": _ms(values[-1]) if values else None,
    }


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 3)


async def _client(
    host: str,
    port: int,
    path: Callable[[], str | None],
    headers: dict[str, str] | None,
    interval: float,
    first_at: float,
    until: float,
    stopping: list[bool],
    latencies: list[float],
    failures: list[int],
) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    turn, due = 0, first_at
    try:
        while due < until and not stopping[0]:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            target = path()
            if target is not None:
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    assert reader is not None
                    writer.write(request_bytes(f"{host}:{port}", target, headers))
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ANSWER_TIMEOUT_S)
                    status, length, close = parse_head(head[:-4])
                    if length:
                        await asyncio.wait_for(reader.readexactly(length), ANSWER_TIMEOUT_S)
                    if close:
                        # NOTE: the server keeps only so many idle connections (cheroot: 10 unless
                        # told otherwise); like any HTTP client, the next request opens another.
                        writer.close()
                        reader = writer = None
                    if not 200 <= status < 300:
                        raise ValueError(f"status {status}")
                    latencies.append(time.perf_counter() - due)
                except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
                    failures[0] += 1
                    if writer is not None:
                        writer.close()
                    reader = writer = None
            turn += 1
            due = first_at + turn * interval
    finally:
        if writer is not None:
            writer.close()


def open_loop(
    base: str,
    path: Callable[[], str | None],
    *,
    clients: int = 50,
    interval: float = 0.1,
    duration: float | None = None,
    stop: Callable[[], bool] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Poll ``path()`` on ``clients`` connections every ``interval`` s, ``duration`` s or until ``stop()``.

    ``path`` is asked before each request (None skips that turn), so the pollers follow
    whatever execution is being measured. The clients' first requests are spread over one
    interval, as independent clients' would be.
    """
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    latencies: list[float] = []
    failures = [0]

    stopping = [False]

    async def main() -> float:
        t0 = time.perf_counter()
        until = t0 + duration if duration is not None else float("inf")
        tasks = [
            asyncio.ensure_future(
                _client(
                    host,
                    port,
                    path,
                    headers,
                    interval,
                    t0 + interval * i / clients,
                    until,
                    stopping,
                    latencies,
                    failures,
                )
            )
            for i in range(clients)
        ]
        while stop is not None and not all(t.done() for t in tasks):
            if stop():
                # NOTE: a flag each client checks between requests rather than cancelling them:
                # asyncio.wait_for may swallow a cancellation that meets an answer (Python < 3.12).
                stopping[0] = True
                break
            await asyncio.sleep(0.02)
        await asyncio.wait(tasks, timeout=ANSWER_TIMEOUT_S + interval)
        return time.perf_counter() - t0

    took = asyncio.run(main())
    return summary(latencies, failures[0], took, clients, interval)


WRK_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(text: str) -> dict[str, Any]:
    """wrk's ``--latency`` report: the percentiles in ms, requests per second, non-2xx answers."""
    out: dict[str, Any] = {
        f"p{p}": round(float(v) * _UNIT_MS[u], 3) for p, v, u in WRK_PERCENTILE.findall(text)
    }
    rate = WRK_RATE.search(text)
    out["per_s"] = float(rate.group(1)) if rate else None
    bad = WRK_NON_2XX.search(text)
    out["non_2xx"] = int(bad.group(1)) if bad else 0
    return out


def wrk_latency(
    url: str, seconds: float = 3.0, connections: int = 1, headers: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """Latency of ``connections`` connections asking ``url`` with no pause, by wrk; None without wrk."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in {"Accept": "application/json", **(headers or {})}.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip()[:200]}
    return {"connections": connections, **parse_wrk(done.stdout)}
