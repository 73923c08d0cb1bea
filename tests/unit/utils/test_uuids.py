"""Generated ids are random version 4 UUIDs, never repeated, not even by a forked child."""

from __future__ import annotations

import os
import uuid

from mistral.utils import uuids


def test_ids_are_version_4_uuids_as_uuid4_writes_them() -> None:
    for value in [uuids.generate() for _ in range(3 * uuids.BATCH)]:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, value)


def test_ids_are_not_repeated() -> None:
    count = 5 * uuids.BATCH
    assert len({uuids.generate() for _ in range(count)}) == count


def test_a_forked_child_does_not_reuse_the_parents_random_bytes() -> None:
    uuids.generate()  # the parent has unused random bytes now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, "".join(uuids.generate() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 1000).decode()
    os.close(read)
    parent = "".join(uuids.generate() for _ in range(3))
    assert len(child) == len(parent) == 3 * 36
    assert child != parent
