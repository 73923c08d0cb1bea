"""Generated actions described by a child process; their classes are built on first use.

NOTE: mistral-extra's generators import every OpenStack client library to read the
signatures and docstrings of ~1200 client methods: ~50 MB of RSS and 1400 modules kept
for the life of a process that, most of the time, never runs one of those actions. A
child process (``python -m mistral.cmd.generated_actions``, with this process's
configuration files) does that and writes what the registry needs (name, input,
description, is_sync, class path) as JSON; here each action gets a stand-in class of the
same name, module and qualified name, which builds the real class (importing the client
libraries of its generator) the first time the action is made.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from typing import Any

from mistral_lib import actions

from mistral import config, exceptions
from mistral.actions import generators
from mistral.utils import children
from mistral.utils.inputs import NO_DEFAULT, Param

LOG = logging.getLogger(__name__)

#: The environment variable naming the file the child writes its JSON to.
OUTPUT_ENV = "MISTRAL_GENERATED_ACTIONS_OUTPUT"
#: Seconds the child is given; it takes ~5 s on one core.
TIMEOUT_S = 300.0


@dataclasses.dataclass(frozen=True)
class DescribedAction:
    """A generated action as the registry describes it, without its class."""

    name: str
    params: list[Param]
    input_string: str
    description: str
    is_sync: bool
    #: ``__module__``, ``__qualname__`` and ``__name__`` of the real class.
    module: str
    qualname: str
    class_name: str
    #: Where ``generators.action_class`` finds the real class.
    entry_point: str
    generator: str


def _param_to_json(p: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name}
    if p.var_keyword:
        out["var_keyword"] = True
    elif p.default is not NO_DEFAULT:
        # NOTE: a default that is no JSON value (none is known) arrives as its text, as Mistral shows it.
        out["default"] = json.loads(json.dumps(p.default, default=str))
    return out


def _param_from_json(data: dict[str, Any]) -> Param:
    return Param(data["name"], data.get("default", NO_DEFAULT), bool(data.get("var_keyword", False)))


def to_json(described: Iterable[DescribedAction]) -> str:
    records = []
    for d in described:
        record = dataclasses.asdict(d)
        record["params"] = [_param_to_json(p) for p in d.params]
        records.append(record)
    return json.dumps(records)


def from_json(text: str) -> list[DescribedAction]:
    out = []
    for record in json.loads(text):
        record["params"] = [_param_from_json(p) for p in record["params"]]
        out.append(DescribedAction(**record))
    return out


def write_output(described: Iterable[DescribedAction]) -> None:
    """Child side: write the records where the parent asked (``OUTPUT_ENV``)."""
    with open(os.environ[OUTPUT_ENV], "w", encoding="utf-8") as out:
        out.write(to_json(described))


def describe_in_child() -> list[DescribedAction] | None:
    """The generated actions as a child process describes them; None (logged) when it failed."""
    argv = [sys.executable, "-m", "mistral.cmd.generated_actions", *_config_args()]
    with tempfile.NamedTemporaryFile(prefix="mistral-generated-", suffix=".json") as out:
        env = dict(os.environ, **{OUTPUT_ENV: out.name})
        try:
            done = children.run(argv, env=env, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            LOG.error("Describing the generated actions in a child process failed: %s", exc)
            return None
        if done.returncode != 0:
            LOG.error("Describing the generated actions in a child process failed (exit %s)", done.returncode)
            return None
        with open(out.name, encoding="utf-8") as result:
            return from_json(result.read())


def _config_args() -> list[str]:
    """This process's configuration files, for the child to read the same options."""
    args: list[str] = []
    for path in config.CONF.config_file or []:
        args += ["--config-file", path]
    for path in config.CONF.config_dir or []:
        args += ["--config-dir", path]
    return args


def stand_in(described: DescribedAction) -> type:
    """A class that makes the real action (building the real class on first use) when called."""

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        try:
            real = generators.action_class(described.entry_point, described.generator, described.name)
        except Exception as exc:  # whatever the plugin's import raises, or its action is gone
            reason = f"{type(exc).__name__}: {exc}"
            raise exceptions.ActionLoadError(f"{described.name} = {described.entry_point}", reason) from exc
        return real(*args, **kwargs)

    def run(self: Any, context: Any) -> Any:  # never called: __new__ returns the real action
        raise NotImplementedError

    return type(
        described.class_name,
        (actions.Action,),
        {
            "__new__": __new__,
            "run": run,
            "__module__": described.module,
            "__qualname__": described.qualname,
            "__doc__": described.description,
        },
    )
