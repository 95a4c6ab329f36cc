"""Reading admin settings: what each one is (its label, bounds and default) and its current value; and the values
the app keeps for itself (the erasure salt). Stored as rows of app_setting: a setting as JSON text under
"pref:<key>", a kept value as plain text under its own key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from crm.preferences.tables import AppSetting

PREF = "pref:"  # the prefix of a setting's row key


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


def _decoded(pref: Preference, raw: str) -> Any:
    """The stored value, or the default when the row holds something the page could not have saved."""
    try:
        value = json.loads(raw)
    except ValueError:
        return pref.default
    return value if type(value) is type(pref.default) else pref.default


async def get(key: str) -> Any:
    pref = PREFERENCES[key]
    row = await AppSetting.select(AppSetting.value).where(AppSetting.key == PREF + key).first().run()
    return _decoded(pref, row["value"]) if row else pref.default


async def all_values() -> dict[str, Any]:
    rows = await AppSetting.select().where(AppSetting.key.like(PREF + "%")).run()
    stored = {r["key"][len(PREF) :]: r["value"] for r in rows}
    return {key: _decoded(pref, stored[key]) if key in stored else pref.default for key, pref in PREFERENCES.items()}


async def kept_value(key: str) -> str | None:
    """A value the app keeps for itself (not a setting), or None while there is none."""
    row = await AppSetting.select(AppSetting.value).where(AppSetting.key == key).first().run()
    return row["value"] if row else None
