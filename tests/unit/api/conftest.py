"""The API application in-process (WebTest) with the engine client replaced by a call recorder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest

from mistral.api import app as api_app
from mistral.rpc import clients


class RecordingEngine:
    """Records each engine call; answers ``answers[method]`` (a value, an error, or a function called
    with the call's arguments) or ``{"id": arg 1}``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.answers: dict[str, Any] = {}

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, args, kwargs))
            answer = self.answers.get(method)
            if isinstance(answer, Exception):
                raise answer
            if callable(answer):
                return answer(*args, **kwargs)
            return answer if answer is not None else {"id": args[0] if args else None}

        return call


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> RecordingEngine:
    fake = RecordingEngine()
    monkeypatch.setattr(clients, "engine", lambda: fake)
    return fake


@pytest.fixture
def app(db: str, engine: RecordingEngine) -> webtest.TestApp:
    return webtest.TestApp(api_app.setup_app(sync_actions=False))
