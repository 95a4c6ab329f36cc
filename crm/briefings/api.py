"""JSON API: suggestions, feedback, briefings, outcomes and the re-brief queue."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.briefings import queries, service, suggestions
from crm.briefings.schemas import (
    BriefingCreate,
    BriefingRead,
    BriefingUpdate,
    ExclusionRead,
    FeedbackRequest,
    RebriefItem,
    SuggestionList,
    SuggestionRead,
    briefing_read,
)
from crm.errors import InvalidInput
from crm.incidents import queries as incident_queries

WRITE = requires("briefings.write", "brief members")


class BriefingsAPI(Controller):
    path = "/api/v1"
    tags = ["briefings"]

    @get("/incidents/{incident_id:int}/suggestions", summary="Whom to brief, best first, each with its reasons")
    async def suggestions(
        self,
        request: Request,
        now: datetime,
        incident_id: FromPath[int],
        limit: FromQuery[int] = 20,
        include_excluded: FromQuery[bool] = False,
    ) -> SuggestionList:
        if not 1 <= limit <= 200:
            raise InvalidInput({"limit": "Between 1 and 200."})
        incident = await incident_queries.incident_or_404(incident_id)
        ranking = await suggestions.rank(incident, now=now, k=limit, include_excluded=include_excluded)
        items = [
            SuggestionRead(member_id=s.member_id, name=s.name, score=s.score, factors=s.factors, reasons=s.reasons)
            for s in ranking.items
        ]
        if not include_excluded:
            return SuggestionList(items=items)
        return SuggestionList(
            items=items, excluded=[ExclusionRead(member_id=e.member_id, reason=e.reason) for e in ranking.excluded]
        )

    @post(
        "/incidents/{incident_id:int}/suggestions/{member_id:int}/feedback",
        guards=[WRITE],
        status_code=HTTP_200_OK,
        summary="Accept, skip or mark a suggestion as not a good fit",
    )
    async def feedback(
        self,
        request: Request,
        now: datetime,
        actor: Actor,
        incident_id: FromPath[int],
        member_id: FromPath[int],
        data: JSONBody[FeedbackRequest],
    ) -> dict:
        await service.give_feedback(
            incident_id=incident_id,
            member_id=member_id,
            verdict=data.verdict,
            actor=actor,
            now=now,
        )
        return {"member_id": member_id, "verdict": data.verdict}

    @post(
        "/incidents/{incident_id:int}/briefings",
        guards=[WRITE],
        summary="Brief a member with the approved talking points (409 when not allowed)",
    )
    async def brief(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int], data: JSONBody[BriefingCreate]
    ) -> BriefingRead:
        row = await service.brief(
            incident_id=incident_id,
            member_id=data.member_id,
            channel=data.channel,
            note=data.note,
            actor=actor,
            now=now,
        )
        return briefing_read(row)

    @patch("/briefings/{briefing_id:int}", guards=[WRITE], summary="Record what came of a briefing")
    async def outcome(
        self, request: Request, now: datetime, actor: Actor, briefing_id: FromPath[int], data: JSONBody[BriefingUpdate]
    ) -> BriefingRead:
        row = await service.set_outcome(
            briefing_id=briefing_id,
            outcome=data.outcome,
            evidence=data.evidence_interaction_ids,
            actor=actor,
            now=now,
        )
        return briefing_read(row)

    @get("/incidents/{incident_id:int}/briefings", summary="Everyone briefed for this incident")
    async def briefings(self, incident_id: FromPath[int]) -> list[BriefingRead]:
        await incident_queries.incident_or_404(incident_id)
        return [briefing_read(r) for r in await queries.briefings_for(incident_id)]

    @get("/incidents/{incident_id:int}/rebrief", summary="Briefed on an older version: who needs an update")
    async def rebrief(self, incident_id: FromPath[int]) -> list[RebriefItem]:
        await incident_queries.incident_or_404(incident_id)
        return [
            RebriefItem(
                member_id=r["member"],
                briefing_id=r["id"],
                briefed_version=r["version"],
                current_version=r["current_version"],
                changes={k: [list(line) for line in v] for k, v in r["changes"].items()},
            )
            for r in await queries.rebrief_queue(incident_id)
        ]
