"""The per-thread application context that OpenStack actions read besides their ActionContext.

mistral-extra's keystone utils find the service catalog, region and token
through ``mistral_lib.utils.get_thread_local("MISTRAL_APP_CTX_THREAD_LOCAL")``
(the slot OpenStack Mistral keeps its request context in), not only through the
``context`` argument of ``run()``. So while an action runs, its thread holds an
object with the same attributes there; nothing else in this service reads it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from mistral_lib import utils
from mistral_lib.actions.context import SecurityContext

from mistral.config import CONF

#: The thread-local name mistral-lib users share for the application context.
THREAD_LOCAL_NAME = "MISTRAL_APP_CTX_THREAD_LOCAL"


def keystone_settings() -> dict[str, Any]:
    """``auth_uri``, ``auth_cacert`` and ``insecure`` from ``[keystone_authtoken]``, as Mistral fills them.

    Empty when the group is not registered (keystonemiddleware never imported: no auth, no
    OpenStack actions), so plain actions never pay for it.
    """
    if "keystone_authtoken" not in CONF:
        return {}
    group = CONF.keystone_authtoken
    return {"auth_uri": group.www_authenticate_uri, "auth_cacert": group.cafile, "insecure": group.insecure}


@contextlib.contextmanager
def using(security: SecurityContext, *, user_id: str | None = None) -> Iterator[Any]:
    """Hold ``security`` (plus ``user_id``, which SecurityContext lacks) as this thread's app context."""
    previous = utils.get_thread_local(THREAD_LOCAL_NAME)
    app_ctx = SimpleNamespace(**vars(security), user_id=user_id)
    utils.set_thread_local(THREAD_LOCAL_NAME, app_ctx)
    try:
        yield app_ctx
    finally:
        utils.set_thread_local(THREAD_LOCAL_NAME, previous)
