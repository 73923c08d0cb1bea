"""The pieces of ``tools/tempest``: reading a run's results, the configuration it writes, and its
registration in the Keystone catalog (against the real Keystone)."""

from __future__ import annotations

import configparser
import sys
import urllib.request
from pathlib import Path

import pytest

from mistral import config
from tests.functional.tenancy import KEYSTONE_PASSWORD, keystone  # noqa: F401 - the fixture

# NOTE: tools/ is no package (system python3 runs it); its folder is on the path only for these imports.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "tempest"))
try:
    import catalog
    import results
    import run
    import settings
finally:
    sys.path.pop(0)

API = "mistral_tempest_tests.tests.api.v2"
CSV = f"""test,status,start_time,stop_time
"{API}.test_actions.ActionTestsV2.test_create_action[id-0c45,smoke]",success,t0,t1
"{API}.test_actions.ActionTestsV2.test_delete_standard_action[id-74d0,negative]",skip,t0,t1
"{API}.test_executions.ExecutionTestsV2.test_update_execution_by_admin[id-b5ce,sanity]",fail,t0,t1
setUpClass ({API}.test_cron_triggers.CronTriggerTestsV2),fail,t0,t1
tearDownClass ({API}.test_tasks.TasksTestsV2),fail,t0,t1
"{API}.test_tasks.TasksTestsV2.test_get_task",uxsuccess,t0,t1
"""


def test_results_are_read_by_plain_id_and_status() -> None:
    outcome = results.parse_csv(CSV)
    assert outcome.passed == [f"{API}.test_actions.ActionTestsV2.test_create_action"]
    assert outcome.skipped == [f"{API}.test_actions.ActionTestsV2.test_delete_standard_action"]
    assert outcome.failed == [
        f"{API}.test_executions.ExecutionTestsV2.test_update_execution_by_admin",
        f"{API}.test_tasks.TasksTestsV2.test_get_task",  # passing a test expected to fail is a failure
        f"setUpClass ({API}.test_cron_triggers.CronTriggerTestsV2)",
    ]
    assert outcome.cleanup_failed == [f"tearDownClass ({API}.test_tasks.TasksTestsV2)"]


def test_a_class_that_could_not_set_up_is_replaced_by_its_second_run() -> None:
    first = results.parse_csv(CSV)
    assert first.setup_failures() == [f"{API}.test_cron_triggers.CronTriggerTestsV2"]
    second = results.parse_csv(
        f'test,status,start_time,stop_time\n"{API}.test_cron_triggers.CronTriggerTestsV2.test_get_list",success,t0,t1\n'
    )
    merged = first.without_setup_failures().merged(second)
    assert f"{API}.test_cron_triggers.CronTriggerTestsV2.test_get_list" in merged.passed
    assert merged.setup_failures() == []
    assert len(merged.failed) == 2


def test_the_internet_bound_tests_are_excluded_and_nothing_else() -> None:
    import re

    exclude = re.compile(run.EXCLUDE)
    base = f"{API}.test_action_executions.ActionExecutionTestsV2."
    for name in run.INTERNET_TESTS:
        assert exclude.search(f"{base}{name}[id-1234]")
    assert not exclude.search(f"{base}test_run_action_std_echo[id-1234]")
    assert not exclude.search(f"{base}test_run_action_std_http_whatever")


def test_the_service_reads_the_keystone_authtoken_it_is_given(tmp_path: Path) -> None:
    """The file the harness writes is one the service's own options accept, auth on."""
    conf_run = settings.Run(tmp_path, "http://keystone.example:5000/v3", "secret", "RegionOne", 12345)
    path = tmp_path / "mistral.conf"
    path.write_text(settings.mistral_conf(conf_run))
    parser = configparser.ConfigParser()
    parser.read(path)
    assert parser["keystone_authtoken"]["username"] == catalog.SERVICE_USER
    assert parser["keystone_authtoken"]["www_authenticate_uri"] == "http://keystone.example:5000/v3"
    conf = config.cfg.ConfigOpts()
    conf.register_opts(config.api_opts, group="api")
    conf.register_opts(config.pecan_opts, group="pecan")
    conf(["--config-file", str(path)], project="mistral-test")
    assert conf.api.port == 12345
    assert conf.api.allow_action_execution_deletion is True
    assert conf.pecan.auth_enable is True


def test_tempest_conf_uses_dynamic_credentials_and_only_mistral(tmp_path: Path) -> None:
    conf_run = settings.Run(tmp_path, "http://keystone.example:5000/v3", "secret", "RegionOne", 12345)
    parser = configparser.ConfigParser()
    parser.read_string(settings.tempest_conf(conf_run))
    assert parser["auth"]["use_dynamic_credentials"] == "true"
    assert parser["identity"]["uri_v3"] == "http://keystone.example:5000/v3"
    assert parser["service_available"]["mistral"] == "true"
    assert parser["service_available"]["nova"] == "false"


@pytest.fixture
def admin(keystone: str) -> catalog.seed.Keystone:  # noqa: F811 - the fixture imported above
    return catalog.seed.Keystone(keystone, KEYSTONE_PASSWORD)


def catalog_urls(admin: catalog.seed.Keystone, service_id: str) -> dict[str, list[str]]:
    found = admin.call("GET", f"/endpoints?service_id={service_id}&region_id=RegionOne")["endpoints"]
    urls: dict[str, list[str]] = {}
    for endpoint in found:
        urls.setdefault(endpoint["interface"], []).append(endpoint["url"])
    return urls


def test_registering_twice_moves_the_endpoints_and_adds_nothing(admin: catalog.seed.Keystone) -> None:
    with run.keystone_lock(admin.url):
        first = catalog.register_endpoints(admin, "http://127.0.0.1:1111/v2", "RegionOne")
        second = catalog.register_endpoints(admin, "http://127.0.0.1:2222/v2", "RegionOne")
        urls = catalog_urls(admin, second)
    assert first == second
    assert urls == {name: ["http://127.0.0.1:2222/v2"] for name in ("public", "internal", "admin")}
    services = admin.call("GET", f"/services?type={catalog.SERVICE_TYPE}")["services"]
    assert len(services) == 1


def test_the_service_user_can_validate_tokens(admin: catalog.seed.Keystone, keystone: str) -> None:  # noqa: F811
    """What keystonemiddleware does with ``[keystone_authtoken]``: log in as ``mistral`` in ``service``
    and check a caller's token.

    NOTE: the password is not changed here to test its repair: that revokes the tokens of every
    server of the session that validates as ``mistral``, and Keystone also refuses tokens issued in
    the second of the revocation (seen as a 401 here).
    """
    with run.keystone_lock(admin.url):
        catalog.register_service_user(admin, KEYSTONE_PASSWORD)
        service_token = catalog.log_in(
            keystone, catalog.SERVICE_USER, catalog.SERVICE_PROJECT, KEYSTONE_PASSWORD
        )
    assert service_token
    check = urllib.request.Request(f"{keystone}/auth/tokens", method="GET")
    check.add_header("X-Auth-Token", service_token)
    check.add_header("X-Subject-Token", admin.token)
    with urllib.request.urlopen(check, timeout=30) as resp:
        assert resp.status == 200
