"""bench/session.py: how each deployment is started and what it leaves out."""

from __future__ import annotations

import pathlib
import types

import pytest

from bench import cli, lock_waits, session


def test_a_url_has_nothing_to_start() -> None:
    assert session.deployment_settings("url", cli.parse_args([])) is None


def test_settings_give_the_reference_the_next_port(tmp_path: pathlib.Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "mistral-server").write_text("")
    argv = ["--port-base", "9101", "--engines", "2", "--ours-venv", str(tmp_path), "--workdir", "/tmp/w"]
    args = cli.parse_args(argv)
    ours = session.deployment_settings("distributed", args)
    ref = session.deployment_settings("reference-distributed", args)
    assert ours is not None and ref is not None
    assert (ours.port, ours.engines, ours.bin_dir) == (9101, 2, tmp_path / "bin")
    assert (ref.port, ref.workdir) == (9102, pathlib.Path("/tmp/w/reference-distributed"))


def test_skips_combine_the_deployment_list_and_the_option() -> None:
    args = cli.parse_args(["--skip", "polling_load"])
    ref = session.skipped_workloads("reference-distributed", args)
    assert "with_items_input_100000" in ref and ref["polling_load"] == "skipped by --skip"
    assert session.skipped_workloads("distributed", cli.parse_args([])) == {}


class FakeLockSampler:
    def __init__(self) -> None:
        self.started = self.stopped = False

    def start(self) -> bool:
        self.started = True
        return True

    def stop(self) -> lock_waits.LockWaits:
        self.stopped = True
        return lock_waits.LockWaits(wait_s=0.25, most_waiting=2, most_sessions=12, samples=100, span_s=2.0)


def test_each_workload_records_the_lock_waits_sampled_over_it_even_when_it_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    samplers: list[FakeLockSampler] = []

    def make() -> FakeLockSampler:
        samplers.append(FakeLockSampler())
        return samplers[-1]

    def run_workload(_bench: object, name: str) -> dict[str, object]:
        assert samplers[-1].started and not samplers[-1].stopped
        if name == "chain_50":
            raise RuntimeError("the server went away")
        return {"state": "SUCCESS", "wall_s": 1.0}

    monkeypatch.setattr(session, "run_workload", run_workload)
    bench = types.SimpleNamespace(
        run_id="r", c=types.SimpleNamespace(base="http://x"), args=cli.parse_args([]), results={}
    )
    session.run_workloads(bench, ["fanout_1000", "chain_50"], {}, list, [], make)  # type: ignore[arg-type]
    assert [s.stopped for s in samplers] == [True, True]
    assert bench.results["fanout_1000"]["pg_lock_waits"]["wait_s"] == 0.25
    assert bench.results["chain_50"]["state"] == "FAILED"
    assert bench.results["chain_50"]["pg_lock_waits"]["most_waiting"] == 2
    assert (
        capsys.readouterr().out.count("PostgreSQL lock waits: 0.250 s over 2.0 s (at most 2 of 12 sessions")
        == 2
    )


def test_only_a_deployment_on_postgresql_samples_lock_waits(tmp_path: pathlib.Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "mistral-server").write_text("")
    args = cli.parse_args(["--ours-venv", str(tmp_path)])
    assert session.lock_sampler(None) is None
    assert session.lock_sampler(session.deployment_settings("embedded", args)) is None
    make = session.lock_sampler(session.deployment_settings("distributed", args))
    assert make is not None and isinstance(make(), lock_waits.Sampler)


def test_runs_repeat_the_workloads_and_report_each_ones_median_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    walls = {"fanout_1000": iter([0.7, 0.5, 0.9]), "chain_50": iter([0.2, 0.3, 0.1])}
    monkeypatch.setattr(
        session, "run_workload", lambda _b, name: {"state": "SUCCESS", "wall_s": next(walls[name])}
    )
    monkeypatch.setattr(session.machine_speed, "python_loop_s", lambda: 0.5)
    monkeypatch.setattr(session.Bench, "cleanup", lambda self: None)
    args = cli.parse_args(["--url", "http://127.0.0.1:9", "--runs", "3", "--http-timeout", "0.5"])
    doc = session.run_deployment("url", args, ["fanout_1000", "chain_50"])
    assert [p["chain_50"]["wall_s"] for p in doc["passes"]] == [0.2, 0.3, 0.1]
    assert (doc["results"]["fanout_1000"]["wall_s"], doc["results"]["chain_50"]["wall_s"]) == (0.7, 0.2)
    out = capsys.readouterr().out
    assert "FAIL (<= 0.1 s" in out and "runs 0.200 / 0.300 / 0.100 s" in out  # judged on the median, 0.2 s


def test_the_passes_of_runs_are_told_apart_in_the_process_table() -> None:
    assert [session.pass_label(i) for i in range(3)] == ["", " #2", " #3"]


def test_runs_must_be_between_1_and_20() -> None:
    assert cli.parse_args([]).runs == 1
    for bad in ("0", "21"):
        with pytest.raises(SystemExit):
            cli.parse_args(["--runs", bad])


def test_a_pass_cut_short_by_ctrl_c_still_counts_what_it_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []

    def run_workload(_bench: object, name: str) -> dict[str, object]:
        if ran == ["fanout_1000", "chain_50", "fanout_1000"]:
            raise KeyboardInterrupt  # in the second pass's chain_50
        ran.append(name)
        return {"state": "SUCCESS", "wall_s": {"fanout_1000": 0.5, "chain_50": 0.1}[name]}

    monkeypatch.setattr(session, "run_workload", run_workload)
    monkeypatch.setattr(session.machine_speed, "python_loop_s", lambda: 0.5)
    monkeypatch.setattr(session.Bench, "cleanup", lambda self: None)
    args = cli.parse_args(["--url", "http://127.0.0.1:9", "--runs", "3", "--http-timeout", "0.5"])
    try:
        doc = session.run_deployment("url", args, ["fanout_1000", "chain_50"])
    finally:
        session.STOP.clear()
    assert doc["meta"]["outcome"] == "interrupted"
    assert doc["results"]["fanout_1000"]["runs_wall_s"] == [0.5, 0.5]
    assert doc["results"]["chain_50"]["runs_wall_s"] == [0.1]
