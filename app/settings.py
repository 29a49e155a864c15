"""Settings from the environment (prefix ``STEPGRAD_``), with embedded defaults."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the app; each maps to an environment variable ``STEPGRAD_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="STEPGRAD_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address `stepgrad serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `stepgrad serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes of `stepgrad serve`.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Torch device for batch work: auto picks CUDA when available."
    )
    digits: int = Field(4, ge=0, le=10, description="Decimals shown on pages and in steps.")
    default_language: Literal["en", "ru"] = Field(
        "en", description="Language when neither ?lang=, a cookie nor Accept-Language decides."
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1_000, description="Largest request body accepted, in bytes."
    )
    access_log: bool = Field(False, description="Log every request (costs ~30% throughput).")
    torch_threads: int = Field(
        1, ge=1, le=256,
        description="CPU threads of torch's batch work; 1 is fastest for small batched "
        "problems on a small machine (measured 20–40× faster than 2 on 2 cores).",
    )  # fmt: skip
    torch_run_seconds: float = Field(
        10.0, gt=0, le=600,
        description="Longest wait for the PyTorch view's run (?with=torch, the pages): past "
        "it the view comes without its output (the first CUDA run also starts CUDA).",
    )  # fmt: skip
    secret: str | None = Field(
        None,
        description="Keys variant generation with an HMAC: without it nobody can regenerate "
        "a variant (or its answers) from its number; answers then need the instructor token.",
    )
    instructor_token: str | None = Field(
        None,
        description="Bearer token that unlocks answers when a secret is set, and the "
        "classroom's instructor endpoints (unset: one is made on first start and stored).",
    )
    database_url: str | None = Field(
        None,
        description="The classroom's database (SQLAlchemy URL): unset, a SQLite file "
        "`./stepgrad.db`; PostgreSQL as `postgresql+psycopg://user:pass@host/db`.",
    )
    link_max_age_days: int = Field(
        365, ge=1, le=36_500, description="Days a student's exam link stays valid."
    )


def configure_torch(settings: Settings) -> None:
    """Apply the torch settings of the process (threads) before any batch work."""
    import torch

    torch.set_num_threads(settings.torch_threads)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
