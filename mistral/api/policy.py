"""Who may do what: oslo.policy rules ``<resource>:<operation>`` with defaults registered in code.

Operators override any rule in the file named by ``[oslo_policy] policy_file`` (default
``policy.yaml``, looked up like a config file) or in ``[oslo_policy] policy_dirs``;
``oslopolicy-sample-generator --namespace mistral`` prints every rule with its default.

NOTE: policy answers "may this caller do this kind of thing at all". Which rows a caller
sees, and that another project's public object can be read but not changed, is decided
by the database scoping (``mistral.db.query.scoped`` and ``check_owner``). So the target
of a check is the caller's own project unless a controller passes the object's, and the
default ``admin_or_owner`` rule lets every authenticated caller work with its own project.

NOTE: with ``[pecan] auth_enable = false`` nothing is enforced: there is one tenant and
no credentials to check (the embedded quick start).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import pecan
from oslo_policy import policy as oslo_policy

from mistral import config, context
from mistral.api import middleware
from mistral.exceptions import PolicyError

ADMIN_ONLY = "rule:admin_only"
ADMIN_OR_OWNER = "rule:admin_or_owner"

BASE_RULES = [
    oslo_policy.RuleDefault("admin_only", "is_admin:True", description="The caller has the admin role."),
    oslo_policy.RuleDefault(
        "admin_or_owner",
        "is_admin:True or project_id:%(project_id)s",
        description="The caller is an admin or belongs to the project that owns the object.",
    ),
]

CRUD = ("create", "get", "list", "update", "delete")
#: resource -> (one object, several objects, operations, the collection's path)
RESOURCES: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "workflows": ("a workflow", "workflows", (*CRUD, "publicize"), "/v2/workflows"),
    "workbooks": ("a workbook", "workbooks", (*CRUD, "publicize"), "/v2/workbooks"),
    "actions": ("an ad-hoc action", "actions", (*CRUD, "publicize"), "/v2/actions"),
    "executions": ("a workflow execution", "workflow executions", CRUD, "/v2/executions"),
    "tasks": ("a task execution", "task executions", ("get", "list", "update"), "/v2/tasks"),
    "action_executions": ("an action execution", "action executions", CRUD, "/v2/action_executions"),
    # NOTE: cron triggers have no PUT.
    "cron_triggers": (
        "a cron trigger",
        "cron triggers",
        ("create", "get", "list", "delete", "publicize"),
        "/v2/cron_triggers",
    ),
    "event_triggers": ("an event trigger", "event triggers", (*CRUD, "publicize"), "/v2/event_triggers"),
    "environments": ("an environment", "environments", (*CRUD, "publicize"), "/v2/environments"),
    # NOTE: members has no list:all_projects: a member list belongs to one workflow.
    "members": ("a workflow member", "workflow members", CRUD, "/v2/workflows/{workflow_id}/members"),
    # NOTE: not in Mistral. Who may see a workflow may see its history: these rules say who may ask.
    "workflow_versions": (
        "a workflow version",
        "workflow versions",
        ("get", "list"),
        "/v2/workflows/{workflow_id}/versions",
    ),
    # NOTE: registered as Mistral registers them, so a policy file written for Mistral keeps
    # meaning the same here and the endpoints find their rules when they come.
    "services": ("a service", "services", ("list",), "/v2/services"),
    "code_sources": ("a code source", "code sources", (*CRUD, "publicize"), "/v2/code_sources"),
    "dynamic_actions": ("a dynamic action", "dynamic actions", (*CRUD, "publicize"), "/v2/dynamic_actions"),
    # NOTE: not in Mistral 23: external workers' queues (update: renew or give back a lease).
    "work_items": ("a work item", "work items", ("get", "list", "update", "claim"), "/v2/work_items"),
}

#: Resources without a ``list:all_projects`` rule: their lists have no other projects to show.
NO_ALL_PROJECTS = frozenset({"members", "services", "workflow_versions"})

#: Whole resources whose every rule defaults to ``admin_only``, as in Mistral 23: code sources
#: and dynamic actions run Python code uploaded through the API inside the executors.
ADMIN_ONLY_RESOURCES = frozenset({"code_sources", "dynamic_actions"})

#: Operations that default to ``admin_only`` on every resource, as in Mistral 23:
#: ``publicize`` (an object every project sees, and for an event trigger one that reacts to every
#: project's notifications) and ``list:all_projects`` (an operator's view).
ADMIN_ONLY_OPERATIONS = frozenset({"publicize", "list:all_projects"})

#: operation -> (description, HTTP method, whether the path addresses one object)
_OPERATIONS = {
    "create": ("Create {one}.", "POST", False),
    "get": ("Show {one}.", "GET", True),
    "list": ("List {many} of the caller's project, public ones and shared ones.", "GET", False),
    "update": ("Update {one}.", "PUT", True),
    "delete": ("Delete {one}.", "DELETE", True),
    "publicize": ("Create or update {one} with scope=public (visible to every project).", "POST", False),
    "list:all_projects": ("List {many} of every project (all_projects=true).", "GET", False),
    "claim": ("Claim {many} of a queue of the caller's project for a lease.", "POST", False),
}


def _rule(resource: str, op: str) -> oslo_policy.DocumentedRuleDefault:
    one, many, _, path = RESOURCES[resource]
    name = f"{resource}:{op}"
    admin = op in ADMIN_ONLY_OPERATIONS or resource in ADMIN_ONLY_RESOURCES
    description, method, single = _OPERATIONS[op]
    where = f"{path}/claim" if op == "claim" else f"{path}/{{id}}" if single else path
    first: oslo_policy.Operation = {"path": where, "method": method}
    operations = [first]
    if op == "publicize":
        operations.append({"path": path, "method": "PUT"})
    return oslo_policy.DocumentedRuleDefault(
        name=name,
        check_str=ADMIN_ONLY if admin else ADMIN_OR_OWNER,
        description=description.format(one=one, many=many),
        operations=operations,
    )


#: Rules of the endpoints this API has beyond Mistral's: name -> (description, method, path).
EXTENSION_RULES = {
    "executions:waits": (
        "Show what the unfinished tasks of a workflow execution wait for.",
        "GET",
        "/v2/executions/{id}/waits",
    ),
}


def _extension_rule(name: str) -> oslo_policy.DocumentedRuleDefault:
    description, method, path = EXTENSION_RULES[name]
    return oslo_policy.DocumentedRuleDefault(
        name=name,
        check_str=ADMIN_OR_OWNER,
        description=description,
        operations=[{"path": path, "method": method}],
    )


def list_rules() -> list[oslo_policy.RuleDefault]:
    """Every rule with its default (the ``oslo.policy.policies`` entry point)."""
    rules = list(BASE_RULES)
    for resource, (_, _, ops, _) in RESOURCES.items():
        rules += [_rule(resource, op) for op in ops]
        if "list" in ops and resource not in NO_ALL_PROJECTS:
            rules.append(_rule(resource, "list:all_projects"))
    rules += [_extension_rule(name) for name in EXTENSION_RULES]
    return rules


_enforcer: oslo_policy.Enforcer | None = None
_lock = threading.Lock()


def get_enforcer() -> oslo_policy.Enforcer:
    """The process-wide enforcer, reading ``[oslo_policy]`` of the service's configuration."""
    global _enforcer
    with _lock:
        if _enforcer is None:
            enforcer = oslo_policy.Enforcer(config.CONF)
            enforcer.register_defaults(list_rules())
            _enforcer = enforcer
        return _enforcer


