import pytest
from pydantic import ValidationError

from app.config import Environment, Settings, normalize_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./x.db", "sqlite+aiosqlite:///./x.db"),
    ],
)
def test_database_urls_from_hosting_providers_work(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="PostgreSQL or SQLite"):
        normalize_database_url("mysql://u@h/db")


def test_production_needs_a_private_secret_key() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment=Environment.PRODUCTION, _env_file=None)
    settings = Settings(environment=Environment.PRODUCTION, secret_key="x" * 32, _env_file=None)
    assert not settings.migrate_on_start


def test_cors_origins_from_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, http://localhost:5173")
    assert Settings(_env_file=None).cors_origins == ["https://a.example", "http://localhost:5173"]
