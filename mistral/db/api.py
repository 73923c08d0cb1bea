"""The named queries: the only way the rest of the service reads and writes the database.

``get_*`` raises ``NotFoundError``; ``load_*`` returns ``None``; ``list_*``
takes a ``ListQuery``. Every function joins the caller's ``transaction()`` or
opens its own. The queries live in ``mistral.db.queries`` by noun; this module
gathers them so callers import one name.
"""

from __future__ import annotations

from mistral.db.queries.code_sources import *  # noqa: F403
from mistral.db.queries.definitions import *  # noqa: F403
from mistral.db.queries.event_triggers import *  # noqa: F403
from mistral.db.queries.execution_views import *  # noqa: F403
from mistral.db.queries.executions import *  # noqa: F403
from mistral.db.queries.named_locks import *  # noqa: F403
from mistral.db.queries.notifications import *  # noqa: F403
from mistral.db.queries.scheduled_jobs import *  # noqa: F403
from mistral.db.queries.triggers import *  # noqa: F403
from mistral.db.queries.work_items import *  # noqa: F403
from mistral.db.queries.workflow_versions import *  # noqa: F403
from mistral.db.query import Filter as Filter
from mistral.db.query import ListQuery as ListQuery
from mistral.db.retry import is_transient as is_transient
from mistral.db.retry import outside_work_allowed as outside_work_allowed
from mistral.db.retry import retry_on_transient as retry_on_transient
from mistral.db.retry import run_with_outside_work as run_with_outside_work
from mistral.db.retry import run_with_retry as run_with_retry
from mistral.db.session import on_commit as on_commit
from mistral.db.session import transaction as transaction
from mistral.db.types import StoredJson as StoredJson
