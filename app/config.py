"""Settings read from the environment and `.env` (see `.env.example`)."""

from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105 - refused in production
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./timesheet.db"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


def normalize_database_url(url: str) -> str:
    """Accept the URLs hosting providers hand out and pick the async driver for them."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("DATABASE_URL must look like scheme://...")
    base = scheme.split("+", 1)[0]
    if base in ("postgres", "postgresql"):
        return f"postgresql+asyncpg://{rest}"
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    raise ValueError("DATABASE_URL must be a PostgreSQL or SQLite URL")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = Field(default=DEFAULT_SECRET_KEY, min_length=16)
    cors_origins: Annotated[list[str], NoDecode] = []
    registration_enabled: bool = True

    access_token_ttl_seconds: int = Field(default=900, ge=60)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Registrations one client address may attempt per window, created or refused alike.
    registration_max_per_address: int = Field(default=10, ge=1)
    registration_window_seconds: int = Field(default=3600, ge=1)
    # Visits to shared report links one client address may make per window, known links
    # or not: enough to read reports, too few to guess a secret.
    shared_report_max_per_address: int = Field(default=120, ge=1)
    shared_report_window_seconds: int = Field(default=60, ge=1)

    # Connections a worker keeps open. Requests beyond it wait for one rather than open
    # (and close) one of their own: connecting costs far more than a short wait.
    db_pool_size: int = Field(default=20, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    # The largest request body taken; uploads to an import have `import_max_bytes`.
    request_max_bytes: int = Field(default=1024 * 1024, ge=1)
    import_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    db_pool_pre_ping: bool = False
    db_pool_recycle_seconds: int = Field(default=1800, ge=-1)
    db_pgbouncer: bool = False
    db_echo: bool = False
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    auto_migrate: bool | None = None

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # JSON lines unless set; development prints readable lines instead.
    log_format: LogFormat | None = None
    # One line per request, from the application (uvicorn's own access log stays off).
    access_log: bool = True
    metrics_enabled: bool = True
    # When set, /metrics answers only `Authorization: Bearer <this>`.
    metrics_bearer_token: SecretStr | None = None
    # Events older than this are removed by `timesheet events prune`.
    event_retention_days: int = Field(default=400, ge=1)
    # Live updates: each open stream sends a heartbeat this often, which keeps idle
    # connections open through proxies and re-checks that the caller may still read.
    event_stream_heartbeat_seconds: float = Field(default=15, gt=0)
    # Where LISTEN/NOTIFY cannot wake streams (SQLite, PgBouncer), each process looks
    # this often whether the workspaces its streams follow have new events.
    event_stream_poll_seconds: float = Field(default=1, gt=0)
    # Webhooks. Each `serve` worker runs a dispatcher unless this is off (then run
    # `timesheet webhooks run` apart); it polls the outbox this often when idle.
    webhook_dispatcher: bool = True
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Lets webhooks reach loopback, private and link-local addresses, and plain http in
    # production: for tests and closed networks only.
    webhook_allow_private_targets: bool = False
    # Imports commit this many rows at a time, with the run's progress: no lock is held
    # longer than a batch, and a stopped run resumes after its last committed batch.
    import_batch_rows: int = Field(default=5000, ge=1, le=100_000)
    # Each `serve` worker runs the uploads' import runner unless this is off; it looks for
    # queued or interrupted runs this often when idle.
    import_runner: bool = True
    import_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    # A run whose runner has committed no batch for this long is taken as interrupted
    # (its process died) and resumed by another.
    import_lease_seconds: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("database_url")
    @classmethod
    def _normalize_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Self:
        if self.environment is Environment.PRODUCTION and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError("SECRET_KEY must be set to a private value in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def effective_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        if self.environment is Environment.DEVELOPMENT:
            return LogFormat.CONSOLE
        return LogFormat.JSON

    @property
    def migrate_on_start(self) -> bool:
        """Development applies migrations on start unless told otherwise."""
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.environment is Environment.DEVELOPMENT


@lru_cache
def get_settings() -> Settings:
    return Settings()
