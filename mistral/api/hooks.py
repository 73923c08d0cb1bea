"""Pecan hooks: every request runs in the security context of its caller."""

from __future__ import annotations

from typing import Any

from pecan import hooks

from mistral import config, context


def context_from_headers(headers: Any) -> context.Context:
    """The caller as keystonemiddleware describes it in the request headers."""
    roles = tuple(r.strip() for r in headers.get("X-Roles", "").split(",") if r.strip())
    return context.Context(
        project_id=headers.get("X-Project-Id") or context.DEFAULT_PROJECT_ID,
        user_id=headers.get("X-User-Id"),
        user_name=headers.get("X-User-Name"),
        project_name=headers.get("X-Project-Name"),
        auth_token=headers.get("X-Auth-Token"),
        roles=roles,
        is_admin="admin" in roles,
    )


class ContextHook(hooks.PecanHook):
    def before(self, state: Any) -> None:
        if config.CONF.pecan.auth_enable:
            ctx = context_from_headers(state.request.headers)
        else:
            # NOTE: without authentication there is one tenant and it owns everything.
            ctx = context.Context(is_admin=True)
        state.request.context["mistral_token"] = context.set_current(ctx)

    def after(self, state: Any) -> None:
        token = state.request.context.pop("mistral_token", None)
        if token is not None:
            context.reset(token)
