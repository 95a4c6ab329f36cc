"""What handlers receive by name instead of reaching into the request: ``now`` (the app's clock, injected by
tests), ``actor`` (the signed-in user and their address, for the audit log) and ``zone`` (where times are shown)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.di import Provide

from crm.audit.service import Actor
from crm.forms import client_ip


def provide_now(request: Request) -> datetime:
    return request.app.state.clock()


def provide_actor(request: Request) -> Actor:
    """Only for handlers behind the sign-in guard: a public handler has no user to act as."""
    return request.user.actor(client_ip(request))


def provide_zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.timezone)


DEPENDENCIES = {
    "now": Provide(provide_now, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "zone": Provide(provide_zone, sync_to_thread=False),
}
