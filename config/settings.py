"""Service settings, read from ``MODELWATCH_*`` environment variables into one typed object.

Created in ``main()`` or an app factory and passed in; never read at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.loader import default_monitors_path


class Settings(BaseSettings):
    # env_ignore_empty: MODELWATCH_X= (compose's ${X:-}) means "not set", not an empty value.
    model_config = SettingsConfigDict(env_prefix="MODELWATCH_", frozen=True, extra="ignore", env_ignore_empty=True)

    database_url: str = "sqlite:///./modelwatch.db"
    config: Path = Field(default_factory=default_monitors_path)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Largest accepted request body; bigger bodies get 413 before they are read whole.
    max_body_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    max_records_per_batch: int = Field(default=100_000, gt=0)
    # Key for the PII policy's keyed hash. Without it, "hash" fields are dropped instead.
    pii_key: SecretStr | None = None
    # Seconds a client should wait when the database is unreachable.
    retry_after_seconds: int = Field(default=5, ge=1)
    log_level: str = "info"
    # Days kept per table, over store.retention.DEFAULT_RETENTION; 0 keeps forever.
    # MODELWATCH_RETENTION_DAYS='{"predictions": 30, "audit_log": 0}'
    retention_days: dict[str, float] = Field(default_factory=dict)
