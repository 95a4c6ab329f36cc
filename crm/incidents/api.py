"""JSON API for incidents, talking points and the promotion-freeze status."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import InvalidInput, NotFound
from crm.incidents import queries, service, talking_points
from crm.incidents.schemas import (
    FreezeStatus,
    IncidentCreate,
    IncidentRead,
    IncidentUpdate,
    LinkRequest,
    TalkingPointsCreate,
    TalkingPointsRead,
    TransitionRequest,
    talking_points_read,
)
from crm.incidents.track_record import record_since
from crm.incidents.vocab import SEVERITIES, STATUSES
from crm.web import sent_fields

WRITE = requires("incidents.write", "change incidents")
APPROVE = requires("talking_points.approve", "approve talking points")


async def incident_read(incident_id: int, now) -> IncidentRead:
    incident = await queries.snapshot(incident_id)
    if incident is None:
        raise NotFound(f"No incident with id {incident_id}.")
    clock = await queries.clock(incident, now)
    return IncidentRead(
        id=incident["id"],
        title=incident["title"],
        summary=incident["summary"],
        severity=incident["severity"],
        status=incident["status"],
        topics=incident["topics"],
        platforms=incident["platforms"],
        links=incident["links"],
        owner_id=incident["owner"],
        freeze_promotion=incident["freeze_promotion"],
        clock=clock,
        interactions=await queries.sentiment_counts(incident),
    )


async def freeze_status() -> FreezeStatus:
    rows = await queries.freezing_incidents()
    return FreezeStatus(promotion_freeze=bool(rows), incidents=rows)


class IncidentsAPI(Controller):
    path = "/api/v1"
    tags = ["incidents"]

    @post("/incidents", guards=[WRITE], summary="Open an incident")
    async def create(
        self, request: Request, now: datetime, actor: Actor, data: JSONBody[IncidentCreate]
    ) -> IncidentRead:
        created = await service.create_incident(values=sent_fields(data), actor=actor, now=now)
        return await incident_read(created["id"], now)

    @get(
        "/incidents/{incident_id:int}",
        summary="An incident with its response clock, linked-interaction counts and record since it was resolved",
    )
    async def show(self, request: Request, now: datetime, zone: ZoneInfo, incident_id: FromPath[int]) -> IncidentRead:
        read = await incident_read(incident_id, now)
        read.record_since = await record_since(await queries.snapshot(incident_id), now=now, zone=zone)
        return read

    @get("/incidents", summary="Incidents, newest first")
    async def index(
        self,
        request: Request,
        now: datetime,
        status: FromQuery[str] = "",
        severity: FromQuery[str] = "",
        open: FromQuery[bool | None] = None,
    ) -> list[IncidentRead]:
        errors = {}
        if status and status not in STATUSES:
            errors["status"] = f"Choose one of: {', '.join(STATUSES)}."
        if severity and severity not in SEVERITIES:
            errors["severity"] = f"Choose one of: {', '.join(SEVERITIES)}."
        if errors:
            raise InvalidInput(errors)
        rows = await queries.list_incidents(status=status, severity=severity, open_=open)
        return [await incident_read(r["id"], now) for r in rows]

    @patch("/incidents/{incident_id:int}", guards=[WRITE], summary="Change an incident or its review")
    async def update(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int], data: JSONBody[IncidentUpdate]
    ) -> IncidentRead:
        await service.update_incident(incident_id=incident_id, values=sent_fields(data), actor=actor, now=now)
        return await incident_read(incident_id, now)

    @post(
        "/incidents/{incident_id:int}/transitions",
        guards=[WRITE],
        status_code=HTTP_200_OK,
        summary="Move the incident along its workflow (409 with the allowed moves otherwise)",
    )
    async def transition(
        self,
        request: Request,
        now: datetime,
        actor: Actor,
        incident_id: FromPath[int],
        data: JSONBody[TransitionRequest],
    ) -> IncidentRead:
        await service.transition(incident_id=incident_id, to=data.to, actor=actor, now=now)
        return await incident_read(incident_id, now)

    @post(
        "/incidents/{incident_id:int}/interactions",
        guards=[WRITE],
        status_code=HTTP_200_OK,
        summary="Link interactions to the incident",
    )
    async def link(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int], data: JSONBody[LinkRequest]
    ) -> dict:
        linked = await service.link_interactions(
            incident_id=incident_id,
            interaction_ids=data.interaction_ids,
            actor=actor,
            now=now,
        )
        return {"linked": linked}

    @post(
        "/incidents/{incident_id:int}/freeze/lift",
        guards=[WRITE],
        status_code=HTTP_200_OK,
        summary="Lift the promotion freeze of an incident (recorded)",
    )
    async def lift_freeze(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> IncidentRead:
        await service.lift_freeze(incident_id=incident_id, actor=actor, now=now)
        return await incident_read(incident_id, now)

    @post("/incidents/{incident_id:int}/talking-points", guards=[WRITE], summary="Write a new talking-points draft")
    async def new_talking_points(
        self,
        request: Request,
        now: datetime,
        actor: Actor,
        incident_id: FromPath[int],
        data: JSONBody[TalkingPointsCreate],
    ) -> TalkingPointsRead:
        row = await talking_points.create_draft(
            incident_id=incident_id,
            values=msgspec.structs.asdict(data),
            actor=actor,
            now=now,
        )
        return talking_points_read(row)

    @post(
        "/incidents/{incident_id:int}/talking-points/{version:int}/approve",
        guards=[APPROVE],
        status_code=HTTP_200_OK,
        summary="Approve a draft (the previous approved version is superseded)",
    )
    async def approve(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int], version: FromPath[int]
    ) -> TalkingPointsRead:
        row = await talking_points.approve(
            incident_id=incident_id,
            version=version,
            actor=actor,
            now=now,
        )
        return talking_points_read(row)

    @get("/incidents/{incident_id:int}/talking-points/current", summary="The approved talking points (404 if none)")
    async def current(self, incident_id: FromPath[int]) -> TalkingPointsRead:
        if await queries.snapshot(incident_id) is None:
            raise NotFound(f"No incident with id {incident_id}.")
        row = await talking_points.current(incident_id)
        if row is None:
            raise NotFound("No talking points are approved for this incident yet.")
        return talking_points_read(row)

    @get("/status", summary="Is promotion frozen? For scheduling tools to check before posting")
    async def status(self) -> FreezeStatus:
        return await freeze_status()
