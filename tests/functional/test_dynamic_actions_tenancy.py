"""Code sources and dynamic actions with Keystone: admin-only by default, and scoped to their project."""

from __future__ import annotations

import pytest

from tests.functional.tenancy import PROJECT_A, Tenant

CODE = """\
from mistral_lib import actions


class Whoami(actions.Action):
    def run(self, context):
        return {"project_id": context.security.project_id}
"""

WORKFLOW = """\
version: '2.0'
who:
  tasks:
    ask:
      action: whoami
      publish:
        project: <% task().result.project_id %>
"""

TEXT = {"Content-Type": "text/plain"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/code_sources", {}),
        ("POST", "/code_sources?name=m", {"data": CODE, "headers": TEXT}),
        ("PUT", "/code_sources?identifier=m", {"data": CODE, "headers": TEXT}),
        ("DELETE", "/code_sources/m", {}),
        ("GET", "/dynamic_actions", {}),
        (
            "POST",
            "/dynamic_actions",
            {"json": {"name": "w", "class_name": "Whoami", "code_source_name": "m"}},
        ),
        ("DELETE", "/dynamic_actions/w", {}),
    ],
)
def test_a_member_may_not_touch_code(tenants: tuple[Tenant, Tenant, Tenant], method: str, path: str,
                                     kwargs: dict) -> None:  # fmt: skip
    member, _, _ = tenants
    resp = member.request(method, path, **kwargs)
    assert resp.status_code == 403, resp.text
    assert ":" in resp.json()["faultstring"]  # names the rule, e.g. code_sources:list


def test_an_admin_provides_an_action_its_project_runs(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    member_a, member_b, _ = tenants
    admin_a = Tenant(member_a.url, PROJECT_A, "admin")
    resp = admin_a.request("POST", "/code_sources?name=who_mod", data=CODE, headers=TEXT)
    assert resp.status_code == 201, resp.text
    assert resp.json()["project_id"] == member_a.project_id
    body = {"name": "whoami", "class_name": "Whoami", "code_source_name": "who_mod"}
    assert admin_a.request("POST", "/dynamic_actions", json=body).status_code == 201

    for member in (member_a, member_b):
        resp = member.request("POST", "/workflows", data=WORKFLOW, headers=TEXT)
        assert resp.status_code == 201, resp.text
    done_a = member_a.wait_done(member_a.start(workflow_name="who").json()["id"], timeout=30)
    assert done_a["state"] == "SUCCESS", done_a["state_info"]
    # The action ran with the caller's security context.
    assert member_a.project_id in done_a["output"]
    # Project B cannot see project A's private dynamic action.
    done_b = member_b.wait_done(member_b.start(workflow_name="who").json()["id"], timeout=30)
    assert done_b["state"] == "ERROR"
    assert "whoami" in done_b["state_info"]
