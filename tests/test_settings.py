"""Settings.from_env: defaults, accepted values, and one actionable ConfigError per malformed value."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from crm.settings import MIN_SECRET_LENGTH, ConfigError, Settings

SECRET = "s" * MIN_SECRET_LENGTH


def load(tmp_path: Path, **environ: str) -> Settings:
    return Settings.from_env(environ=environ, base=tmp_path)


def config_error(tmp_path: Path, **environ: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **environ)
    return caught.value


# --- defaults and accepted values -------------------------------------------------------


def test_it_defaults_to_a_sqlite_file_under_base_var(tmp_path):
    settings = load(tmp_path, CRM_SECRET_KEY=SECRET)
    assert settings.database.engine == "sqlite"
    assert settings.database.sqlite_path == tmp_path / "var" / "crm.sqlite"
    assert settings.var_dir == tmp_path / "var"


def test_it_defaults_to_development_utc_and_twelve_hour_sessions(tmp_path):
    settings = load(tmp_path, CRM_SECRET_KEY=SECRET)
    assert settings.env == "development"
    assert settings.production is False
    assert settings.timezone == "UTC"
    assert settings.session_lifetime == timedelta(hours=12)
    assert settings.secret_key == SECRET


def test_it_treats_blank_values_as_unset(tmp_path):
    settings = load(
        tmp_path, CRM_SECRET_KEY=SECRET, CRM_ENV=" ", CRM_DATABASE_URL="", CRM_TIMEZONE="", CRM_SESSION_HOURS=""
    )
    assert settings.env == "development"
    assert settings.database.sqlite_path == tmp_path / "var" / "crm.sqlite"
    assert settings.timezone == "UTC"
    assert settings.session_lifetime == timedelta(hours=12)


def test_it_resolves_a_relative_sqlite_path_against_base(tmp_path):
    settings = load(tmp_path, CRM_SECRET_KEY=SECRET, CRM_DATABASE_URL="sqlite:///data/app.sqlite")
    assert settings.database.engine == "sqlite"
    assert settings.database.sqlite_path == tmp_path / "data" / "app.sqlite"


def test_it_keeps_an_absolute_sqlite_path(tmp_path):
    elsewhere = tmp_path / "elsewhere" / "crm.sqlite"
    settings = load(tmp_path / "base", CRM_SECRET_KEY=SECRET, CRM_DATABASE_URL=f"sqlite:///{elsewhere}")
    assert settings.database.sqlite_path == elsewhere


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://crm:pw@127.0.0.1:5432/crm",
        "postgresql://db.internal/crm",
        "postgres://crm@localhost/crm",
    ],
)
def test_it_accepts_a_postgresql_url(tmp_path, url):
    settings = load(tmp_path, CRM_SECRET_KEY=SECRET, CRM_DATABASE_URL=url)
    assert settings.database.engine == "postgres"
    assert settings.database.url == url
    assert settings.database.sqlite_path is None


def test_it_accepts_production_with_a_secret_and_a_named_time_zone(tmp_path):
    settings = load(
        tmp_path, CRM_SECRET_KEY=SECRET, CRM_ENV="production", CRM_TIMEZONE="Europe/Paris", CRM_SESSION_HOURS="8"
    )
    assert settings.production is True
    assert settings.timezone == "Europe/Paris"
    assert settings.session_lifetime == timedelta(hours=8)


@pytest.mark.parametrize("hours", ["1", "720"])
def test_it_accepts_session_hours_at_both_ends_of_the_range(tmp_path, hours):
    settings = load(tmp_path, CRM_SECRET_KEY=SECRET, CRM_SESSION_HOURS=hours)
    assert settings.session_lifetime == timedelta(hours=int(hours))


# --- malformed values --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://crm@localhost/crm", "must start with sqlite:/// or postgresql://"),
        ("sqlite:///", "needs a file path"),
        ("sqlite://crm.sqlite", "must start with sqlite:/// or postgresql://"),
        ("postgresql:///crm", "needs a host"),
        ("postgresql://crm@db:fivefourthreetwo/crm", "port must be a number"),
        ("postgresql://crm@db:5432", "needs a database name"),
        ("postgresql://crm@db:5432/", "needs a database name"),
    ],
)
def test_it_rejects_a_malformed_database_url_naming_the_variable(tmp_path, url, says):
    error = config_error(tmp_path, CRM_SECRET_KEY=SECRET, CRM_DATABASE_URL=url)
    assert error.variable == "CRM_DATABASE_URL"
    assert str(error).startswith("CRM_DATABASE_URL: ")
    assert says in str(error)
    assert "\n" not in str(error)


def test_it_does_not_echo_the_password_of_a_rejected_database_url(tmp_path):
    error = config_error(tmp_path, CRM_SECRET_KEY=SECRET, CRM_DATABASE_URL="mysql://crm:hunter2secret@db/crm")
    assert "hunter2secret" not in str(error)


def test_it_rejects_an_unknown_environment(tmp_path):
    error = config_error(tmp_path, CRM_SECRET_KEY=SECRET, CRM_ENV="staging")
    assert str(error).startswith("CRM_ENV: ")
    assert "development, production" in str(error) and "'staging'" in str(error)


def test_it_rejects_an_unknown_time_zone(tmp_path):
    error = config_error(tmp_path, CRM_SECRET_KEY=SECRET, CRM_TIMEZONE="Mars/Base")
    assert str(error).startswith("CRM_TIMEZONE: ")
    assert "unknown time zone 'Mars/Base'" in str(error)


@pytest.mark.parametrize("zone", ["../../etc/passwd", "/etc/localtime"])
def test_it_rejects_a_time_zone_that_is_a_file_path(tmp_path, zone):
    error = config_error(tmp_path, CRM_SECRET_KEY=SECRET, CRM_TIMEZONE=zone)
    assert str(error).startswith("CRM_TIMEZONE: ")


@pytest.mark.parametrize("hours", ["0", "abc", "-1", "1.5", "721", "²"])
def test_it_rejects_session_hours_that_are_not_a_whole_number_from_1_to_720(tmp_path, hours):
    error = config_error(tmp_path, CRM_SECRET_KEY=SECRET, CRM_SESSION_HOURS=hours)
    assert str(error).startswith("CRM_SESSION_HOURS: ")
    assert "whole number of hours from 1 to 720" in str(error)
    assert repr(hours) in str(error)


def test_it_rejects_a_short_secret_key(tmp_path):
    error = config_error(tmp_path, CRM_SECRET_KEY="s" * (MIN_SECRET_LENGTH - 1))
    assert str(error).startswith("CRM_SECRET_KEY: ")
    assert f"at least {MIN_SECRET_LENGTH} characters" in str(error)


def test_it_never_shows_the_rejected_secret_key(tmp_path):
    error = config_error(tmp_path, CRM_SECRET_KEY="tooshort-but-secret")
    assert "tooshort-but-secret" not in str(error)


def test_it_refuses_production_without_a_secret_key_and_writes_none(tmp_path):
    error = config_error(tmp_path, CRM_ENV="production")
    assert str(error).startswith("CRM_SECRET_KEY: ")
    assert "required when CRM_ENV=production" in str(error)
    assert not (tmp_path / "var" / "secret_key").exists()


# --- the development secret --------------------------------------------------------------


def test_it_generates_a_private_development_secret_and_reuses_it(tmp_path):
    first = load(tmp_path)
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= MIN_SECRET_LENGTH
    assert key_file.read_text().strip() == first.secret_key

    second = load(tmp_path)
    assert second.secret_key == first.secret_key


def test_it_generates_a_different_development_secret_for_each_base(tmp_path):
    assert load(tmp_path / "one").secret_key != load(tmp_path / "two").secret_key


def test_it_prefers_an_explicit_secret_key_over_the_development_file(tmp_path):
    load(tmp_path)  # writes var/secret_key
    assert load(tmp_path, CRM_SECRET_KEY=SECRET).secret_key == SECRET


@pytest.mark.parametrize("content", ["", "\n", "short"])
def test_it_refuses_a_development_secret_file_that_is_empty_or_too_short(tmp_path, content):
    key_file = tmp_path / "var" / "secret_key"
    key_file.parent.mkdir()
    key_file.write_text(content)
    error = config_error(tmp_path)
    assert str(error).startswith("CRM_SECRET_KEY: ")
    assert str(key_file) in str(error)
