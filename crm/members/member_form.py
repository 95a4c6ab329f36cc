"""The add and edit member form: reading it (profile, topics, owner, and any number of handle rows), mapping the
service's errors onto the form's own rows, showing a member or a refused form again, and the page around it."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from crm.accounts import queries as accounts_queries
from crm.errors import Conflict, InvalidInput
from crm.forms import checked, is_id
from crm.members import service
from crm.members.vocab import PLATFORMS, TIERS
from crm.web import page

MIN_HANDLE_ROWS = 3
MAX_HANDLE_ROWS = 50


def read(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[int, int], dict[str, str]]:
    """Read the member form: (service values, values to show again, service handle index -> form row, errors)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        key: form.get(key, "") for key in ("name", "email", "tier", "location", "language", "time_zone", "notes")
    }
    values["tier"] = values["tier"] or "member"
    values["consent_private_briefing"] = checked(form, "consent_private_briefing")
    values["do_not_contact"] = checked(form, "do_not_contact")
    values["topics"] = form.get("topics", "").split(",")
    owner = form.get("owner", "").strip()
    values["owner"] = None
    if owner:
        if is_id(owner):
            values["owner"] = int(owner)
        else:
            errors["owner"] = "Choose an existing user."
    rows = 0
    while rows < MAX_HANDLE_ROWS and any(f"handles[{rows}].{part}" in form for part in ("platform", "handle")):
        rows += 1
    shown_rows, handles, index_map = [], [], {}
    for n in range(rows):
        row = {
            part: form.get(f"handles[{n}].{part}", "").strip() for part in ("platform", "handle", "followers", "url")
        }
        shown_rows.append(row)
        if not (row["handle"] or row["followers"] or row["url"]):
            continue  # an empty row: nothing to add
        followers: int | None = None
        if row["followers"]:
            digits = row["followers"].replace(",", "").replace("_", "").replace(" ", "")
            if is_id(digits):
                followers = int(digits)
            else:
                errors[f"handles[{n}].followers"] = "Followers must be a whole number, 0 or more."
        index_map[len(handles)] = n
        handles.append(
            {"platform": row["platform"], "handle": row["handle"], "followers": followers, "url": row["url"]}
        )
    values["handles"] = handles
    shown = {
        **{k: v for k, v in values.items() if k not in ("topics", "handles", "owner")},
        "topics": form.get("topics", ""),
        "owner": owner,
        "handle_rows": pad_rows(shown_rows),
    }
    return values, shown, index_map, errors


def pad_rows(rows: list[dict]) -> list[dict]:
    blank = {"platform": "", "handle": "", "followers": "", "url": ""}
    rows = [r for r in rows if r["handle"] or r["followers"] or r["url"]] or []
    return rows + [dict(blank) for _ in range(max(MIN_HANDLE_ROWS - len(rows), 1))]


def form_errors(exc: InvalidInput | Conflict, index_map: dict[int, int]) -> dict[str, str]:
    """Service field names (handles[i] counts only the filled rows) -> the form's own row numbers."""
    errors: dict[str, str] = {}
    for key, message in exc.fields.items():
        if key.startswith("handles[") and "]" in key:
            index, rest = key[len("handles[") :].split("]", 1)
            if is_id(index):
                key = f"handles[{index_map.get(int(index), int(index))}]{rest}"
        errors[key] = message
    if not exc.fields or isinstance(exc, Conflict):
        errors["form"] = exc.message
    return errors


def dry_validate(values: dict[str, Any], errors: dict[str, str], index_map: dict[int, int], *, partial: bool) -> None:
    """When the form itself is already wrong, still collect the service's own messages (nothing written)."""
    found: dict[str, str] = {}
    service.clean_profile(values, found, partial=partial)
    service.clean_topics(values.get("topics"), found)
    service.clean_handles(values.get("handles"), found)
    for key, message in form_errors(InvalidInput(found), index_map).items():
        errors.setdefault(key, message)


def member_shown(member: dict) -> dict[str, Any]:
    """A member as the edit form shows it."""
    return {
        **{key: member[key] or "" for key in ("name", "email", "tier", "location", "language", "time_zone", "notes")},
        "consent_private_briefing": member["consent_private_briefing"],
        "do_not_contact": member["do_not_contact"],
        "topics": ", ".join(member["topics"]),
        "owner": str(member["owner"] or ""),
        "handle_rows": pad_rows(
            [
                {
                    "platform": h["platform"],
                    "handle": h["handle"],
                    "followers": "" if h["followers"] is None else str(h["followers"]),
                    "url": h["url"] or "",
                }
                for h in member["handles"]
            ]
        ),
    }


async def form_page(
    request: Request, template: str, *, values: dict, errors: dict, status_code: int = 200, **context: Any
) -> Template:
    users = await accounts_queries.user_choices(values.get("owner"))
    return page(
        request,
        template,
        status_code=status_code,
        values=values,
        errors=errors,
        tiers=TIERS,
        platforms=PLATFORMS,
        users=users,
        **context,
    )
