"""std.javascript (std.js): evaluate a JavaScript snippet with V8 through py_mini_racer."""

from __future__ import annotations

import json
import logging
from typing import Any

from mistral_lib import actions
from mistral_lib.actions.context import ActionContext
from mistral_lib.exceptions import ActionException

LOG = logging.getLogger(__name__)

# A runaway script must not hold an executor worker forever; data shaping
# scripts finish in milliseconds, so this bound is generous.
SCRIPT_TIMEOUT = 300.0


class JavaScriptAction(actions.Action):
    """Evaluate a JavaScript function body with $ bound to the given context."""

    def __init__(self, script: str, context: Any = None) -> None:
        self.script = script
        self.context = context

    def run(self, context: ActionContext) -> Any:
        try:
            from py_mini_racer import JSEvalException, MiniRacer
        except ImportError as exc:
            raise ActionException(
                "std.javascript needs the py_mini_racer module (pip install mini-racer), "
                f"which is not importable here: {exc}"
            ) from exc
        # The result crosses the boundary as JSON so that JS objects and arrays
        # come back as plain dicts and lists.
        source = (
            f"var $ = {json.dumps(self.context, default=str)};\n"
            f"function f() {{\n{self.script}\n}}\n"
            "JSON.stringify(f())"
        )
        try:
            with MiniRacer() as racer:
                result = racer.eval(source, timeout_sec=SCRIPT_TIMEOUT)
        except JSEvalException as exc:
            raise ActionException(f"JavaScript failed: {exc}") from exc
        # JSON.stringify(undefined) is undefined: a script that returns nothing.
        return json.loads(result) if isinstance(result, str) else None
