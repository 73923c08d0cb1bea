"""Pecan inspects controller signatures on every request; remember them instead.

``pecan.compat.getargspec`` (pecan 1.8) builds a new ``namedtuple`` class on
each call, and routing one request calls it about a dozen times: some 0.5 ms
of CPU per request, a quarter of a small GET. A function's signature never
changes, so the answer is cached per function.
"""

from __future__ import annotations

import functools
import inspect
from collections import namedtuple
from collections.abc import Callable
from typing import Any

import pecan.util

ArgSpec = namedtuple("ArgSpec", "args varargs keywords defaults")


def _argspec(func: Callable[..., Any]) -> ArgSpec:
    # NOTE: getfullargspec keeps ``self`` for a bound method, so the plain function
    # answers the same; keying on it keeps per-request controller instances out.
    return _function_argspec(getattr(func, "__func__", func))


@functools.lru_cache(maxsize=4096)
def _function_argspec(func: Callable[..., Any]) -> ArgSpec:
    args, varargs, keywords, defaults = inspect.getfullargspec(func)[:4]
    return ArgSpec(args=args, varargs=varargs, keywords=keywords, defaults=defaults)


def install() -> None:
    """Make pecan's signature lookups cached (idempotent)."""
    # NOTE: pecan.util.getargspec, which routing calls, looks up its helper as a
    # module global at call time, so replacing that global is enough.
    pecan.util._getargspec = _argspec
