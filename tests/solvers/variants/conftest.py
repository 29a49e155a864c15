"""Fixtures of the variant tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def one_torch_thread() -> Iterator[None]:
    """Small batched torch work is several times faster on one thread (measured: small batched
    conv 4× faster on 2 cores; the app's default, ``STEPGRAD_TORCH_THREADS=1``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
