"""UUID helpers: an identifier in the API may be a name or an id."""

from __future__ import annotations

import os
import threading
import uuid


def is_uuid_like(value: object) -> bool:
    try:
        return str(uuid.UUID(str(value))) == str(value).lower()
    except (TypeError, ValueError, AttributeError):
        return False


#: Ids drawn from the operating system's random source at once, per thread.
BATCH = 256

_local = threading.local()
#: Bumped in a forked child, whose copy of the parent's unused random bytes must never be used.
_generation = 0


def _forked() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_forked)


def generate() -> str:
    """A random (version 4) UUID, as ``str(uuid.uuid4())``.

    NOTE: ``uuid4`` reads 16 bytes from ``os.urandom`` per id: a with-items task makes one per item,
    and the system call and the UUID object took 4-5 us of the about 1 us the text needs.
    """
    pool = getattr(_local, "pool", None)
    if not pool or _local.generation != _generation:
        raw = os.urandom(16 * BATCH)
        _local.pool = pool = [bytearray(raw[i : i + 16]) for i in range(0, len(raw), 16)]
        _local.generation = _generation
    b = pool.pop()
    b[6] = b[6] & 0x0F | 0x40  # version 4
    b[8] = b[8] & 0x3F | 0x80  # the RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
