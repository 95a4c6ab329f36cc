"""Late questions (playbook step 6): logging a customer's question about a past incident with the FAQ answers
that matched it, and recording the answer we sent. Every write runs in one transaction with its audit entry.

Decisions:
- A question may be answered again: the new answer replaces the recorded one, and the audit entry of each
  answer keeps what it replaced (``before``), so the history is never lost. (Refusing with 409 would leave an
  agent who sent a correction unable to record it.)
- A member or incident named in the body that does not exist is bad input (422 naming the field), not a
  missing page (404 is for the URL's own object).
- ``asked_at`` may not be in the future, allowing the same few minutes of clock skew as incident detection.
- Gaps: a question is a gap (the FAQ has no answer to it yet) unless some published entry matched every
  meaningful word of it (stop words aside, words stemmed). Only those all-words matches are stored as
  ``suggested``. FAQ search alone falls back to entries sharing ANY word, and one shared word ("flight") would
  otherwise hide a gap; those closer-but-partial matches are still offered (``related``, and on the question
  page) so the agent can check them, but they do not make the question answered by the FAQ.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crm import db, validation
from crm.audit.service import Actor, log_change
from crm.errors import InvalidInput, NotFound
from crm.faq import queries as faq_queries
from crm.faq import search
from crm.incidents import queries as incident_queries
from crm.incidents.service import CLOCK_SKEW
from crm.incidents.tables import Incident
from crm.incidents.track_record import record_since
from crm.members import queries as member_queries
from crm.members.service import handle_key
from crm.members.vocab import PLATFORMS
from crm.questions import queries
from crm.questions.tables import LateQuestion

MAX_TEXT = 5_000
MAX_ASKER = 200
MAX_ANSWER = 20_000
SUGGESTIONS = 5
MAX_ID = 2**31 - 1  # the id columns are 32-bit on PostgreSQL
# Control characters other than tab and newlines: never meaningful in a question or an answer.
CONTROL_RE = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: Any, field: str, errors: dict[str, str], *, max_length: int, required: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        errors[field] = "Must be text."
        return ""
    return validation.text(CONTROL_RE.sub("", value or ""), field, errors, max_length=max_length, required=required)


def _id(value: Any, field: str, errors: dict[str, str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        errors[field] = "Must be the id of an existing record (a whole number)."
        return None
    return value


async def clean_question(values: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The question's fields, checked (raises InvalidInput naming every bad field), with the member linked
    from the asker's handle when no member was given."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "text": _text(values.get("text"), "text", errors, max_length=MAX_TEXT, required=True),
        "platform": validation.choice(values.get("platform") or "other", "platform", errors, PLATFORMS),
        "asker": _text(values.get("asker"), "asker", errors, max_length=MAX_ASKER),
    }
    url = values.get("url")
    if url is not None and not isinstance(url, str):
        errors["url"] = "Must be text."
        url = None
    out["url"] = validation.url(url, "url", errors)
    asked_at = values.get("asked_at")
    if asked_at is not None and not isinstance(asked_at, datetime):
        errors["asked_at"] = "Give a date and time."
        asked_at = None
    asked_at = validation.aware(asked_at, "asked_at", errors)
    if asked_at is not None and asked_at > now + CLOCK_SKEW:
        errors["asked_at"] = "Cannot be in the future."
    out["asked_at"] = asked_at or now
    member_id = _id(values.get("member_id"), "member_id", errors)
    if member_id is not None and not await member_queries.is_live(member_id):
        errors["member_id"] = f"No member with id {member_id}."
    incident_id = _id(values.get("incident_id"), "incident_id", errors)
    if incident_id is not None and not await Incident.exists().where(Incident.id == incident_id).run():
        errors["incident_id"] = f"No incident with id {incident_id}."
    if errors:
        raise InvalidInput(errors)
    if member_id is None and out["asker"]:
        member_id = await member_by_handle(out["platform"], out["asker"])
    out["member_id"], out["incident_id"] = member_id, incident_id
    return out


async def member_by_handle(platform: str, asker: str) -> int | None:
    """The live member whose handle on ``platform`` is ``asker`` (case-insensitive, without the @)."""
    handle = asker.strip().lstrip("@")
    if not handle or " " in handle:
        return None
    found = await member_queries.member_id_by_handle_key(handle_key(platform, handle))
    return found if found is not None and await member_queries.is_live(found) else None


async def suggest(text: str, *, incident_id: int | None) -> list[dict]:
    """Published entries with every meaningful word of ``text``, best first (none: a gap)."""
    return await search.search(text, incident_id=incident_id, limit=SUGGESTIONS, any_word_fallback=False)


async def related(text: str, *, incident_id: int | None, exclude: list[int] = ()) -> list[dict]:
    """Published entries sharing only some of the words (FAQ search's fallback), best first: worth a look,
    not an answer the FAQ already has."""
    rows = await search.search(text, incident_id=incident_id, limit=SUGGESTIONS + len(exclude))
    return [r for r in rows if r["id"] not in exclude][:SUGGESTIONS]


async def log_question(*, values: dict[str, Any], actor: Actor, now: datetime) -> tuple[dict, list[dict]]:
    """Log a late question. Returns it and the published FAQ entries that matched all its meaningful words,
    best first; their ids are stored with the question (none found: a gap in the FAQ, see the module
    docstring)."""
    cleaned = await clean_question(values, now=now)
    suggestions = await suggest(cleaned["text"], incident_id=cleaned["incident_id"])
    suggested = [s["id"] for s in suggestions]
    async with db.transaction():
        row = LateQuestion(
            text=cleaned["text"],
            platform=cleaned["platform"],
            asker=cleaned["asker"],
            member=cleaned["member_id"],
            asked_at=cleaned["asked_at"],
            url=cleaned["url"],
            incident=cleaned["incident_id"],
            suggested=json.dumps(suggested),
            logged_by=actor.user_id,
            logged_at=now,
        )
        await row.save().run()
        await log_change(
            actor=actor,
            action="late_question.create",
            entity="late_question",
            record_id=row.id,
            after={**cleaned, "suggested": suggested},
            at=now,
        )
    return await get(row.id), suggestions


async def get(question_id: int) -> dict:
    row = await queries.get_or_none(question_id)
    if row is None:
        raise NotFound(f"No late question with id {question_id}.")
    return row


def compose_answer(entry: dict, sentence: str) -> str:
    """The answer to send from a FAQ entry: its answer, then "our record since" when there is one."""
    answer = entry["answer"].rstrip()
    return f"{answer}\n\n{sentence}" if sentence else answer


async def entry_record_sentence(entry: dict, *, now: datetime, zone: ZoneInfo) -> str:
    """The record-since sentence of the entry's incident ("" while it is not resolved)."""
    incident = await incident_queries.snapshot(entry["incident"])
    if incident is None:
        return ""
    return (await record_since(incident, now=now, zone=zone)).sentence


async def published_entry(faq_id: Any) -> dict:
    """The FAQ entry an answer may use: it must exist and be published (drafts are not approved yet, retired
    answers are no longer right)."""
    errors: dict[str, str] = {}
    entry_id = _id(faq_id, "faq_id", errors)
    if errors:
        raise InvalidInput(errors)
    entry = await faq_queries.get_or_none(entry_id)
    if entry is None:
        raise InvalidInput({"faq_id": f"No FAQ entry with id {entry_id}."})
    if entry["status"] == "draft":
        raise InvalidInput({"faq_id": "This FAQ entry is a draft: only published answers can be sent."})
    if entry["status"] != "published":
        raise InvalidInput({"faq_id": "This FAQ entry was retired: its answer may no longer be right."})
    return entry


async def answer_question(
    *, question_id: int, values: dict[str, Any], actor: Actor, now: datetime, zone: ZoneInfo
) -> dict:
    """Record the answer sent: a published FAQ entry (``faq_id``) and/or free text (``answer_text``). With an
    entry and no text, the text is the entry's answer plus its incident's record-since sentence."""
    await get(question_id)  # 404 before judging the body
    errors: dict[str, str] = {}
    answer_text = _text(values.get("answer_text"), "answer_text", errors, max_length=MAX_ANSWER)
    faq_id = values.get("faq_id")
    if not errors and faq_id is None and not answer_text:
        errors["answer_text"] = "Write the answer you sent, or choose a published FAQ entry."
    if errors:
        raise InvalidInput(errors)
    entry = await published_entry(faq_id) if faq_id is not None else None
    if entry is not None and not answer_text:
        answer_text = compose_answer(entry, await entry_record_sentence(entry, now=now, zone=zone))
    async with db.transaction():
        before = await _locked(question_id)
        update = {
            LateQuestion.faq: entry["id"] if entry else None,
            LateQuestion.answer_text: answer_text,
            LateQuestion.answered_by: actor.user_id,
            LateQuestion.answered_at: now,
        }
        await LateQuestion.update(update).where(LateQuestion.id == question_id).run()
        await log_change(
            actor=actor,
            action="late_question.answer",
            entity="late_question",
            record_id=question_id,
            before={k: before[k] for k in ("faq", "answer_text", "answered_by", "answered_at")},
            after={
                "faq": entry["id"] if entry else None,
                "answer_text": answer_text,
                "answered_by": actor.user_id,
                "answered_at": now,
            },
            at=now,
        )
    return await get(question_id)


async def delete_question(*, question_id: int, actor: Actor, now: datetime) -> None:
    """Soft delete (logged by mistake, or a duplicate): it leaves lists and reports; the row stays."""
    async with db.transaction():
        await _locked(question_id)
        await LateQuestion.update({LateQuestion.deleted_at: now}).where(LateQuestion.id == question_id).run()
        await log_change(
            actor=actor, action="late_question.delete", entity="late_question", record_id=question_id, at=now
        )


async def _locked(question_id: int) -> dict:
    """The live question, its row locked until the transaction ends on PostgreSQL (SQLite's BEGIN IMMEDIATE
    already serialises writers), so two agents answering at once are recorded one after the other."""
    query = LateQuestion.select().where((LateQuestion.id == question_id) & LateQuestion.deleted_at.is_null())
    if not db.is_sqlite():
        query = query.lock_rows()
    row = await query.first().run()
    if row is None:
        raise NotFound(f"No late question with id {question_id}.")
    return row


async def log_and_answer(
    *, values: dict[str, Any], actor: Actor, now: datetime, zone: ZoneInfo
) -> tuple[dict, list[dict]]:
    """log_question, then, when ``values["faq_id"]`` names the entry picked while typing, answer_question with it:
    in one transaction, so a refused answer logs nothing either. Returns what log_question returns."""
    async with db.transaction():
        question, suggestions = await log_question(values=values, actor=actor, now=now)
        if values.get("faq_id") is not None:
            await answer_question(
                question_id=question["id"], values={"faq_id": values["faq_id"]}, actor=actor, now=now, zone=zone
            )
    return question, suggestions
