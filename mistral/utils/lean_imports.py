"""Importing a library without the optional extras it loads only because they are installed.

Some libraries every server process imports try an optional package at import and fall back
when it is missing: eventlet (imported by oslo.messaging through oslo.service) loads pyOpenSSL,
and with it cryptography's bindings, for green OpenSSL sockets that no process of ours makes;
Pecan loads Mako, which loads Pygments to colour template errors in HTML pages that a JSON API
never renders. Together that is some 13 MB of resident memory in each process.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def without(*names: str) -> Iterator[None]:
    """Inside the block, importing any of ``names`` that is not imported yet raises ImportError.

    NOTE: only around imports whose code catches that ImportError and goes on; the block
    changes ``sys.modules`` for every thread, so it belongs at module level, where imports
    run under the import lock at start-up. Afterwards the names import as usual: whoever
    really needs one of them still gets it.
    """
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        # NOTE: None in sys.modules is how the import system says "no such module".
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]
