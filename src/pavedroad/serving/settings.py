"""The service's settings, from `PAVED_*` environment variables (pydantic-settings).

The environment, not a file: the same image runs in every stage, and an orchestrator sets
variables. `paved serve --host/--port/--workers` override the three that a person types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class Settings(BaseSettings):
    """Every setting of `paved serve`; the README's settings table lists the same."""

    model_config = SettingsConfigDict(env_prefix="PAVED_", extra="ignore", frozen=True)

    contract: Path | None = Field(
        default=None,
        description="The contract file; `paved serve` sets it for its worker processes.",
    )
    host: str = Field(
        default="127.0.0.1", description="Bind address: loopback unless exposing it is intended."
    )
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(
        default=1, ge=1, description="Worker processes, each loading the model once."
    )
    log_level: LogLevel = "info"
    auth_token: SecretStr | None = Field(
        default=None, description="When set, every route but the probes needs `Bearer <token>`."
    )
    max_body_bytes: int = Field(default=1 << 20, ge=1, description="Larger request bodies get 413.")
    timeout_s: float = Field(default=30.0, gt=0, description="A prediction taking longer gets 504.")
    max_batch: int = Field(
        default=1000, ge=1, description="Most rows in one /predict/batch, and in one micro-batch."
    )
    max_wait_ms: float = Field(
        default=2.0,
        ge=0,
        le=1000,
        description="Longest a /predict row waits for others to share its predict call; "
        "0 switches micro-batching off.",
    )
    predict_threads: int = Field(
        default=4,
        ge=1,
        description="Threads running predict off the event loop; 1 for a model that "
        "is not thread-safe.",
    )
    log_payloads: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of requests whose input is logged (sampling).",
    )
    sink_dir: Path | None = Field(
        default=None,
        description="Where sampled input rows are written as Parquet files (needs pyarrow).",
    )
    sink_rate: float = Field(
        default=1.0, ge=0.0, le=1.0, description="Share of requests whose rows go to the sink."
    )
    sink_rows: int = Field(default=10_000, ge=1, description="Rows per sink file (rotation).")
