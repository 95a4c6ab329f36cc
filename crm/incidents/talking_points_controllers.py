"""HTML pages for an incident's talking points: write a new version (starting from the approved one), edit a
draft, and compare two versions. Approving is a button on the incident page (crm/pages/incident.py). The
points, what to avoid and the links are textareas with one item per line."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.audit.service import Actor
from crm.errors import Conflict, InvalidInput
from crm.forms import is_id, lines, list_errors, read_form
from crm.incidents import queries, talking_points
from crm.incidents.controllers import WRITE
from crm.web import page, redirect


class TalkingPointsController(Controller):
    path = "/"
    include_in_schema = False

    @get("/incidents/{incident_id:int}/talking-points/new", guards=[WRITE])
    async def new_talking_points(self, request: Request, incident_id: FromPath[int]) -> Template:
        incident = await queries.incident_or_404(incident_id)
        versions = await talking_points.versions(incident_id)
        base = next((v for v in versions if v["status"] == "approved"), versions[0] if versions else None)
        values = {k: "\n".join(base[k]) for k in ("points", "avoid", "links")} if base else {}
        return page(
            request,
            "incidents/talking_points_form.html",
            title="New talking points",
            incident=incident,
            values=values,
            errors={},
            version=None,
            based_on=base["version"] if base else None,
        )

    @post("/incidents/{incident_id:int}/talking-points", guards=[WRITE])
    async def create_talking_points(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        incident = await queries.incident_or_404(incident_id)
        form = await read_form(request)
        shown = {k: form.get(k, "") for k in ("points", "avoid", "links")}
        try:
            row = await talking_points.create_draft(
                incident_id=incident_id,
                values={k: lines(v) for k, v in shown.items()},
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return page(
                request,
                "incidents/talking_points_form.html",
                status_code=exc.status_code,
                title="New talking points",
                incident=incident,
                values=shown,
                errors=list_errors(exc.fields),
                version=None,
                based_on=None,
            )
        return redirect(
            request,
            f"/incidents/{incident_id}#talking-points",
            flash=f"Talking points version {row['version']} saved as a draft. "
            "A manager or admin approves it before advocates get it.",
        )

    @get("/incidents/{incident_id:int}/talking-points/{version:int}/edit", guards=[WRITE])
    async def edit_talking_points(
        self, request: Request, incident_id: FromPath[int], version: FromPath[int]
    ) -> Template | Redirect:
        incident = await queries.incident_or_404(incident_id)
        row = await talking_points.get_version(incident_id, version)
        if row["status"] != "draft":
            return redirect(
                request,
                f"/incidents/{incident_id}#talking-points",
                flash=f"Version {version} is {row['status']}: approved versions are never edited. "
                "Write a new version instead.",
            )
        return page(
            request,
            "incidents/talking_points_form.html",
            title=f"Edit talking points v{version}",
            incident=incident,
            values={k: "\n".join(row[k]) for k in ("points", "avoid", "links")},
            errors={},
            version=version,
            based_on=None,
        )

    @post("/incidents/{incident_id:int}/talking-points/{version:int}/edit", guards=[WRITE])
    async def update_talking_points(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int], version: FromPath[int]
    ) -> Template | Redirect:
        incident = await queries.incident_or_404(incident_id)
        form = await read_form(request)
        shown = {k: form.get(k, "") for k in ("points", "avoid", "links")}
        try:
            await talking_points.update_draft(
                incident_id=incident_id,
                version=version,
                values={k: lines(v) for k, v in shown.items()},
                actor=actor,
                now=now,
            )
        except (InvalidInput, Conflict) as exc:
            errors = list_errors(exc.fields)
            if isinstance(exc, Conflict):
                errors["form"] = exc.message
            return page(
                request,
                "incidents/talking_points_form.html",
                status_code=exc.status_code,
                title=f"Edit talking points v{version}",
                incident=incident,
                values=shown,
                errors=errors,
                version=version,
                based_on=None,
            )
        return redirect(request, f"/incidents/{incident_id}#talking-points", flash=f"Draft v{version} saved.")

    @get("/incidents/{incident_id:int}/talking-points/diff")
    async def diff_talking_points(self, request: Request, incident_id: FromPath[int]) -> Template:
        incident = await queries.incident_or_404(incident_id)
        versions = await talking_points.versions(incident_id)
        numbers = [v["version"] for v in versions]
        params = request.query_params
        errors: dict[str, str] = {}
        picked: dict[str, int | None] = {}
        defaults = {
            "a": numbers[1] if len(numbers) > 1 else (numbers[0] if numbers else None),
            "b": numbers[0] if numbers else None,
        }
        for key in ("a", "b"):
            raw = (params.get(key) or "").strip()
            if not raw:
                picked[key] = defaults[key]
            elif is_id(raw) and int(raw) in numbers:
                picked[key] = int(raw)
            else:
                picked[key] = None
                errors[key] = f"Choose one of the versions: {', '.join(map(str, sorted(numbers))) or 'none yet'}."
        diff = None
        if not errors and picked["a"] is not None and picked["b"] is not None:
            by_number = {v["version"]: v for v in versions}
            diff = talking_points.diff(by_number[picked["a"]], by_number[picked["b"]])
        return page(
            request,
            "incidents/talking_points_diff.html",
            status_code=422 if errors else 200,
            title="Talking points: differences",
            incident=incident,
            versions=versions,
            picked=picked,
            errors=errors,
            diff=diff,
        )
