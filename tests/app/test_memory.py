"""The allocator's settings: harmless to apply, again and again."""

from app.memory import limit_arenas, trim


def test_limit_arenas_and_trim_run() -> None:
    limit_arenas()
    limit_arenas()
    trim()
