"""Figures and the text tables the benchmark prints (pure functions of its results)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from bench import repeats

NAME_W = 28
#: Rows of the process table whose CPU is the total since the process started, not one workload's share.
ABSOLUTE_ROWS = ("start", "end")


def rate(count: int, wall: float | None) -> float | None:
    if not wall or wall <= 0:
        return None
    return round(count / wall, 2)


def pct(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 2)


def spread_ms(seconds: list[float]) -> dict[str, float | int | None]:
    """p50/p95/max in ms of a list of durations in seconds."""
    values = sorted(seconds)
    return {
        "n": len(values),
        "p50": ms(pct(values, 50)),
        "p95": ms(pct(values, 95)),
        "max": ms(values[-1]) if values else None,
    }


def fmt_server(v: float | None) -> str:
    """The server's own duration: whole seconds unless the server gave sub-second timestamps."""
    if v is None:
        return "-"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.3f}"


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"
    return str(v)


# --------------------------------------------------------------------------
# Timestamps of task executions


def parse_ts(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def has_subsecond(values: list[Any]) -> bool:
    """True when the timestamps carry fractions of a second (Mistral writes whole seconds)."""
    return bool(values) and all(isinstance(v, str) and "." in v for v in values)


def hop_latencies(tasks: list[dict]) -> list[float] | None:
    """Seconds from each task's end (``updated_at``) to the next task's creation, in creation order.

    None when the server's timestamps have no sub-second part: whole seconds say nothing of a hop.
    """
    stamps = [t.get(k) for t in tasks for k in ("created_at", "updated_at")]
    if len(tasks) < 2 or not has_subsecond(stamps):
        return None
    ordered = sorted(tasks, key=lambda t: parse_ts(t["created_at"]))
    hops = []
    for prev, nxt in zip(ordered, ordered[1:], strict=False):
        end, start = parse_ts(prev.get("updated_at")), parse_ts(nxt.get("created_at"))
        if end is not None and start is not None:
            hops.append((start - end).total_seconds())
    return hops


# --------------------------------------------------------------------------
# Lines and tables


def workload_line(name: str, r: dict[str, Any]) -> str:
    if r.get("state") == "SKIPPED":
        return f"{name:<{NAME_W}} SKIPPED    {r.get('reason', '')}"
    if "error" in r and r.get("state") in (None, "FAILED"):
        return f"{name:<{NAME_W}} FAILED     {r['error']}"
    if name == "api_latency":
        parts = [f"{name:<{NAME_W}} {r.get('state', '-'):<10}"]
        for label, v in r.get("endpoints", {}).items():
            parts.append(
                f"\n    {label:<30} p50 {fmt(v['p50_ms']):>8} ms  p95 {fmt(v['p95_ms']):>8} ms  "
                f"p99 {fmt(v['p99_ms']):>8} ms  ({v['n']} req, {v['failed']} failed)"
            )
        return "".join(parts)
    rate_txt = f"{fmt(r.get('rate'))} {r.get('unit', '')}/s"
    line = (
        f"{name:<{NAME_W}} {str(r.get('state', '-')):<10} wall {fmt(r.get('wall_s')):>8} s  "
        f"server ~{fmt_server(r.get('server_s'))} s  {rate_txt}"
    )
    if r.get("start_request_s") is not None:
        line += f"  POST {r['start_request_s'] * 1000:.1f} ms"
    if r.get("check"):
        line += f"  [{r['check']}]"
    if r.get("state") not in ("SUCCESS", None) and r.get("state_info"):
        line += f"\n    state_info: {str(r['state_info'])[:300]}"
    return line


def summary_table(results: dict[str, dict[str, Any]]) -> str:
    head = (
        f"{'workload':<{NAME_W}} {'state':<10} {'wall_s':>9} {'server_s':>8} {'post_ms':>8} "
        f"{'rate':>11} {'unit':<9} {'peak_mb':>7} target"
    )
    rows = [head, "-" * len(head)]
    for name, r in results.items():
        tgt = r.get("target")
        tgt_txt = f"{'PASS' if tgt['pass'] else 'FAIL'} ({tgt['text']})" if tgt else "-"
        if r.get("state") == "SKIPPED":
            tgt_txt = r.get("reason", "")
        runs = repeats.runs_text(r)
        if runs:
            tgt_txt += f"; {runs}"
        unit = (r["unit"] + "/s") if r.get("unit") else "-"
        post = ms(r.get("start_request_s"))
        rows.append(
            f"{name:<{NAME_W}} {str(r.get('state', 'FAILED')):<10} {fmt(r.get('wall_s')):>9} "
            f"{fmt_server(r.get('server_s')):>8} {fmt(post):>8} {fmt(r.get('rate')):>11} {unit:<9} "
            f"{fmt(r.get('peak_rss_mb')):>7} {tgt_txt}"
        )
    return "\n".join(rows)


def process_matrix(rows: list[tuple[str, list[dict]]]) -> str:
    """One row per workload (and ``end``), one column per server process.

    Each cell is ``cpu/rss/peak``: CPU seconds (user+sys) the process spent during
    that workload (the ``start`` and ``end`` rows: since it started), its RSS and
    its peak RSS (VmHWM) in MB when the workload ended.
    """
    names: list[str] = []
    for _, samples in rows:
        for s in samples:
            if s["name"] not in names:
                names.append(s["name"])
    if not names:
        return ""
    width = max(16, *(len(n) for n in names))
    label_w = max(NAME_W, *(len(label) for label, _ in rows))  # ``with_items_published_10000 #2``
    head = f"{'after':<{label_w}} " + " ".join(f"{n:>{width}}" for n in names)
    out = ["server processes: cpu_s (during the workload; start, end: total) / rss_mb / peak_mb", head]
    out.append("-" * len(head))
    prev: dict[str, float] = {}
    for label, samples in rows:
        by_name = {s["name"]: s for s in samples}
        cells = []
        for n in names:
            s = by_name.get(n)
            if s is None or s.get("cpu_s") is None:
                cells.append(f"{'-':>{width}}")
                continue
            cpu = s["cpu_s"] if label in ABSOLUTE_ROWS else s["cpu_s"] - prev.get(n, 0.0)
            prev[n] = s["cpu_s"]
            cell = f"{cpu:.1f}/{_mb(s.get('rss_mb'))}/{_mb(s.get('peak_rss_mb'))}"
            cells.append(f"{cell:>{width}}")
        out.append(f"{label:<{label_w}} " + " ".join(cells))
    return "\n".join(out)


def _mb(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def compare_table(ours: dict[str, dict], ref: dict[str, dict], ours_label: str, ref_label: str) -> str:
    """Wall times side by side with the ratio reference / ours (how many times faster we are)."""
    head = f"{'workload':<{NAME_W}} {ours_label:>14} {ref_label:>14} {'ref/ours':>9}"
    rows = [head, "-" * len(head)]
    for name in list(dict.fromkeys([*ours, *ref])):
        a, b = ours.get(name) or {}, ref.get(name) or {}
        ratio = None
        if a.get("state") == b.get("state") == "SUCCESS" and a.get("wall_s") and b.get("wall_s"):
            ratio = b["wall_s"] / a["wall_s"]
        rows.append(
            f"{name:<{NAME_W}} {_cell(a):>14} {_cell(b):>14} "
            f"{(f'x{ratio:.1f}' if ratio is not None else '-'):>9}"
        )
    return "\n".join(rows)


def _cell(r: dict) -> str:
    if not r:
        return "not run"
    if r.get("state") == "SUCCESS" and r.get("wall_s") is not None:
        return f"{r['wall_s']:.3f} s"
    return str(r.get("state", "FAILED"))