def reset() -> None:
    """Forget the enforcer, so the next check reads ``[oslo_policy]`` options and files again."""
    global _enforcer
    with _lock:
        if _enforcer is not None:
            _enforcer.clear()
        _enforcer = None
    _decisions.forget()


#: Seconds an answer of oslo.policy is reused for the same rule, target and credentials; the
#: policy files are looked at again once they have passed.
DECISIONS_KEPT_S = 1.0
#: Most answers kept at once: many callers within one period only ask oslo.policy again.
MOST_DECISIONS = 10_000


class _Decisions:
    """oslo.policy's answers, reused for ``DECISIONS_KEPT_S`` and then all forgotten.

    NOTE (issue 14): a check cost 0.32 ms of CPU, on every authenticated request: 0.13 ms of it
    oslo.policy looking for changed policy files, most of the rest finding each rule's signature
    (``inspect``) at each call. An operator's change to a policy file now applies within a second.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[Any, bool] = {}
        self._until = 0.0

    def forget(self) -> None:
        with self._lock:
            self._answers, self._until = {}, 0.0

    def allowed(
        self, enforcer: oslo_policy.Enforcer, name: str, target: Mapping[str, Any], creds: dict[str, Any]
    ) -> bool:
        key = _key(name, target, creds)
        now = time.monotonic()
        with self._lock:
            if now >= self._until:
                self._answers, self._until = {}, now + DECISIONS_KEPT_S
            answers = self._answers
            answer = answers.get(key) if key is not None else None
        if answer is None:
            answer = bool(enforcer.authorize(name, target, creds))
            if key is not None:
                with self._lock:
                    # NOTE: not into the answers of a later period (or of after a reset): this one
                    # may come from the rules as they were before.
                    if answers is self._answers and len(answers) < MOST_DECISIONS:
                        answers[key] = answer
        return answer


def _key(name: str, target: Mapping[str, Any], creds: dict[str, Any]) -> Any:
    """What an answer depends on, hashable; None when some value is not (that check is not kept)."""
    try:
        key = (name, frozenset(target.items()), tuple((k, _frozen(v)) for k, v in creds.items()))
        hash(key)
    except TypeError:
        return None
    return key


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_decisions = _Decisions()


def _credentials(ctx: context.Context) -> dict[str, Any]:
    return {
        "project_id": ctx.project_id,
        "user_id": ctx.user_id,
        "roles": list(ctx.roles),
        "is_admin": ctx.is_admin,
    }


def _true(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def enforce(
    rule: str,
    target: Mapping[str, Any] | None = None,
    *,
    scope: Any = None,
    all_projects: Any = None,
) -> None:
    """Raise ``PolicyError`` naming ``rule`` unless the current caller may perform it.

    ``target`` defaults to the caller's own project. ``scope="public"`` also checks
    ``<resource>:publicize``; a true ``all_projects`` (a bool or the query text) also checks
    ``<resource>:list:all_projects``.
    """
    if not config.CONF.pecan.auth_enable:
        return
    ctx = context.current()
    target = dict(target) if target is not None else {"project_id": ctx.project_id, "user_id": ctx.user_id}
    resource = rule.split(":", 1)[0]
    rules = [rule]
    if scope == "public":
        rules.append(f"{resource}:publicize")
    if all_projects is not None and _true(all_projects):
        rules.append(f"{resource}:list:all_projects")
    creds = _credentials(ctx)
    enforcer = get_enforcer()
    for name in rules:
        if not _decisions.allowed(enforcer, name, target, creds):
            raise PolicyError(f"Policy doesn't allow {name} to be performed.")


def body_scope() -> Any:
    """``scope`` of a JSON request body, for the publicize check before the body is validated."""
    try:
        body = middleware.request_json(pecan.request)
    except ValueError:
        return None
    return body.get("scope") if isinstance(body, dict) else None
