"""The engine a server database gets from ``[database]``, read from a file as an operator writes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from oslo_config import cfg

from mistral import config
from mistral.db import session

SERVER_URL = "postgresql+psycopg2://mistral@db.example/mistral"


def read_database_options(tmp_path: Path, text: str) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf.register_opts(config.database_opts, group="database")
    path = tmp_path / "mistral.conf"
    path.write_text(text)
    conf(["--config-file", str(path)], project="mistral-test")
    return conf


def test_devstack_database_settings_are_accepted(tmp_path: Path, monkeypatch) -> None:
    """Mistral's devstack plugin writes ``max_overflow = -1`` (no limit, SQLAlchemy's meaning) and
    ``max_pool_size = 1000``; a mistral.conf from such a cloud must start the service."""
    conf = read_database_options(tmp_path, "[database]\nmax_overflow = -1\nmax_pool_size = 1000\n")
    monkeypatch.setattr(config, "CONF", conf)
    engine = session._create_engine(SERVER_URL)  # builds the pool; connects only on first use
    try:
        assert engine.pool.size() == 1000
        assert engine.pool._max_overflow == -1
    finally:
        engine.dispose()


def test_a_reads_only_process_reads_and_cannot_write(tmp_path: Path, monkeypatch) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    writer = sa.create_engine(url)
    with writer.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    writer.dispose()
    monkeypatch.setattr(session, "_reads_only", False)
    monkeypatch.setattr(session, "_engines", {})
    config.CONF.set_override("connection", url, group="database")
    try:
        session.reads_only()
        with session.transaction() as s:
            assert s.execute(sa.text("SELECT x FROM t")).scalar() == 1
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            with session.transaction() as s:
                s.execute(sa.text("INSERT INTO t VALUES (2)"))
    finally:
        session.dispose_engines()
        config.CONF.clear_override("connection", group="database")
