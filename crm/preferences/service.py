"""Writing admin settings (validated, audited) and the values the app keeps for itself. Reads are in
crm/preferences/queries.py; both know how app_setting stores them, and nothing outside this package does."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from crm import db
from crm.audit.service import Actor, log_change
from crm.errors import InvalidInput
from crm.preferences.queries import PREF, PREFERENCES, Preference, all_values, kept_value
from crm.preferences.tables import AppSetting

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
            stored = PREF + key
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


async def keep_value_once(*, key: str, value: str) -> str:
    """Store ``value`` as the app's own value under ``key`` unless there is one already; returns the stored value.
    The first writer wins, also against a concurrent one (the key is unique)."""
    stored = await kept_value(key)
    if stored is not None:
        return stored
    try:
        await AppSetting.insert(AppSetting(key=key, value=value)).run()
    except Exception as exc:
        if not db.is_unique_violation(exc):
            raise
        return await kept_value(key)
    return value
