"""Service settings, read once from the environment (prefix ``STUDIO_MATCH_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_address
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/studio-match.db"
# A development-only key: `make run` works out of the box, and production must set its own.
DEV_SECRET_KEY = "studio-match-development-secret-change-me"


class StarRatingPolicy(BaseModel):
    """How a studio assessment (星级评定) turns three scores out of 100 into 0–3 stars.

    Set from the environment as ``STUDIO_MATCH_STAR_RATING__EXPERT_REVIEW_WEIGHT=0.5`` and so on.
    """

    expert_review_weight: float = Field(default=0.4, ge=0, le=1)
    site_visit_weight: float = Field(default=0.3, ge=0, le=1)
    demonstration_weight: float = Field(default=0.3, ge=0, le=1)
    # the lowest total score for one, two and three stars; below the first, no star
    one_star: float = Field(default=60, ge=0, le=100)
    two_stars: float = Field(default=75, ge=0, le=100)
    three_stars: float = Field(default=90, ge=0, le=100)

    @model_validator(mode="after")
    def _consistent(self) -> StarRatingPolicy:
        weights = self.expert_review_weight + self.site_visit_weight + self.demonstration_weight
        if abs(weights - 1.0) > 1e-6:
            raise ValueError("the three assessment weights must add up to 1")
        if not self.one_star <= self.two_stars <= self.three_stars:
            raise ValueError("star thresholds must rise from one star to three")
        return self


class YearlyTargets(BaseModel):
    """The programme's yearly targets the dashboard measures against (DOMAIN.md; configurable per year).

    ``STUDIO_MATCH_TARGETS__DEMONSTRATION_COBUILDS=25`` and so on.
    """

    demonstration_cobuilds: int = Field(default=20, ge=0, description="示范共建项目数")
    innovations: int = Field(default=500, ge=0, description="技术革新、发明创造与成果数")
    conversion_rate: float = Field(default=0.8, ge=0, le=1, description="成果转化率")
    worker_trainings: int = Field(default=5000, ge=0, description="培训职工人次")


class DatabaseLimits(BaseModel):
    """Timeouts and pool of the service's database connections, so trouble there ends in a 503, not a hang.

    Set from the environment as ``STUDIO_MATCH_DATABASE__STATEMENT_TIMEOUT_SECONDS=10`` and so on. They
    apply to PostgreSQL; the embedded SQLite database ignores them. A statement or lock timeout of 0
    switches that limit off.
    """

    # PostgreSQL cancels a statement running longer than this (statement_timeout)
    statement_timeout_seconds: float = Field(default=15, ge=0)
    # ... and a statement waiting longer than this for a row or table lock (lock_timeout): one held lock
    # must not pile up every request behind it until the pool is exhausted
    lock_timeout_seconds: float = Field(default=3, ge=0)
    # opening a connection (TCP and start-up) gives up after this
    connect_timeout_seconds: float = Field(default=5, gt=0)
    # the driver gives up on an answer after this, even from a frozen server that cancels nothing;
    # keep it above the statement timeout so the server's own cancel normally comes first
    command_timeout_seconds: float = Field(default=20, gt=0)
    # connections kept per worker process, extra ones opened under load, and how long a request waits
    # for a free one before it is answered 503 database_busy
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    pool_timeout_seconds: float = Field(default=5, gt=0)
    # a pooled connection older than this is replaced at its next checkout, before a firewall or the
    # server's idle limit drops it unseen
    pool_recycle_seconds: float = Field(default=1800, gt=0)


class ImportLimits(BaseModel):
    """What one XLSX import may hold, and how imports share a process.

    A small file can unpack to a lot: a 97 kB upload held one 90 MB string (17.7 s, 600 MB to parse),
    another 1.9 million shared strings (57 s). These limits are checked on the zip's directory and by a
    streaming count of the XML *before* openpyxl parses anything, and the refusal (413
    ``import_limit_exceeded``) names the limit. The defaults leave room for the largest legitimate
    import (5,000 rows of a dozen or so columns).
    """

    # everything the workbook's parts unpack to, together
    max_unpacked_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # one part (the shared strings, one worksheet) unpacked
    max_part_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    # distinct texts in the shared-string table
    max_shared_strings: int = Field(default=100_000, gt=0)
    # cells in all worksheets together (formatted empty cells count too)
    max_cells: int = Field(default=500_000, gt=0)
    # characters in one text (the longest text field takes 8,000)
    max_string_chars: int = Field(default=10_000, gt=0)
    # one import runs at a time per process; a second one waits this long, then gets 429 with Retry-After
    busy_wait_seconds: float = Field(default=5, ge=0)


class LoginThrottle(BaseModel):
    """How many failed logins are allowed before further attempts are refused (429) for a while.

    Counted in the database, so every worker on every machine enforces one limit. A failure counts
    for the account (by its normalised username, known or not) and for the client address; the
    window slides: an attempt is refused while the window before it holds the maximum of failures.
    ``STUDIO_MATCH_LOGIN_THROTTLE__MAX_FAILURES_PER_ACCOUNT=5`` and so on.
    """

    window_seconds: int = Field(default=15 * 60, gt=0)
    # a successful login clears the account's count; an address's count is never cleared that way
    # (one known account must not reset the budget for guessing the others)
    max_failures_per_account: int = Field(default=10, ge=1)
    # higher than per account: many people may log in from behind one office or campus address
    max_failures_per_address: int = Field(default=50, ge=1)
    # checked attempts are kept this long (they are also the only trace of guesses at unknown
    # usernames), and ended login sessions as long; each login deletes what has passed it
    keep_days: int = Field(default=90, ge=1)


class InsecureSettings(RuntimeError):
    """The settings are not fit to serve outside development mode (e.g. the public development key)."""


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
    database: DatabaseLimits = DatabaseLimits()
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    # "development" allows the public development key; unset, the mode follows ``public_url``:
    # development only for a loopback address (127.0.0.1, localhost, ::1), production otherwise
    environment: Literal["development", "production"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    public_url: str = "http://127.0.0.1:8000"
    # a login session ends this long after it began (absolute lifetime) ...
    session_max_age_seconds: int = Field(default=24 * 3600, gt=0)
    # ... or after this long without a request (idle lifetime), whichever comes first
    session_idle_seconds: int = Field(default=2 * 3600, gt=0)
    # always true when ``public_url`` is https (set in ``_derive``); set it by hand behind a proxy
    # that terminates TLS for a public URL written as http
    cookie_secure: bool = False
    login_throttle: LoginThrottle = LoginThrottle()
    # argon2 hashes run in threads, at most this many at once per process (64 MiB and one core
    # each): a burst of logins queues there while the event loop keeps serving everything else.
    # One per process suits one worker per core; raise it for fewer workers than cores
    password_hash_concurrency: int = Field(default=1, ge=1, le=64)
    sql_echo: bool = False
    # how often an idle worker reads the matcher's change feed (a ranking always reads it first)
    matcher_poll_seconds: float = Field(default=2.0, gt=0)
    star_rating: StarRatingPolicy = StarRatingPolicy()
    targets: YearlyTargets = YearlyTargets()
    # a proposal scoring below this is not a "strong" one: fields whose orders get none are coverage gaps
    strong_proposal_score: float = Field(default=0.35, ge=0, le=1)
    # XLSX uploads larger than this are refused (413) before they are parsed
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    # every other request body larger than this is refused (413 payload_too_large) before it is read;
    # the largest JSON body the API takes (an order or agreement with long texts) is a few dozen KB
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    imports: ImportLimits = ImportLimits()

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        # a session cookie sent over plain http to an https site could be read on the way
        if urlsplit(self.public_url).scheme == "https":
            self.cookie_secure = True
        return self

    @property
    def is_development(self) -> bool:
        """True in development mode: set explicitly, or a ``public_url`` on a loopback address."""
        if self.environment is not None:
            return self.environment == "development"
        host = urlsplit(self.public_url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ip_address(host).is_loopback
        except ValueError:
            return False

    def check_fit_to_serve(self) -> None:
        """Refuse settings that must never serve outside development mode.

        Raises:
            InsecureSettings: the secret key is the public development key outside development mode.
        """
        if not self.is_development and self.secret_key.get_secret_value() == DEV_SECRET_KEY:
            raise InsecureSettings(
                "STUDIO_MATCH_SECRET_KEY is the public development key, and this is not development mode"
                f" (public_url={self.public_url}). Set STUDIO_MATCH_SECRET_KEY to a long random value"
                " of your own (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`),"
                " the same on every machine; or, for a local trial only, STUDIO_MATCH_ENVIRONMENT=development."
            )


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
