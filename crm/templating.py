"""Jinja filters shared by every template."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment

from crm.settings import Settings
from crm.thanks.vocab import CHANNEL_LABELS


def configure_environment(env: Environment, settings: Settings) -> None:
    zone = ZoneInfo(settings.timezone)

    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """Times are stored in UTC and shown in the configured zone."""
        if value is None:
            return "—"
        return value.astimezone(zone).strftime(fmt)

    env.filters["localtime"] = localtime
    env.globals["timezone_name"] = settings.timezone
    env.globals["channel_labels"] = CHANNEL_LABELS  # briefings' and thanks' channels: one label each
