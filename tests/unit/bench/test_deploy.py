"""bench/deploy.py: the processes, command lines and configuration of each deployment (no process runs)."""

from __future__ import annotations

import configparser
import pathlib
import socket

import pytest

from bench import deploy

BIN = pathlib.Path("/venv/bin")


def settings(kind: str, **kw: object) -> deploy.Settings:
    return deploy.Settings(kind=kind, port=9101, workdir=pathlib.Path("/tmp/b"), ours_bin=BIN, **kw)


def test_roles_of_each_kind() -> None:
    assert deploy.roles("url") == []
    assert deploy.roles("embedded") == [deploy.Role("all", "all")]
    names = [(r.name, r.server, r.executor_host) for r in deploy.roles("distributed", engines=2)]
    assert names == [
        ("api", "api", None),
        ("engine-1", "engine", None),
        ("engine-2", "engine", None),
        ("executor-1", "executor", "bench-exec-1"),
        ("executor-2", "executor", "bench-exec-2"),
    ]
    with pytest.raises(deploy.DeployError):
        deploy.roles("distributed", engines=0)


def test_several_apis_listen_on_ports_of_their_own() -> None:
    apis = [r for r in deploy.roles("distributed", apis=3) if r.server == "api"]
    assert [(r.name, r.port_offset) for r in apis] == [("api", 0), ("api-2", 10), ("api-3", 20)]
    settings = deploy.Settings(kind="distributed", port=9000, workdir=pathlib.Path("/w"), apis=3)
    ports = [{}, {"api": {"port": 9010}}, {"api": {"port": 9020}}]
    assert [deploy.role_sections(settings, r) for r in apis] == ports
    executor = deploy.Role("executor-1", "executor", "bench-exec-1")
    assert deploy.role_sections(settings, executor) == {"executor": {"host": "bench-exec-1"}}
    dep = deploy.Deployment(settings, log=lambda _: None)
    assert dep.urls == ["http://127.0.0.1:9000", "http://127.0.0.1:9010", "http://127.0.0.1:9020"]
    with pytest.raises(deploy.DeployError):
        deploy.roles("reference-distributed", apis=2)


def test_each_engine_of_ours_serves_its_series_on_a_port_of_its_own() -> None:
    ours = deploy.Settings(kind="distributed", port=9000, workdir=pathlib.Path("/w"), engines=2)
    engines = [r for r in deploy.roles("distributed", engines=2) if r.server == "engine"]
    assert [deploy.role_sections(ours, r) for r in engines] == [
        {"metrics": {"host": "127.0.0.1", "port": 9100}},
        {"metrics": {"host": "127.0.0.1", "port": 9101}},
    ]
    assert deploy.Deployment(ours, log=lambda _: None).engine_metrics_urls == [
        "http://127.0.0.1:9100/metrics",
        "http://127.0.0.1:9101/metrics",
    ]
    # NOTE: the reference is a black box: its configuration is its own, and nothing is read from it.
    reference = deploy.Settings(
        kind="reference-distributed", port=9001, workdir=pathlib.Path("/w"), engines=2
    )
    assert [deploy.role_sections(reference, r) for r in engines] == [{}, {}]
    assert deploy.Deployment(reference, log=lambda _: None).engine_metrics_urls == []
    embedded = deploy.Settings(kind="embedded", port=9000, workdir=pathlib.Path("/w"))
    assert deploy.Deployment(embedded, log=lambda _: None).engine_metrics_urls == []


def test_command_lines() -> None:
    configs = [pathlib.Path("/c/server.conf"), pathlib.Path("/c/executor-1.conf")]
    assert deploy.server_argv(BIN, configs, "executor") == [
        "/venv/bin/mistral-server",
        "--config-file",
        "/c/server.conf",
        "--config-file",
        "/c/executor-1.conf",
        "--server",
        "executor",
    ]
    assert deploy.db_manage_argv(BIN, configs[0], "upgrade", "head") == [
        "/venv/bin/mistral-db-manage",
        "--config-file",
        "/c/server.conf",
        "upgrade",
        "head",
    ]


