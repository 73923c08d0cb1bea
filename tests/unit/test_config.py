"""What mistral.config adds to the options of the libraries it configures."""

from __future__ import annotations

from mistral import config


def test_neutronclient_deprecation_warnings_are_quiet_by_default() -> None:
    # mistral-extra's generators make python-neutronclient warn once per action: ~370 lines a start.
    config._register_log_opts()
    levels = config.CONF.default_log_levels
    assert "neutronclient.v2_0.client=ERROR" in levels
    assert "amqp=WARN" in levels  # oslo.log's own defaults stay


def test_rpc_servers_keep_fewer_threads_than_oslo_messaging_by_default() -> None:
    # Each RPC server's pool keeps every thread it ever started; 64 each held ~8 MB in the embedded process.
    assert config.CONF.executor_thread_pool_size == config.RPC_THREADS == 16
