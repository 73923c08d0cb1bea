"""Pecan hooks: every request runs in the security context of its caller."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pecan import hooks

from mistral import config, context


def context_from_headers(headers: Any, token_info: Mapping[str, Any] | None = None) -> context.Context:
    """The caller as keystonemiddleware describes it in the request headers (and its token data)."""
    roles = tuple(r.strip() for r in headers.get("X-Roles", "").split(",") if r.strip())
    token = (token_info or {}).get("token") or {}
    return context.Context(
        project_id=headers.get("X-Project-Id") or context.DEFAULT_PROJECT_ID,
        user_id=headers.get("X-User-Id"),
        user_name=headers.get("X-User-Name"),
        project_name=headers.get("X-Project-Name"),
        auth_token=headers.get("X-Auth-Token"),
        roles=roles,
        is_admin="admin" in roles,
        service_catalog=service_catalog(headers.get("X-Service-Catalog"), token),
        region_name=headers.get("X-Region-Name") or None,
        expires_at=token.get("expires_at"),
    )


def service_catalog(header: str | None, token: Mapping[str, Any]) -> dict[str, Any] | None:
    """The catalog as keystoneclient's ``ServiceCatalog.factory`` reads it, or None when not given.

    keystonemiddleware puts the token's catalog in ``X-Service-Catalog`` (a JSON list for v3
    tokens); the factory wants it inside a v3 token body, which it recognizes by ``methods``.
    A header that is not a JSON list is ignored: the actions then ask Keystone for the catalog.
    """
    if not header:
        return None
    try:
        catalog = json.loads(header)
    except ValueError:
        return None
    if not isinstance(catalog, list):
        return None
    return {"methods": list(token.get("methods") or ["token"]), "catalog": catalog}


def request_context(headers: Any, environ: Mapping[str, Any]) -> context.Context:
    """The context a request runs in: its caller's, or with authentication off the one tenant's."""
    if config.CONF.pecan.auth_enable:
        # NOTE: keystonemiddleware leaves the validated token's data in the WSGI environ.
        return context_from_headers(headers, environ.get("keystone.token_info"))
    # NOTE: without authentication there is one tenant and it owns everything.
    return context.Context(is_admin=True)


class ContextHook(hooks.PecanHook):
    def before(self, state: Any) -> None:
        ctx = request_context(state.request.headers, state.request.environ)
        state.request.context["mistral_token"] = context.set_current(ctx)

    def after(self, state: Any) -> None:
        token = state.request.context.pop("mistral_token", None)
        if token is not None:
            context.reset(token)