def test_postgres_urls_and_psql() -> None:
    admin = "postgresql://postgres@127.0.0.1:5433/test"
    assert (
        deploy.pg_database_url(admin, "bench_ours_9101")
        == "postgresql+psycopg2://postgres@127.0.0.1:5433/bench_ours_9101"
    )
    argv = deploy.psql_argv(admin, "CREATE DATABASE x")
    assert argv[:9] == ["psql", "-h", "127.0.0.1", "-p", "5433", "-U", "postgres", "-d", "test"]
    assert argv[-2:] == ["-c", "CREATE DATABASE x"]


def test_transport_url_replaces_the_virtual_host() -> None:
    assert deploy.transport_url("rabbit://guest:guest@127.0.0.1:5672/", "bench_ours_9101") == (
        "rabbit://guest:guest@127.0.0.1:5672/bench_ours_9101"
    )
    assert deploy.transport_url("rabbit://u:p@h:1/old", "a/b") == "rabbit://u:p@h:1/a%2Fb"


def parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def test_embedded_config_uses_a_data_dir_and_no_broker() -> None:
    conf = parse(deploy.render_config(deploy.config_sections(settings("embedded"), None, None)))
    assert conf["DEFAULT"]["data_dir"] == "/tmp/b/data"
    assert conf["api"]["port"] == "9101" and conf["api"]["host"] == "127.0.0.1"
    assert "transport_url" not in conf["DEFAULT"] and not conf.has_section("database")
    assert conf["engine"]["max_with_items"] == "100000"  # with_items_input_100000 is over the default guard


def test_distributed_config_has_database_broker_and_own_exchange() -> None:
    s = settings("distributed")
    conf = parse(deploy.render_config(deploy.config_sections(s, "postgresql+psycopg2://db", "rabbit://r/v")))
    assert conf["database"]["connection"] == "postgresql+psycopg2://db"
    assert conf["DEFAULT"]["transport_url"] == "rabbit://r/v"
    assert conf["DEFAULT"]["control_exchange"] == s.label == "bench_ours_9101"


def test_reference_config_turns_auth_off() -> None:
    s = settings("reference-distributed", ref_venv=pathlib.Path("/ref"))
    conf = parse(deploy.render_config(deploy.config_sections(s, "postgresql+psycopg2://db", "rabbit://r/v")))
    assert conf["pecan"]["auth_enable"] == "False"
    assert conf["api"]["port"] == "9101" and "control_exchange" not in conf["DEFAULT"]
    assert s.label == "bench_ref_9101" and s.bin_dir == pathlib.Path("/ref/bin")


def test_ready_markers_only_for_our_processes() -> None:
    ours = deploy.Deployment(settings("distributed", engines=2))
    markers = [ours.ready_marker(r) for r in ours.roles]
    assert markers == [None, "Engine started", "Engine started", "Executor bench-exec-1 listening",
                       "Executor bench-exec-2 listening"]  # fmt: skip
    ref = deploy.Deployment(settings("reference-distributed"))
    assert {ref.ready_marker(r) for r in ref.roles} == {None}


def test_stop_without_start_does_nothing() -> None:
    deploy.Deployment(settings("distributed")).stop()


def test_find_ours_bin(tmp_path: pathlib.Path) -> None:
    assert deploy.find_ours_bin(str(tmp_path)) is None
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "mistral-server").write_text("")
    assert deploy.find_ours_bin(str(tmp_path)) == tmp_path / "bin"


@pytest.mark.parametrize("kind", ["embedded", "distributed"])
def test_a_port_another_server_answers_on_stops_the_start(kind: str, tmp_path: pathlib.Path) -> None:
    """Else the readiness probe finds the other server, and the benchmark measures it instead."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        dep = deploy.Deployment(
            deploy.Settings(kind=kind, port=port, workdir=tmp_path / "w", ours_bin=BIN), log=lambda _: None
        )
        with pytest.raises(deploy.DeployError, match=f"port {port} .*--port-base"):
            dep.start()
    assert dep.procs == {} and not (tmp_path / "w").exists()


def test_the_ports_of_a_deployment_are_those_its_processes_listen_on() -> None:
    dep = deploy.Deployment(deploy.Settings(kind="distributed", port=9000, workdir=pathlib.Path("/w"),
                                            engines=2, apis=2))  # fmt: skip
    assert dep.ports() == [9000, 9010, 9100, 9101]
    assert deploy.Deployment(settings("embedded")).ports() == [9101]
