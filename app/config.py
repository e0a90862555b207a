"""Settings read from the environment (and an optional `.env`), validated once at start-up.

Every variable is documented in `.env.example`; `Settings.load()` turns pydantic's validation
report into one line per variable so a misconfigured deployment says exactly what to fix.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.client_address import parse_trusted_proxies
from app.core.crypto import parse_keys


class AppEnv(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class SettingsError(Exception):
    """Invalid configuration; the message names each variable and what is wrong with it."""


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    # Empty values count as unset, so a copied .env.example (all keys, many blank) works as is.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_ignore_empty=True
    )

    app_env: AppEnv = AppEnv.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("./data")
    database_url: str = ""
    redis_url: SecretStr | None = None
    encryption_keys: SecretStr | None = None
    token_ttl_hours: int = Field(default=168, ge=1, le=24 * 365)
    public_base_url: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_gateways_per_tenant: int = Field(default=0, ge=0)
    invitation_ttl_days: int = Field(default=7, ge=1, le=365)
    max_pending_invitations: int = Field(default=50, ge=1, le=10_000)
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT
    # Statement text (never parameters) of every SQL query at DEBUG; see app/core/logs.py.
    log_sql: bool = False
    # Peers whose X-Forwarded-For is believed (uvicorn's setting of the same name and default).
    forwarded_allow_ips: str = "127.0.0.1,::1"

    # Upstream calls.
    http_connect_timeout: float = Field(default=5.0, gt=0, le=120)
    http_read_timeout: float = Field(default=10.0, gt=0, le=300)
    ai_chat_timeout: float = Field(default=30.0, gt=0, le=600)
    allow_private_network_targets: bool | None = None
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    deepseek_base_url: str | None = None
    grok_base_url: str | None = None
    gemini_base_url: str | None = None
    mistral_base_url: str | None = None
    groq_base_url: str | None = None
    ollama_base_url: str | None = None

    # Circuit breakers (per gateway): how long an open circuit waits before letting probes
    # through, and the window in which failures are counted.
    circuit_reset_timeout: float = Field(default=30.0, gt=0, le=3600)
    circuit_failure_window: float = Field(default=60.0, gt=0, le=3600)

    # Request hardening.
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    graphql_max_depth: int = Field(default=12, ge=2, le=50)
    graphql_max_aliases: int = Field(default=30, ge=1, le=1000)
    graphql_max_tokens: int = Field(default=5000, ge=100)

    # Background work.
    health_check_interval: float = Field(default=300.0, ge=0)
    telegram_update_retention_days: int = Field(default=7, ge=1)

    # Observability. METRICS_ENABLED unset means: on in development, off otherwise.
    metrics_enabled: bool | None = None
    metrics_token: SecretStr | None = None
    # The standard OpenTelemetry variables, read here too so that a `.env` file configures them;
    # tracing is on exactly when the endpoint is set (app/observability/tracing.py).
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_protocol: str = "http/protobuf"
    otel_service_name: str = "gateway-api"
    otel_bsp_schedule_delay: int = Field(default=5000, ge=1, le=600_000)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins(cls, origins: list[str]) -> list[str]:
        # Browsers send an Origin without a path or trailing slash; an entry written with one
        # would silently never match.
        cleaned = []
        for origin in origins:
            origin = origin.rstrip("/")
            parts = urlsplit(origin)
            if origin != "*" and (
                parts.scheme not in {"http", "https"} or not parts.hostname or parts.path
            ):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com")
            cleaned.append(origin)
        return cleaned

    @field_validator("encryption_keys")
    @classmethod
    def _encryption_keys(cls, value: SecretStr | None) -> SecretStr | None:
        # Blank (`ENCRYPTION_KEYS=` copied from .env.example) means "not set".
        if value is None or not value.get_secret_value().strip():
            return None
        # Parsed here so a malformed value stops start-up with one line, not a traceback from
        # the lifespan; parse_keys' messages name the entry, never key bytes.
        parse_keys(value.get_secret_value())
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _forwarded_allow_ips(cls, value: str) -> str:
        return parse_trusted_proxies(value)

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("otel_exporter_otlp_protocol")
    @classmethod
    def _otlp_protocol(cls, value: str) -> str:
        # The gRPC exporter is a separate, heavier dependency; only OTLP over HTTP is shipped.
        if value != "http/protobuf":
            raise ValueError("only http/protobuf is supported")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator(
        "public_base_url",
        "telegram_api_base_url",
        "openai_base_url",
        "anthropic_base_url",
        "deepseek_base_url",
        "grok_base_url",
        "gemini_base_url",
        "mistral_base_url",
        "groq_base_url",
        "ollama_base_url",
        "otel_exporter_otlp_endpoint",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return value
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("must start with sqlite://, postgres:// or postgresql://")
        return value

    @model_validator(mode="after")
    def _derived(self) -> Self:
        # Defaults that depend on other settings are filled here, once, so the rest of the code
        # never has to know which were given and which were derived.
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite://{self.data_dir}/gateway.sqlite3")
        if not self.public_base_url:
            object.__setattr__(self, "public_base_url", f"http://{self.host}:{self.port}")
        if self.allow_private_network_targets is None:
            allow = self.app_env is not AppEnv.PRODUCTION
            object.__setattr__(self, "allow_private_network_targets", allow)
        if self.metrics_enabled is None:
            object.__setattr__(self, "metrics_enabled", self.app_env is AppEnv.DEVELOPMENT)
        if self.app_env is AppEnv.PRODUCTION and self.encryption_keys is None:
            raise ValueError("ENCRYPTION_KEYS is required when APP_ENV=production")
        return self

    @property
    def is_production(self) -> bool:
        return self.app_env is AppEnv.PRODUCTION

    @property
    def metrics_on(self) -> bool:
        return bool(self.metrics_enabled)

    @property
    def tracing_on(self) -> bool:
        return bool(self.otel_exporter_otlp_endpoint)

    @property
    def private_targets_allowed(self) -> bool:
        return bool(self.allow_private_network_targets)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Read the environment; raise SettingsError with one line per bad variable."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            lines = []
            for error in exc.errors(include_url=False, include_input=False):
                name = "_".join(str(part) for part in error["loc"]).upper()
                message = error["msg"].removeprefix("Value error, ")
                # A cross-field rule has no single variable; its message names them.
                lines.append(
                    f"invalid setting {name}: {message}" if name else f"invalid settings: {message}"
                )
            raise SettingsError("\n".join(lines)) from None
