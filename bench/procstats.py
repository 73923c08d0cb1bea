"""CPU seconds and memory of server processes, read from /proc (Linux only).

Each process the benchmark started is sampled with its descendants (an API that
forks worker processes shows them as their own rows), so the figure is the
server's whole cost, not only its first process's.
"""

from __future__ import annotations

import dataclasses
import os

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclasses.dataclass(frozen=True)
class ProcSample:
    """One process at one moment; memory in MB, CPU in seconds (user + system)."""

    name: str
    pid: int
    cpu_s: float | None
    rss_mb: float | None
    peak_rss_mb: float | None

    def as_dict(self) -> dict[str, float | int | str | None]:
        return dataclasses.asdict(self)


def parse_stat(text: str, clk_tck: int = CLK_TCK) -> tuple[int, float]:
    """(parent pid, user + system CPU seconds) from the text of /proc/<pid>/stat.

    The command name (field 2) is in parentheses and may itself hold spaces or
    parentheses, so the fields are counted from the last ')'.
    """
    rest = text[text.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state): ppid is field 4, utime field 14, stime field 15.
    ppid = int(rest[1])
    utime, stime = int(rest[11]), int(rest[12])
    return ppid, (utime + stime) / clk_tck


def parse_status(text: str) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) in MB from the text of /proc/<pid>/status; absent ones are left out."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            parts = value.split()
            if parts and parts[-1] == "kB":
                out[key] = round(int(parts[0]) / 1024, 1)
    return out


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def sample(name: str, pid: int, proc_root: str = "/proc") -> ProcSample:
    """One process now; every figure is None once it has exited."""
    stat = _read(f"{proc_root}/{pid}/stat")
    status = _read(f"{proc_root}/{pid}/status")
    cpu = parse_stat(stat)[1] if stat else None
    mem = parse_status(status) if status else {}
    return ProcSample(name, pid, cpu, mem.get("VmRSS"), mem.get("VmHWM"))


def children(proc_root: str = "/proc") -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process visible now."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir(proc_root):
        if not entry.isdigit():
            continue
        stat = _read(f"{proc_root}/{entry}/stat")
        if not stat:
            continue
        try:
            ppid = parse_stat(stat)[0]
        except (ValueError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    out: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        child = todo.pop(0)
        out.append(child)
        todo.extend(tree.get(child, []))
    return out


def sample_all(pids: dict[str, int], proc_root: str = "/proc") -> list[ProcSample]:
    """Each named process and its descendants (named ``name/<pid>``)."""
    tree = children(proc_root) if os.path.isdir(proc_root) else {}
    out: list[ProcSample] = []
    for name, pid in pids.items():
        out.append(sample(name, pid, proc_root))
        out.extend(sample(f"{name}/{child}", child, proc_root) for child in descendants(pid, tree))
    return out


def peak_rss_mb(samples: list[dict]) -> float | None:
    """The largest peak RSS among sampled processes (dicts from ``ProcSample.as_dict``)."""
    peaks = [s["peak_rss_mb"] for s in samples if s.get("peak_rss_mb") is not None]
    return max(peaks) if peaks else None


def table(samples: list[dict], title: str = "") -> str:
    """A fixed-width table of process samples (dicts from ``ProcSample.as_dict``)."""
    head = f"{'process':<22} {'pid':>8} {'cpu_s':>9} {'rss_mb':>8} {'peak_mb':>8}"
    rows = ([title] if title else []) + [head, "-" * len(head)]
    for s in samples:
        rows.append(
            f"{s['name']:<22} {s['pid']:>8} {_num(s.get('cpu_s'), 2):>9} "
            f"{_num(s.get('rss_mb'), 1):>8} {_num(s.get('peak_rss_mb'), 1):>8}"
        )
    cpu = [s["cpu_s"] for s in samples if s.get("cpu_s") is not None]
    rss = [s["rss_mb"] for s in samples if s.get("rss_mb") is not None]
    if len(samples) > 1:
        rows.append(f"{'total':<22} {'':>8} {_num(sum(cpu), 2):>9} {_num(sum(rss), 1):>8} {'':>8}")
    return "\n".join(rows)


def _num(v: float | None, digits: int) -> str:
    return "-" if v is None else f"{v:.{digits}f}"
