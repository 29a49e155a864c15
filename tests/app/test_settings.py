"""Settings from the environment (app/settings.py): defaults, ``STEPGRAD_`` variables, their
bounds, read once per process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch
from pydantic import ValidationError

from app.settings import Settings, configure_torch, get_settings


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No ``STEPGRAD_`` variable set; get_settings() read again after the test."""

    for name in [n for n in os.environ if n.startswith("STEPGRAD_")]:
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_the_defaults(fresh: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert settings.digits == 4 and settings.default_language == "en"
    assert settings.secret is None and settings.database_url is None
    assert settings.link_max_age_days == 365


def test_variables_with_the_prefix_set_the_knobs(fresh: pytest.MonkeyPatch) -> None:
    fresh.setenv("STEPGRAD_DIGITS", "2")
    fresh.setenv("STEPGRAD_DEFAULT_LANGUAGE", "ru")
    fresh.setenv("STEPGRAD_ACCESS_LOG", "true")
    fresh.setenv("DIGITS", "7")  # no prefix: not ours
    settings = Settings()
    assert (settings.digits, settings.default_language, settings.access_log) == (2, "ru", True)


@pytest.mark.parametrize(
    ("name", "value"),
    [("PORT", "0"), ("WORKERS", "65"), ("DIGITS", "11"), ("DEVICE", "tpu"),
     ("MAX_BODY_BYTES", "10"), ("TORCH_RUN_SECONDS", "0"), ("DEFAULT_LANGUAGE", "de")],
)  # fmt: skip
def test_out_of_bounds_values_are_refused(fresh: pytest.MonkeyPatch, name: str, value: str) -> None:
    fresh.setenv(f"STEPGRAD_{name}", value)
    with pytest.raises(ValidationError):
        Settings()


def test_read_once_until_the_cache_is_cleared(fresh: pytest.MonkeyPatch) -> None:
    first = get_settings()
    fresh.setenv("STEPGRAD_DIGITS", "3")
    assert get_settings() is first and first.digits == 4
    get_settings.cache_clear()
    assert get_settings().digits == 3


def test_configure_torch_sets_the_threads(fresh: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    try:
        configure_torch(Settings(torch_threads=2))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
