"""Checks of links from members' rows to rows of the domains built on members.

An interaction may say which incident it is about (``Interaction.incident_id``). Incidents sit above members in the
layers, so members cannot look an incident up; the incidents domain registers the check at start-up
(crm/wiring.py) and logging an interaction asks it. The same way, interaction writes keep the incidents'
conversation rollup in step (below)."""

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


# ---- the incidents' conversation rollup --------------------------------------------------------------------
# Each incident keeps counts of the interactions in its conversation (crm/incidents/conversation.py). Writes here
# change them, so they tell the incidents domain, in their own transaction, through what it registered.

_conversation: dict[str, Callable[[list[int]], Awaitable[None]]] = {}


def register_conversation(
    *, added: Callable[[list[int]], Awaitable[None]], members_changed: Callable[[list[int]], Awaitable[None]]
) -> None:
    """``added(interaction_ids)``: new interactions; ``members_changed(member_ids)``: recount these members (a
    troll flag changed, interactions moved in a merge or its undo). Registering again replaces them."""
    _conversation["added"] = added
    _conversation["members_changed"] = members_changed


def _hook(name: str) -> Callable[[list[int]], Awaitable[None]]:
    if name not in _conversation:  # without it the counts would drift from the log: refuse to write
        raise RuntimeError("No conversation rollup is registered: call crm.wiring.connect().")
    return _conversation[name]


async def interactions_added(interaction_ids: list[int]) -> None:
    await _hook("added")(interaction_ids)


async def members_changed(member_ids: list[int]) -> None:
    await _hook("members_changed")(member_ids)
