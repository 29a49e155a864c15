"""Memory: the allocator's settings, harmless to apply again and again; the objects alive
at the start, frozen out of the garbage collector's full scans."""

import gc

from app.memory import limit_arenas, trim


def test_limit_arenas_and_trim_run() -> None:
    limit_arenas()
    limit_arenas()
    trim()


def test_objects_of_the_start_are_frozen(client) -> None:
    """Once started, the app's long-lived objects are out of the collector's full scans."""
    assert gc.get_freeze_count() > 100_000
