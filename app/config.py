"""Service settings, read once from the environment (prefix ``STUDIO_MATCH_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/studio-match.db"
# A development-only key: `make run` works out of the box, and production must set its own.
DEV_SECRET_KEY = "studio-match-development-secret-change-me"


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    No other module reads ``os.environ``: code receives a ``Settings`` instance, so tests build
    their own app with their own settings.
    """

    model_config = SettingsConfigDict(
        env_prefix="STUDIO_MATCH_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    public_url: str = "http://127.0.0.1:8000"
    session_max_age_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    cookie_secure: bool = False
    sql_echo: bool = False
    # the fitted matcher shared by workers; `studio-match reindex` rewrites it
    matcher_path: str = "var/matcher.joblib"


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
