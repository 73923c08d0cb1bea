"""The operators' endpoints beside the REST API: ``/healthcheck`` and ``/metrics``.

``/healthcheck`` is oslo.middleware's, as Mistral deploys it: outside authentication, its
answer made by the backends of ``[healthcheck]`` (``disable_by_file`` answers 503 while
its file exists, so a load balancer drains this API before maintenance).

``/metrics`` is this process's Prometheus series (``mistral.metrics``). Prometheus carries no
Keystone token, so by default it is answered outside authentication too (``[metrics]
public``); not public, it is answered behind authentication, to admins only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from oslo_middleware import healthcheck
from webob.headers import EnvironHeaders

from mistral import config, context
from mistral.api import hooks, policy
from mistral.api.middleware import StartResponse, fault
from mistral.exceptions import PolicyError
from mistral.metrics import exposition

HEALTHCHECK_PATH = "/healthcheck"
METRICS_PATH = "/metrics"


def _path(environ: dict[str, Any]) -> str:
    return environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")


class PublicEndpoints:
    """Answer ``/healthcheck`` (if enabled) and, when public, ``/metrics``; pass the rest to ``app``."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        # NOTE: built once: oslo.middleware reads its backends and their options at construction.
        self.health: Callable[..., Any] | None = (
            healthcheck.Healthcheck(app, config.CONF) if config.CONF.healthcheck.enabled else None
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = _path(environ)
        if path == HEALTHCHECK_PATH and self.health is not None:
            return self.health(environ, start_response)
        if path == METRICS_PATH and config.CONF.metrics.enabled and config.CONF.metrics.public:
            return exposition.app(environ, start_response)
        return self.app(environ, start_response)


class AdminMetrics:
    """``/metrics`` when not public: placed behind authentication, it answers admins only."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        conf = config.CONF.metrics
        if _path(environ) != METRICS_PATH or not conf.enabled or conf.public:
            return self.app(environ, start_response)
        with context.using(hooks.request_context(EnvironHeaders(environ), environ)):
            try:
                policy.enforce("admin_only")
            except PolicyError as error:
                return fault(start_response, "403 Forbidden", str(error))
        return exposition.app(environ, start_response)
