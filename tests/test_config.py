"""Settings from the environment (app/config.py): validation, one line per bad variable."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import AppEnv, LogFormat, Settings, SettingsError

KEY_A = "ka:" + base64.b64encode(bytes(range(32))).decode()
KEY_B = "kb:" + base64.b64encode(bytes(range(100, 132))).decode()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the developer's shell or a `.env` in the working directory."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def load() -> Settings:
    return Settings.load(_env_file=None)


def error_lines(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load()
    return str(info.value).splitlines()


# ---------------------------------------------------------------- invalid values


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT", "abc", "valid integer"),
        ("PORT", "0", "greater than or equal to 1"),
        ("PORT", "65536", "less than or equal to 65535"),
        ("APP_ENV", "staging", "'development', 'test' or 'production'"),
        ("DATABASE_URL", "mysql://root@localhost/gw", "sqlite://, postgres:// or postgresql://"),
        ("DATABASE_URL", "data/gateway.sqlite3", "sqlite://, postgres:// or postgresql://"),
        ("LOG_LEVEL", "verbose", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("LOG_FORMAT", "xml", "'text' or 'json'"),
        ("PUBLIC_BASE_URL", "gateway.example.com", "http:// or https:// URL"),
        ("PUBLIC_BASE_URL", "ftp://gateway.example.com", "http:// or https:// URL"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org", "http:// or https:// URL"),
        ("OPENAI_BASE_URL", "ws://api.openai.com", "http:// or https:// URL"),
        ("TOKEN_TTL_HOURS", "0", "greater than or equal to 1"),
        ("TOKEN_TTL_HOURS", "8761", "less than or equal to 8760"),
        ("TOKEN_TTL_HOURS", "a week", "valid integer"),
        ("MAX_GATEWAYS_PER_TENANT", "-1", "greater than or equal to 0"),
        ("HTTP_CONNECT_TIMEOUT", "0", "greater than 0"),
        ("MAX_REQUEST_BYTES", "100", "greater than or equal to 1024"),
        ("GRAPHQL_MAX_DEPTH", "1", "greater than or equal to 2"),
        ("ALLOW_PRIVATE_NETWORK_TARGETS", "maybe", "valid boolean"),
        ("HEALTH_CHECK_INTERVAL", "-5", "greater than or equal to 0"),
        ("TELEGRAM_UPDATE_RETENTION_DAYS", "0", "greater than or equal to 1"),
    ],
)
def test_an_invalid_value_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    lines = error_lines(monkeypatch, **{variable: value})

    assert len(lines) == 1, lines
    assert lines[0].startswith(f"invalid setting {variable}: "), lines[0]
    assert expected in lines[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("garbage", "entry 1 has no ':' between key id and key"),
        ("k1:not*base64", "entry 1 (key id 'k1'): key is not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "key must decode to 32 bytes, got 5"),
        (f"{KEY_A},", "entry 2 is empty"),
        (f"{KEY_A},{KEY_A}", "duplicate key id"),
        ("bad id!:" + KEY_A.split(":", 1)[1], "key id must be"),
    ],
)
def test_malformed_encryption_keys_fail_at_load_without_echoing_the_value(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    lines = error_lines(monkeypatch, ENCRYPTION_KEYS=value)

    assert len(lines) == 1, lines
    assert lines[0].startswith("invalid setting ENCRYPTION_KEYS: ")
    assert expected in lines[0]
    secret_part = value.split(":", 1)[-1]
    assert secret_part not in lines[0]


def test_several_invalid_variables_give_one_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = error_lines(monkeypatch, PORT="abc", LOG_LEVEL="loud", DATABASE_URL="mysql://x")

    assert len(lines) == 3
    named = {line.split(":", 1)[0].removeprefix("invalid setting ") for line in lines}
    assert named == {"PORT", "LOG_LEVEL", "DATABASE_URL"}


def test_settings_error_suppresses_the_pydantic_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "abc")
    with pytest.raises(SettingsError) as info:
        load()

    # `from None`: the start-up failure is the one line, not pydantic's multi-line dump.
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


# ---------------------------------------------------------------- production and keys


def test_production_without_encryption_keys_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = error_lines(monkeypatch, APP_ENV="production")

    assert lines == ["invalid settings: ENCRYPTION_KEYS is required when APP_ENV=production"]


def test_production_with_blank_encryption_keys_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = error_lines(monkeypatch, APP_ENV="production", ENCRYPTION_KEYS="  ")

    assert len(lines) == 1
    assert "ENCRYPTION_KEYS is required" in lines[0]


def test_production_with_keys_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("ENCRYPTION_KEYS", f"{KEY_A}, {KEY_B}")

    settings = load()

    assert settings.app_env is AppEnv.PRODUCTION
    assert settings.is_production
    assert settings.encryption_keys is not None
    assert settings.encryption_keys.get_secret_value() == f"{KEY_A}, {KEY_B}"


def test_empty_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # A copied .env.example has every key, many of them blank.
    for name in ("APP_ENV", "PORT", "DATABASE_URL", "ENCRYPTION_KEYS", "CORS_ORIGINS", "LOG_LEVEL"):
        monkeypatch.setenv(name, "")

    settings = load()

    assert settings.app_env is AppEnv.DEVELOPMENT
    assert settings.port == 8000
    assert settings.database_url == "sqlite://data/gateway.sqlite3"
    assert settings.encryption_keys is None
    assert settings.cors_origins == []
    assert settings.log_level == "INFO"


def test_blank_encryption_keys_mean_unset_outside_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEYS", "  ")

    assert load().encryption_keys is None


def test_secrets_are_not_in_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEYS", KEY_A)
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2-password@redis.internal:6379/0")

    settings = load()

    text = repr(settings) + str(settings)
    assert KEY_A.split(":", 1)[1] not in text
    assert "hunter2-password" not in text
    assert settings.redis_url is not None
    assert "hunter2-password" in settings.redis_url.get_secret_value()


# ---------------------------------------------------------------- defaults and derived values


def test_defaults_with_an_empty_environment() -> None:
    settings = load()

    assert settings.app_env is AppEnv.DEVELOPMENT
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.data_dir == Path("data")
    assert settings.database_url == "sqlite://data/gateway.sqlite3"
    assert settings.redis_url is None
    assert settings.encryption_keys is None
    assert settings.token_ttl_hours == 168
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.telegram_api_base_url == "https://api.telegram.org"
    assert settings.cors_origins == []
    assert settings.max_gateways_per_tenant == 0
    assert settings.log_level == "INFO"
    assert settings.log_format is LogFormat.TEXT
    assert not settings.is_production


def test_database_url_defaults_to_a_sqlite_file_in_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "state"))

    settings = load()

    assert settings.data_dir == tmp_path / "state"
    assert settings.database_url == f"sqlite://{tmp_path}/state/gateway.sqlite3"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://gw:pw@db.internal:5432/gateways",
        "postgresql://gw@db.internal/gateways",
        "sqlite:///var/lib/gw/db.sqlite3",
    ],
)
def test_an_explicit_database_url_wins_over_data_dir(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATA_DIR", "/somewhere/else")
    monkeypatch.setenv("DATABASE_URL", url)

    assert load().database_url == url


def test_public_base_url_is_derived_from_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "10.0.0.5")
    monkeypatch.setenv("PORT", "9000")

    assert load().public_base_url == "http://10.0.0.5:9000"


def test_explicit_urls_lose_their_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://gateway.example.com/")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://telegram-proxy.internal:8081/")

    settings = load()

    assert settings.public_base_url == "https://gateway.example.com"
    assert settings.telegram_api_base_url == "http://telegram-proxy.internal:8081"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://app.example.com", ["https://app.example.com"]),
        (
            "https://app.example.com, http://localhost:5173 ,,",
            ["https://app.example.com", "http://localhost:5173"],
        ),
        ("", []),
        (" , ", []),
    ],
)
def test_cors_origins_are_comma_separated(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", raw)

    assert load().cors_origins == expected


def test_cors_origins_also_accept_a_list_in_code() -> None:
    settings = Settings.load(_env_file=None, cors_origins=["https://a.example"])

    assert settings.cors_origins == ["https://a.example"]


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("LOG_FORMAT", "json")

    settings = load()

    assert settings.log_level == "DEBUG"
    assert settings.log_format is LogFormat.JSON


@pytest.mark.parametrize(
    ("app_env", "allowed"),
    [("development", True), ("test", True), ("production", False)],
)
def test_private_network_targets_default_by_environment(
    monkeypatch: pytest.MonkeyPatch, app_env: str, allowed: bool
) -> None:
    monkeypatch.setenv("APP_ENV", app_env)
    monkeypatch.setenv("ENCRYPTION_KEYS", KEY_A)

    settings = load()

    assert settings.allow_private_network_targets is allowed
    assert settings.private_targets_allowed is allowed


@pytest.mark.parametrize(("app_env", "value"), [("production", True), ("development", False)])
def test_private_network_targets_can_be_set_explicitly(
    monkeypatch: pytest.MonkeyPatch, app_env: str, value: bool
) -> None:
    monkeypatch.setenv("APP_ENV", app_env)
    monkeypatch.setenv("ENCRYPTION_KEYS", KEY_A)
    monkeypatch.setenv("ALLOW_PRIVATE_NETWORK_TARGETS", str(value).lower())

    assert load().private_targets_allowed is value


def test_settings_are_frozen() -> None:
    settings = load()

    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]
    assert settings.port == 8000


def test_max_gateways_per_tenant_and_token_ttl_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_GATEWAYS_PER_TENANT", "25")
    monkeypatch.setenv("TOKEN_TTL_HOURS", "12")

    settings = load()

    assert settings.max_gateways_per_tenant == 25
    assert settings.token_ttl_hours == 12


# ---------------------------------------------------------------- .env file


def test_a_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=9100\nLOG_LEVEL=warning\n")

    settings = Settings.load()

    assert settings.port == 9100
    assert settings.log_level == "WARNING"


def test_the_environment_overrides_the_dotenv_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("PORT=9100\n")
    monkeypatch.setenv("PORT", "9200")

    assert Settings.load().port == 9200


def test_an_invalid_value_in_the_dotenv_file_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=eighty\n")

    with pytest.raises(SettingsError) as info:
        Settings.load()

    assert str(info.value).startswith("invalid setting PORT: ")
    assert len(str(info.value).splitlines()) == 1


@pytest.mark.parametrize(
    "value", ["https://app.example.com/", "app.example.com", "https://app.example.com/spa"]
)
def test_a_cors_origin_must_be_a_bare_origin(value: str) -> None:
    if value.endswith("/") and value.count("/") == 3:
        assert Settings.load(_env_file=None, cors_origins=value).cors_origins == [value[:-1]]
        return
    with pytest.raises(SettingsError, match="CORS_ORIGINS"):
        Settings.load(_env_file=None, cors_origins=value)


def test_a_url_setting_needs_a_host() -> None:
    with pytest.raises(SettingsError, match=r"PUBLIC_BASE_URL: .*with a host"):
        Settings.load(_env_file=None, public_base_url="https://")
