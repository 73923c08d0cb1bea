"""The workflow spec of an execution, parsed once and cached.

An execution's stored spec never changes, so the parsed spec is a pure
function of the execution id (architecture rule 6).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from mistral.db import models
from mistral.lang import stored
from mistral.lang.specs import WorkflowSpec

_MAX = 2048
_cache: OrderedDict[str, WorkflowSpec] = OrderedDict()
_lock = threading.Lock()


def for_execution(wf_ex: models.WorkflowExecution) -> WorkflowSpec:
    with _lock:
        spec = _cache.get(wf_ex.id)
        if spec is not None:
            _cache.move_to_end(wf_ex.id)
            return spec
    runtime = wf_ex.runtime_context or {}
    spec = stored.workflow_spec(wf_ex.workflow_name or "", wf_ex.spec or {}, runtime.get("workbook_name"))
    with _lock:
        _cache[wf_ex.id] = spec
        if len(_cache) > _MAX:
            _cache.popitem(last=False)
    return spec
