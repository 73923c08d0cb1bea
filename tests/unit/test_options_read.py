"""Options a Mistral configuration may carry for features this service lacks are refused, not ignored."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap


def _run(tmp_path: pathlib.Path, conf: str, code: str) -> subprocess.CompletedProcess[str]:
    conf_file = tmp_path / "mistral.conf"
    conf_file.write_text(textwrap.dedent(conf))
    script = f"from mistral import config\nconfig.parse_args(['--config-file', {str(conf_file)!r}])\n" + code
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


def test_an_authentication_method_other_than_keystone_stops_the_api(tmp_path: pathlib.Path) -> None:
    done = _run(
        tmp_path,
        """
        [DEFAULT]
        auth_type = keycloak-oidc
        [pecan]
        auth_enable = true
        """,
        "from mistral.api import app\napp.setup_app(sync_actions=False)\n",
    )
    assert done.returncode != 0
    assert "auth_type" in done.stderr and "keycloak-oidc" in done.stderr


def test_the_authentication_method_is_not_read_with_authentication_off(tmp_path: pathlib.Path) -> None:
    done = _run(
        tmp_path,
        """
        [DEFAULT]
        auth_type = keycloak-oidc
        """,
        "from mistral.api import app\napp.setup_app(sync_actions=False)\nprint('up')\n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("up")


def test_a_javascript_engine_other_than_mini_racer_fails_the_action_and_says_so(
    tmp_path: pathlib.Path,
) -> None:
    done = _run(
        tmp_path,
        """
        [DEFAULT]
        js_implementation = v8eval
        """,
        textwrap.dedent(
            """
            from mistral_lib.exceptions import ActionException
            from mistral.actions.javascript import JavaScriptAction
            try:
                JavaScriptAction("return 1").run(None)
            except ActionException as exc:
                print(exc)
            """
        ),
    )
    assert done.returncode == 0, done.stderr
    assert "std.javascript can't run" in done.stdout and "js_implementation" in done.stdout
    assert "v8eval" in done.stdout
