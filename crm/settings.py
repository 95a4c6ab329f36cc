"""Configuration read once from the environment.

Every malformed value raises ConfigError with one line naming the variable, so
start-up stops with a message a person can act on.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENVIRONMENTS = ("development", "production")
MIN_SECRET_LENGTH = 32


class ConfigError(Exception):
    """A configuration value is missing or malformed."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class DatabaseURL:
    engine: str  # "sqlite" or "postgres"
    url: str
    sqlite_path: Path | None = None

    @classmethod
    def parse(cls, raw: str, *, base: Path) -> DatabaseURL:
        name = "CRM_DATABASE_URL"
        if raw.startswith("sqlite:///"):
            rest = raw[len("sqlite:///") :]
            if not rest:
                raise ConfigError(name, "sqlite URL needs a file path, e.g. sqlite:///var/crm.sqlite")
            path = Path(rest)
            return cls("sqlite", raw, path if path.is_absolute() else base / path)
        if raw.startswith(("postgresql://", "postgres://")):
            parts = urlsplit(raw)
            try:
                parts.port  # noqa: B018 - raises ValueError on a non-numeric port
            except ValueError:
                raise ConfigError(name, "the port must be a number") from None
            if not parts.hostname:
                raise ConfigError(name, "postgresql URL needs a host, e.g. postgresql://user:pass@127.0.0.1:5432/crm")
            if not parts.path.strip("/"):
                raise ConfigError(name, "postgresql URL needs a database name after the host")
            return cls("postgres", raw)
        raise ConfigError(name, f"must start with sqlite:/// or postgresql://, got {raw.split(':', 1)[0]!r}")


@dataclass(frozen=True)
class Settings:
    database: DatabaseURL
    secret_key: str
    env: str
    timezone: str
    var_dir: Path
    session_lifetime: timedelta = timedelta(hours=12)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, base: Path | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        base = Path.cwd() if base is None else base
        var_dir = base / "var"

        env = environ.get("CRM_ENV", "development").strip() or "development"
        if env not in ENVIRONMENTS:
            raise ConfigError("CRM_ENV", f"must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")

        database = DatabaseURL.parse(
            environ.get("CRM_DATABASE_URL", "").strip() or "sqlite:///var/crm.sqlite", base=base
        )

        timezone = environ.get("CRM_TIMEZONE", "UTC").strip() or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("CRM_TIMEZONE", f"unknown time zone {timezone!r}, e.g. Europe/Paris or UTC") from None

        hours_raw = environ.get("CRM_SESSION_HOURS", "12").strip() or "12"
        # isdigit() alone accepts characters int() refuses, such as "²"
        if not (hours_raw.isascii() and hours_raw.isdigit()) or not 1 <= int(hours_raw) <= 24 * 30:
            raise ConfigError("CRM_SESSION_HOURS", f"must be a whole number of hours from 1 to 720, got {hours_raw!r}")

        secret = environ.get("CRM_SECRET_KEY", "").strip()
        if secret:
            if len(secret) < MIN_SECRET_LENGTH:
                raise ConfigError("CRM_SECRET_KEY", f"must be at least {MIN_SECRET_LENGTH} characters long")
        elif env == "production":
            raise ConfigError("CRM_SECRET_KEY", "is required when CRM_ENV=production")
        else:
            secret = _dev_secret(var_dir / "secret_key")

        return cls(
            database=database,
            secret_key=secret,
            env=env,
            timezone=timezone,
            var_dir=var_dir,
            session_lifetime=timedelta(hours=int(hours_raw)),
        )


def _dev_secret(path: Path) -> str:
    """Generate the development secret once and keep it, so sessions survive restarts."""
    if path.exists():
        return _read_dev_secret(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker wrote it first
        return _read_dev_secret(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def _read_dev_secret(path: Path) -> str:
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_LENGTH:  # e.g. left empty by a crash: never sign with a blank key
        raise ConfigError(
            "CRM_SECRET_KEY", f"not set, and {path} is empty or too short; delete that file to generate a new one"
        )
    return secret
