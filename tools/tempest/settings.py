"""The two configuration files of a Tempest run: the service's ``mistral.conf`` and ``tempest.conf``.

``mistral.conf`` is what an operator writes for OpenStack Mistral behind Keystone (README.rst, "Behind
Keystone"), plus the one API option Mistral's devstack plugin sets (``[api]
allow_action_execution_deletion``). Of the plugin's other settings, ``[DEFAULT] server = all`` is our
``--server all``, the database and transport are the embedded SQLite file and in-process RPC, and
``debug``/colour logging change nothing the tests see.

``tempest.conf`` is what devstack writes for the API tests: the Keystone admin creates a fresh project
and user for each test class (dynamic credentials), identity v3 only, and no service but Mistral, so
that no test reaches for Nova, Glance or Neutron.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import catalog


@dataclass(frozen=True)
class Run:
    """Where one run keeps its files and what it talks to."""

    workdir: Path
    keystone_url: str
    password: str
    region: str
    api_port: int

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/v2"


def ini(sections: dict[str, dict[str, object]]) -> str:
    lines = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{name} = {value}" for name, value in options.items())
        lines.append("")
    return "\n".join(lines)


def mistral_conf(run: Run) -> str:
    return ini(
        {
            "DEFAULT": {"data_dir": run.workdir / "data"},
            "api": {"host": "127.0.0.1", "port": run.api_port, "allow_action_execution_deletion": "true"},
            "database": {"connection": f"sqlite:///{run.workdir / 'data' / 'mistral.sqlite'}"},
            "pecan": {"auth_enable": "true"},
            "keystone_authtoken": {
                "www_authenticate_uri": run.keystone_url,
                "auth_url": run.keystone_url,
                "auth_type": "password",
                "interface": "public",
                "username": catalog.SERVICE_USER,
                "password": run.password,
                "user_domain_name": "Default",
                "project_name": catalog.SERVICE_PROJECT,
                "project_domain_name": "Default",
                "region_name": run.region,
                "service_token_roles_required": "true",
            },
        }
    )


def tempest_conf(run: Run) -> str:
    not_deployed = ("nova", "glance", "neutron", "cinder", "swift", "heat", "horizon", "designate", "zaqar")
    return ini(
        {
            "DEFAULT": {"log_file": run.workdir / "tempest.log", "use_stderr": "false"},
            "oslo_concurrency": {"lock_path": run.workdir / "locks"},
            "auth": {
                "use_dynamic_credentials": "true",
                "create_isolated_networks": "false",
                "admin_username": "admin",
                "admin_password": run.password,
                "admin_project_name": "admin",
                "admin_domain_name": "Default",
                "default_credentials_domain_name": "Default",
            },
            "identity": {
                "uri_v3": run.keystone_url,
                "auth_version": "v3",
                "region": run.region,
                "v3_endpoint_type": "public",
            },
            "identity-feature-enabled": {"api_v2": "false", "api_v3": "true"},
            "service_available": {"mistral": "true", **{name: "false" for name in not_deployed}},
        }
    )
