"""Several passes of the workloads over one deployment, and which run of each workload is reported.

NOTE (issue 14): the targets are judged on the median of 3 runs, and one run on this
machine moves by 30% or more from the next. ``--runs 3`` runs the workloads three times
over on the same deployment; the summary shows each workload's median run by wall time,
whole (its other figures are that run's), with every run's wall time beside it.
"""

from __future__ import annotations

from typing import Any

Results = dict[str, dict[str, Any]]

#: The states of a run that counts as done; any other is reported in place of the median.
_DONE = ("SUCCESS", "SKIPPED")


def reported_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run to show: the median by wall time (the lower middle one of an even count).

    A run that did not succeed is shown instead (the first of them), so that no failure hides
    behind a median of runs that went well.
    """
    failed = [r for r in runs if r.get("state") not in _DONE]
    if failed:
        return failed[0]
    timed = sorted((r for r in runs if isinstance(r.get("wall_s"), (int, float))), key=lambda r: r["wall_s"])
    return timed[(len(timed) - 1) // 2] if timed else runs[-1]


def combine(passes: list[Results]) -> Results:
    """One result per workload, in the order they ran: a single pass as it is; of several, the
    reported run with ``runs_wall_s`` (every run's wall time, in run order) and ``failed_runs``."""
    if len(passes) == 1:
        return passes[0]
    names: list[str] = []
    for results in passes:
        names += [name for name in results if name not in names]
    combined: Results = {}
    for name in names:
        runs = [results[name] for results in passes if name in results]
        combined[name] = {
            **reported_run(runs),
            "runs_wall_s": [r.get("wall_s") for r in runs],
            "failed_runs": sum(r.get("state") not in _DONE for r in runs),
        }
    return combined


def runs_text(result: dict[str, Any]) -> str:
    """``runs 0.62 / 0.59 / 0.71 s`` (and how many failed) for a combined result; empty for one run."""
    walls = result.get("runs_wall_s")
    if not walls:
        return ""
    text = "runs " + " / ".join("-" if w is None else f"{w:.3f}" for w in walls) + " s"
    failed = result.get("failed_runs") or 0
    return text + (f", {failed} of {len(walls)} not done" if failed else "")
