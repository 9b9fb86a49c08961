"""The one settings object, read from `LEDGER_*` environment variables.

Built by `build_settings()` and passed in, never read at import time, so tests and
tools can construct exactly the configuration they need.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from infrastructure.audit.trail import AuditConfig

DEVELOPMENT = "development"

# Only ever used when environment == "development": anyone can read it here, so
# hashes made with it protect nothing. Any other environment must set a key.
_DEVELOPMENT_SECRET_KEY = b"token-ledger development key - never use in production"

MIN_SECRET_KEY_LENGTH = 32

# Seconds a request waits for a database connection before it is refused with 503.
DEFAULT_DATABASE_TIMEOUT = 3


class SettingsError(ValueError):
    """Raised when the configuration cannot be used (for example a missing secret key)."""


class Settings(BaseSettings):
    """Process configuration; defaults give the embedded SQLite development setup."""

    model_config = SettingsConfigDict(
        env_prefix="LEDGER_",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str | None = Field(
        default=None,
        description="postgresql://user:pass@host:5432/db; unset means embedded SQLite.",
        repr=False,  # it may carry a password; settings do get logged
    )
    sqlite_path: Path = Field(
        default=Path("var/ledger.sqlite"),
        description="SQLite file used when no database URL is set.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Server key for the HMAC of tokens, codes and client secrets.",
    )
    environment: str = Field(default=DEVELOPMENT)
    # LEDGER_HOST/LEDGER_PORT win; plain HOST/PORT are the usual platform convention.
    host: str = Field(
        default="127.0.0.1",
        validation_alias=AliasChoices("LEDGER_HOST", "HOST"),
    )
    port: int = Field(
        default=8000,
        validation_alias=AliasChoices("LEDGER_PORT", "PORT"),
    )
    workers: int = Field(default=1, ge=1)
    postgres_pool_size: int = Field(default=5, ge=1)
    postgres_schema: str | None = None
    database_timeout: int = Field(
        default=DEFAULT_DATABASE_TIMEOUT,
        ge=1,
        description="Seconds a request waits for a database connection before it is answered "
        "503 with Retry-After (the database is down or every connection is busy).",
    )
    trusted_user_header: str | None = Field(
        default=None,
        description="Behind an SSO proxy: the request header naming the signed-in user "
        "(the OAuth pages then offer no password form). Only set it when every request "
        "reaches the service through that proxy, which must strip the header from clients.",
    )

    checkpoint_signer_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 signer key (PRIVATE+KEY+name+id+base64, from `ledger audit keygen`) "
        "that signs the log's checkpoints. Unset: development derives one from the secret key; "
        "any other environment signs no checkpoints.",
    )
    checkpoint_verifier_keys: str = Field(
        default="",
        description="More trusted verifier keys (e.g. retired signers'), comma- or "
        "space-separated; the signer's own verifier key is always trusted.",
    )
    checkpoint_origin: str = Field(
        default="token-ledger", min_length=1, description="The log's name in its checkpoints."
    )
    checkpoint_interval: float = Field(
        default=3600,
        ge=0,
        description="Seconds between automatic checkpoints (when the log grew); 0 = off.",
    )

    @property
    def is_development(self) -> bool:
        return self.environment == DEVELOPMENT

    @property
    def backend(self) -> Literal["sqlite", "postgres"]:
        """Which event store this configuration selects: "sqlite" or "postgres"."""
        return "postgres" if self.database_url else "sqlite"


def build_settings(**overrides: Any) -> Settings:
    """Read the environment (overrides win) and refuse configurations that are unsafe.

    Outside development a secret key is mandatory and must be long enough to be a
    real HMAC key; the failure happens here, at start-up, not on the first request.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(f"invalid LEDGER_* settings: {exc}") from exc
    if not settings.is_development:
        if settings.secret_key is None or not settings.secret_key.get_secret_value():
            raise SettingsError(
                f"LEDGER_SECRET_KEY must be set when LEDGER_ENVIRONMENT is "
                f"{settings.environment!r} (only 'development' has a built-in key)"
            )
        if len(settings.secret_key.get_secret_value().encode()) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                f"LEDGER_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} bytes "
                f"(for example the output of `openssl rand -hex 32`)"
            )
    audit_config(settings)  # a malformed checkpoint key fails here, at start-up
    return settings


def secret_key_bytes(settings: Settings) -> bytes:
    """The HMAC server key as bytes; the development key only in development."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value().encode()
    if settings.is_development:
        return _DEVELOPMENT_SECRET_KEY
    raise SettingsError("LEDGER_SECRET_KEY is not set")


DEVELOPMENT_CHECKPOINT_KEY_NAME = "ledger-development"


def audit_config(settings: Settings) -> AuditConfig:
    """The checkpoint keys and schedule. Without a configured signer key, development derives
    one from the secret key (deterministic, so its checkpoints still verify after a restart);
    any other environment then signs nothing (verification still runs)."""
    import hashlib
    import hmac

    from infrastructure.audit import checkpoints as cp
    from infrastructure.audit.trail import AuditConfig

    try:
        signer: cp.SignerKey | None = None
        configured = settings.checkpoint_signer_key
        if configured is not None and configured.get_secret_value().strip():
            signer = cp.parse_signer_key(configured.get_secret_value())
        elif settings.is_development:
            seed = hmac.new(
                secret_key_bytes(settings), b"checkpoint signer key", hashlib.sha256
            ).digest()
            text, _ = cp.generate_key(DEVELOPMENT_CHECKPOINT_KEY_NAME, seed)
            signer = cp.parse_signer_key(text)
        verifiers = tuple(
            cp.parse_verifier_key(key)
            for key in settings.checkpoint_verifier_keys.replace(",", " ").split()
        )
        cp.Checkpoint(settings.checkpoint_origin, 0, bytes(32)).body()  # checks the origin
    except cp.CheckpointError as exc:
        raise SettingsError(f"invalid LEDGER_CHECKPOINT_* settings: {exc}") from None
    return AuditConfig(settings.checkpoint_origin, signer, verifiers, settings.checkpoint_interval)
