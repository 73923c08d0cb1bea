"""Running a child process to its end, on every CPU the server may use (see mistral.utils.cpus)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

from mistral.utils import cpus


def run(
    argv: Sequence[str],
    *,
    input: str | None = None,  # noqa: A002 - subprocess.run's name
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    capture_output: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(argv, text=True, check=False, ...)``, with the child not kept to this process's CPU.

    Raises ``subprocess.TimeoutExpired`` (the child killed, its output not kept) as ``subprocess.run`` does.
    """
    pipe = subprocess.PIPE if capture_output else None
    with subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if input is not None else None,
        stdout=pipe,
        stderr=pipe,
        text=True,
        env=dict(env) if env is not None else None,
    ) as proc:
        cpus.release(proc.pid)
        try:
            stdout, stderr = proc.communicate(input, timeout=timeout)
        except BaseException:  # the timeout among them: the child goes with the caller's wait
            proc.kill()
            raise
        return subprocess.CompletedProcess(list(argv), proc.returncode, stdout, stderr)
