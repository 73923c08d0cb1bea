"""bench/session.py: how each deployment is started and what it leaves out."""

from __future__ import annotations

import pathlib

from bench import cli, session


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
