"""Admin settings with typed defaults, stored as JSON text in app_setting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm import db
from crm.audit.service import Actor, log_change
from crm.errors import InvalidInput
from crm.preferences.tables import AppSetting


@dataclass(frozen=True)
class Preference:
    key: str
    label: str
    default: Any
    minimum: int | None = None
    maximum: int | None = None
    help: str = ""


PREFERENCES = {
    p.key: p
    for p in [
        Preference("ack_target_minutes.critical", "Acknowledge a critical incident within (minutes)", 15, 1, 10_080),
        Preference("ack_target_minutes.high", "Acknowledge a high incident within (minutes)", 60, 1, 10_080),
        Preference("ack_target_minutes.medium", "Acknowledge a medium incident within (minutes)", 240, 1, 10_080),
        Preference("ack_target_minutes.low", "Acknowledge a low incident within (minutes)", 1_440, 1, 10_080),
        Preference(
            "briefing_fatigue_incidents",
            "Do not suggest members briefed for this many other incidents in the last 30 days",
            2,
            1,
            50,
        ),
        Preference(
            "two_person_approval",
            "Two-person approval of talking points",
            True,
            help="When on, the author of a talking-points version cannot approve it.",
        ),
        Preference(
            "thanks_due_days",
            "A thank-you is due within this many days of the help",
            2,
            0,
            60,
            help="After that it is overdue.",
        ),
        Preference(
            "faq_review_days",
            "Flag a published FAQ answer for review after this many days",
            90,
            1,
            3_650,
            help="Answers go stale; a manager marks an entry reviewed to clear the flag.",
        ),
    ]
}


async def get(key: str) -> Any:
    pref = PREFERENCES[key]
    row = await AppSetting.select(AppSetting.value).where(AppSetting.key == f"pref:{key}").first().run()
    return json.loads(row["value"]) if row else pref.default


async def all_values() -> dict[str, Any]:
    rows = await AppSetting.select().where(AppSetting.key.like("pref:%")).run()
    stored = {r["key"][5:]: json.loads(r["value"]) for r in rows}
    return {key: stored.get(key, pref.default) for key, pref in PREFERENCES.items()}


ON, OFF = ("on", "true", "1"), ("off", "false", "0", "")  # "" is an unticked checkbox


def _clean(pref: Preference, raw: Any, errors: dict[str, str]) -> Any:
    if isinstance(pref.default, bool):
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower() if isinstance(raw, (str, int)) else None
        if word in ON or word in OFF:
            return word in ON
        errors[pref.key] = "Choose on or off."
        return None
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        errors[pref.key] = "Enter a whole number."
        return None
    try:
        value = int(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError, OverflowError):
        errors[pref.key] = "Enter a whole number."
        return None
    if (pref.minimum is not None and value < pref.minimum) or (pref.maximum is not None and value > pref.maximum):
        errors[pref.key] = f"Between {pref.minimum} and {pref.maximum}."
    return value


async def update(*, values: dict[str, Any], actor: Actor, now: datetime) -> dict[str, Any]:
    errors: dict[str, str] = {}
    unknown = set(values) - set(PREFERENCES)
    for key in unknown:
        errors[key] = "Unknown setting."
    cleaned = {k: _clean(PREFERENCES[k], v, errors) for k, v in values.items() if k in PREFERENCES}
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        before = await all_values()
        for key, value in cleaned.items():
            stored = f"pref:{key}"
            if await AppSetting.exists().where(AppSetting.key == stored).run():
                await AppSetting.update({AppSetting.value: json.dumps(value)}).where(AppSetting.key == stored).run()
            else:
                await AppSetting.insert(AppSetting(key=stored, value=json.dumps(value))).run()
        after = await all_values()
        if after != before:
            await log_change(
                actor=actor, action="settings.update", entity="settings", before=before, after=after, at=now
            )
    return after
