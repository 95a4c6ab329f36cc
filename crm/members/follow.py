"""What follows a person through a merge, its undo and an erasure, in the domains built on members (briefings,
thank-yous, dismissals, late questions).

Members sit below those domains in the layers, so they cannot name their tables. Instead each of them registers a
``Handler`` for its own rows at start-up (crm/wiring.py), and merge.py and erasure.py run every registered handler
inside their own transaction: a person's records move, move back or are erased with them, or not at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from piccolo.table import Table

Moved = dict[str, list[Any]]  # handler name -> what its move returned (stored in member_merge.moved_records)


@dataclass(frozen=True)
class Handler:
    # (from_id, to_id) -> the ids of the rows now held by to_id: stored with the merge (JSON), for its undo.
    move: Callable[[int, int], Awaitable[list[Any]]]
    # (ids, from_id, to_id): undo move. from_id is the kept member; only the rows it still holds go back.
    move_back: Callable[[list[Any], int, int], Awaitable[None]]
    # (member_id): drop what was said to and by the person in the rows and their audit entries; keep the rows.
    erase: Callable[[int], Awaitable[None]]


_handlers: dict[str, Handler] = {}


def register(name: str, handler: Handler) -> None:
    """``name`` is the key a merge stores the moved ids under: keep it stable, or merges made before cannot be
    undone. Registering a name again replaces its handler, so start-up wiring may run more than once."""
    _handlers[name] = handler


def _registered() -> dict[str, Handler]:
    # Without the later domains' handlers a merge would leave records behind and an erasure would keep words:
    # refuse rather than do half the job.
    if not _handlers:
        raise RuntimeError("No handlers follow a person through merges and erasures: call crm.wiring.connect().")
    return _handlers


async def move(*, from_id: int, to_id: int) -> Moved:
    """Give ``to_id`` the later domains' records of ``from_id``; returns what moved, for the undo."""
    return {name: await handler.move(from_id, to_id) for name, handler in _registered().items()}


async def move_back(moved: Moved, *, from_id: int, to_id: int) -> None:
    """Undo ``move``: the listed records still held by ``from_id`` (the kept member) go back to ``to_id``."""
    for name, handler in _registered().items():
        if moved.get(name):
            await handler.move_back(moved[name], from_id, to_id)


async def erase(member_id: int) -> None:
    for handler in _registered().values():
        await handler.erase(member_id)


# The common case for a handler: rows of ``table`` that belong to a member through its ``member`` column.


async def ids_of(table: type[Table], member_id: int) -> list[int]:
    return [r["id"] for r in await table.select(table.id).where(table.member == member_id).run()]


async def move_rows(table: type[Table], from_id: int, to_id: int) -> list[int]:
    ids = await ids_of(table, from_id)
    if ids:
        await table.update({table.member: to_id}).where(table.id.is_in(ids)).run()
    return ids


async def move_rows_back(table: type[Table], ids: list[int], from_id: int, to_id: int) -> None:
    await table.update({table.member: to_id}).where(table.id.is_in(ids) & (table.member == from_id)).run()
