"""The WSGI application: Pecan controllers plus the middleware around them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from mistral.utils import lean_imports

with lean_imports.without("pygments"):
    import pecan

from mistral import config
from mistral.api import (
    hooks,
    middleware,
    operators,
    pecan_argspec,
    polled_reads,
    queue_depth,
    request,
    route_faults,
)
from mistral.api.apidoc import serve as apidoc
from mistral.api.console import serve as console
from mistral.services import actions as action_service
from mistral.services import system_workflows


def pecan_config() -> dict[str, Any]:
    conf = config.CONF.pecan
    return {
        "app": {
            "root": conf.root,
            "modules": conf.modules,
            "debug": conf.debug,
            "force_canonical": False,
            "guess_content_type_from_ext": False,
        },
        "wsme": {"debug": conf.debug},
    }


def setup_app(*, sync_actions: bool = True) -> Callable[..., Any]:
    """Build the API application from the parsed configuration."""
    if sync_actions:
        # NOTE: plugins installed since the last start show up in GET /v2/actions and /v2/workflows.
        action_service.sync_system_actions()
        system_workflows.sync_system_workflows()
    pecan_argspec.install()
    queue_depth.register()
    app_conf = pecan_config()["app"]
    # NOTE: one root instance serves the requests and is described by the API document.
    root = _root_controller(app_conf.pop("root"))
    app = pecan.make_app(
        root,
        hooks=[hooks.ContextHook(), route_faults.RouteFaultHook(root)],
        request_cls=request.Request,
        logging=False,
        **{k: v for k, v in app_conf.items() if k != "modules"},
    )
    pecan.conf.update(pecan_config())
    app = polled_reads.PolledReads(app)
    # NOTE: outermost last. Bodies are bounded before anything reads them, JSON is decoded
    # only for callers Keystone let through, and every answer (even a 500) gets a request id.
    app = middleware.JsonDepthLimit(app)
    app = operators.AdminMetrics(app)
    if config.CONF.pecan.auth_enable:
        # NOTE: reading the option validates it: a configuration asking for an authentication method
        # this service lacks must not start an API that authenticates some other way.
        config.CONF.auth_type  # noqa: B018
        app = _with_keystone(app)
    app = apidoc.PublicDocument(app, root)
    if config.CONF.api.console_enabled:
        # NOTE: outside authentication: the console's files are public, its data is not (see serve.py).
        app = console.Console(app)
    app = operators.PublicEndpoints(app)
    app = middleware.AuthFailureHeader(app)
    app = middleware.BodySizeLimit(app, config.CONF.api.max_request_body_kb * 1024)
    return middleware.with_request_id(middleware.InternalErrors(app))


def _root_controller(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)()


def _with_keystone(app: Callable[..., Any]) -> Callable[..., Any]:
    from keystonemiddleware import auth_token

    # NOTE: the service's own configuration object, so that [keystone_authtoken] comes from the files
    # given with --config-file; with only oslo_config_project the middleware would read a private copy
    # of the default files (/etc/mistral/mistral.conf) and miss it.
    return auth_token.AuthProtocol(
        app,
        {"oslo_config_config": config.CONF, "oslo_config_project": "mistral", "delay_auth_decision": False},
    )
