"""Checks of links from members' rows to rows of the domains built on members.

An interaction may say which incident it is about (``Interaction.incident_id``). Incidents sit above members in the
layers, so members cannot look an incident up; the incidents domain registers the check at start-up
(crm/wiring.py) and logging an interaction asks it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

_checks: dict[str, Callable[[int], Awaitable[bool]]] = {}


def register_incident_check(check: Callable[[int], Awaitable[bool]]) -> None:
    """``check(incident_id)`` says whether the incident exists. Registering again replaces it."""
    _checks["incident"] = check


async def incident_exists(incident_id: int) -> bool:
    if "incident" not in _checks:
        raise RuntimeError("No incident check is registered: call crm.wiring.connect().")
    return await _checks["incident"](incident_id)
