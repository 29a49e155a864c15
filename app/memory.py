"""The C allocator told to keep fewer memory pools and to hand freed memory back.

Measured with ``bench/memory_soak.py`` (conv solves and pages, 100 rounds): glibc's
allocator keeps a pool (arena) per thread that allocates, and the request threads each
grew their own: two arenas at most took the growth from +52 to +42 MB, and trimming after
batch grading (the largest requests) gave back 10 MB more. Elsewhere than glibc, nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

M_ARENA_MAX = -8
"""mallopt's parameter for the most arenas (glibc's malloc.h)."""
ARENAS = 2
"""Arenas the process keeps at most: one for the event loop, one shared by the threads."""


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 (glibc only)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def limit_arenas() -> None:
    """At most :data:`ARENAS` allocator arenas for the process (glibc; elsewhere nothing)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, ARENAS)


def trim() -> None:
    """Hand the allocator's free memory back to the system (glibc; elsewhere nothing)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
