"""Pecan inspects controller signatures on every request; remember them instead.

``pecan.compat.getargspec`` (pecan 1.8) builds a new ``namedtuple`` class on
each call, and routing one request calls it about a dozen times: some 0.5 ms
of CPU per request, a quarter of a small GET. A function's signature never
changes, so the answer is cached per function.

The cache replaces a private pecan function, so it is installed only on the pecan
versions whose routing was read and tested (``TESTED``); on any other the
routing stays pecan's own: correct, a little slower.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections import namedtuple
from collections.abc import Callable
from importlib import metadata
from typing import Any

import pecan.util

LOG = logging.getLogger(__name__)

#: pecan releases, as (major, minor), whose ``pecan.util.getargspec`` calls ``_getargspec``
#: as a module global with the meaning cached here.
TESTED = ((1, 5), (1, 6), (1, 7), (1, 8))

ArgSpec = namedtuple("ArgSpec", "args varargs keywords defaults")


def _argspec(func: Callable[..., Any]) -> ArgSpec:
    # NOTE: getfullargspec keeps ``self`` for a bound method, so the plain function
    # answers the same; keying on it keeps per-request controller instances out.
    return _function_argspec(getattr(func, "__func__", func))


@functools.lru_cache(maxsize=4096)
def _function_argspec(func: Callable[..., Any]) -> ArgSpec:
    args, varargs, keywords, defaults = inspect.getfullargspec(func)[:4]
    return ArgSpec(args=args, varargs=varargs, keywords=keywords, defaults=defaults)


def install(pecan_version: str | None = None) -> bool:
    """Make pecan's signature lookups cached on a tested pecan (idempotent); answer whether it did."""
    version = pecan_version or metadata.version("pecan")
    if _major_minor(version) not in TESTED or not callable(getattr(pecan.util, "_getargspec", None)):
        LOG.info("pecan %s is not one this service was tested with: its routing is left as it is", version)
        return False
    # NOTE: pecan.util.getargspec, which routing calls, looks up its helper as a
    # module global at call time, so replacing that global is enough.
    pecan.util._getargspec = _argspec
    return True


def _major_minor(version: str) -> tuple[int, ...]:
    parts = version.split(".")[:2]
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else ()
