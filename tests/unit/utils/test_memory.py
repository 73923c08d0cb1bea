import gc

from mistral.utils import memory


def test_startup_objects_leave_the_collectors_walk() -> None:
    before = gc.get_freeze_count()
    try:
        memory.freeze_startup_objects()
        assert gc.get_freeze_count() > before
        assert gc.get_freeze_count() >= len(gc.get_objects(generation=2)) // 2  # most of what lives is frozen
    finally:
        gc.unfreeze()
