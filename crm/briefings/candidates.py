"""Whom to brief, in SQL: the candidates, their exclusion and the inputs of their score, ranked with a top-K limit.

One statement per question, whatever the community's size: the candidates (the 300 live members with the best
engagement score, everyone in the incident's conversation, every live advocate and champion) with the inputs of
the documented score (crm/briefings/suggestions.py) read from the rollups only: the member row, the incident's
conversation rollup, handles, topics, 90 days of the daily rollup, briefings and feedback.

The score the pages show is computed in Python from these exact integer inputs (suggestions.score_of), rounded per
factor as documented; SQL orders by the same formula unrounded (``raw``). The two differ by less than
``ROUNDING`` (eight roundings to 3 decimals), so the top k by the shown score are among the rows whose raw score
is within ``2 * ROUNDING`` of the k-th raw score: those are fetched, and Python orders them exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm import db
from crm.briefings.tables import Briefing
from crm.members import engagement
from crm.members.queries import live_sql

CANDIDATES_BY_SCORE = 300
ROUNDING = 0.0045  # 7 factors and the sum, each rounded to 3 decimals: at most 8 * 0.0005 apart
BAND = 2 * ROUNDING + 1e-6
EXTRA_ROWS = 500  # at most this many rows beyond k tied within the band (a bound, so a request stays bounded)
SUPPORTIVE_CAP = 5  # the conversation factor is 1 at five or more


@dataclass(frozen=True)
class Question:
    """What the statement needs to know about the incident and the moment."""

    incident_id: int
    topics: list[str]
    platforms: list[str]
    talking_points_id: int | None
    fatigue_limit: int
    now: datetime


class _Sql:
    """A statement's parameters, in the order their ``{}`` appear: lists and dates only. Numbers we computed are
    written into the statement (``_num``), so an expression may repeat them."""

    def __init__(self) -> None:
        self.args: list[object] = []

    def p(self, value: object) -> str:
        self.args.append(value)
        return "{}"

    def among(self, column: str, values: list) -> str:
        if db.is_sqlite():  # Piccolo's SQLite adapter passes a list as JSON
            return f"{column} IN (SELECT value FROM json_each({self.p(list(values))}))"
        kind = "integer" if values and isinstance(values[0], int) else "text"
        return f"{column} = ANY({self.p(list(values))}::{kind}[])"


def _num(value: float) -> str:
    return repr(float(value))


def _real(expression: str) -> str:
    return f"CAST({expression} AS DOUBLE PRECISION)"


def _raw_score(q: Question) -> str:
    """The documented score, unrounded, over the columns of ``base`` (see suggestions.score_of)."""
    conversation = " ".join(
        f"WHEN {n} THEN {math.log2(1 + n) / math.log2(1 + SUPPORTIVE_CAP)!r}" for n in range(SUPPORTIVE_CAP)
    )
    half_lives = engagement._half_lives(q.now)
    exponent = f"(score_log2 - {_num(half_lives)})"
    # PostgreSQL refuses an underflowing power(); 2 ** -1000 is 0 to the precision shown anyway
    score_now = f"(CASE WHEN {exponent} < -1000 THEN 0.0 ELSE power({_real(2)}, {exponent}) END)"
    reach = f"(log({_real('1 + on_affected')} + {_real('elsewhere')} / 4.0) / 6.0)"
    topics = len(set(q.topics))
    return (
        f"4.0 * (CASE WHEN supportive >= {SUPPORTIVE_CAP} THEN 1.0 ELSE (CASE supportive {conversation} END) END)"
        f" + 2.0 * ({score_now} / ({score_now} + 5.0))"
        " + 1.0 * (CASE WHEN usual_gap_seconds IS NULL THEN 0.0 ELSE 1.0 / (1.0 + usual_gap_seconds / 604800.0) END)"
        + (f" + 2.0 * {_real('shared')} / {topics}.0" if topics else "")
        + f" + 1.5 * (CASE WHEN {reach} > 1.0 THEN 1.0 ELSE {reach} END)"
        f" + 1.5 * (CASE WHEN rated > 0 THEN {_real('positive - negative')} / rated ELSE 0.0 END)"
        " + (CASE tier WHEN 'champion' THEN 1.0 WHEN 'advocate' THEN 0.5 ELSE 0.0 END)"
    )


def _with(q: Question, s: _Sql, member_ids: list[int] | None) -> str:
    """``WITH ... scored``: every candidate (or ``member_ids``, flagged ``candidate``) with its exclusion reason
    (NULL when suggested), the score's inputs and ``raw``."""
    incident = int(q.incident_id)
    top = (
        f"SELECT id FROM (SELECT m.id FROM member m WHERE {live_sql('m')} AND m.interactions_total > 0 "
        f"ORDER BY m.score_log2 DESC, m.id DESC LIMIT {CANDIDATES_BY_SCORE}) t "
        f"UNION SELECT c.member FROM incident_conversation c WHERE c.incident = {incident} "
        "AND c.supportive > 0 "
        f"UNION SELECT m.id FROM member m WHERE m.tier IN ('advocate', 'champion') AND {live_sql('m')}"
    )
    if member_ids is None:
        cand = f"cand AS ({top})"
        flag = "1"
    else:
        cand = f"everyone AS MATERIALIZED ({top}), cand AS (SELECT value AS id FROM ({_ids(s, member_ids)}) x)"
        flag = "CASE WHEN m.id IN (SELECT id FROM everyone) THEN 1 ELSE 0 END"
    affected = s.among("h.platform", q.platforms) if q.platforms else "1 = 0"
    affected_again = s.among("h.platform", q.platforms) if q.platforms else "1 = 0"
    shared = s.among("t.topic", sorted(set(q.topics))) if q.topics else "1 = 0"
    month_ago = q.now - timedelta(days=30)
    base = (
        f"SELECT m.id, m.name, m.tier, m.score_log2, m.usual_gap_seconds, m.interactions_total, {flag} AS candidate, "
        "m.do_not_contact, m.consent_private_briefing, COALESCE(c.supportive, 0) AS supportive, "
        "COALESCE(c.critical, 0) AS critical, f.verdict, "
        f"COALESCE((SELECT SUM(h.followers) FROM member_handle h WHERE h.member = m.id AND {affected}), 0) "
        "AS on_affected, "
        "COALESCE((SELECT SUM(h.followers) FROM member_handle h WHERE h.member = m.id AND NOT "
        f"({affected_again})), 0) AS elsewhere, "
        f"(SELECT COUNT(*) FROM member_topic t WHERE t.member = m.id AND {shared}) AS shared, "
        "COALESCE(d.positive, 0) AS positive, COALESCE(d.negative, 0) AS negative, "
        "COALESCE(d.positive + d.negative + d.neutral, 0) AS rated, "
        f"(SELECT COUNT(DISTINCT b.incident) FROM briefing b WHERE b.member = m.id AND b.incident <> {incident}"
        f" AND b.briefed_at >= {s.p(month_ago)}) AS fatigue, "
        "EXISTS (SELECT 1 FROM briefing b WHERE b.member = m.id AND b.talking_points = "
        f"{int(q.talking_points_id) if q.talking_points_id is not None else -1}) AS briefed_current "
        "FROM cand JOIN member m ON m.id = cand.id "
        f"LEFT JOIN incident_conversation c ON c.incident = {incident} AND c.member = m.id "
        f"LEFT JOIN suggestion_feedback f ON f.incident = {incident} AND f.member = m.id "
        "LEFT JOIN (SELECT md.member, SUM(md.positive) AS positive, SUM(md.negative) AS negative, "
        "SUM(md.neutral) AS neutral FROM member_day md "
        f"WHERE md.day >= {s.p(engagement.window_start(q.now, 90))} AND md.member IN (SELECT id FROM cand) "
        "GROUP BY md.member) d ON d.member = m.id "
        f"WHERE {live_sql('m')}"
    )
    reason = (
        "CASE WHEN do_not_contact THEN 'do_not_contact' WHEN NOT consent_private_briefing THEN 'no_consent' "
        "WHEN critical > 0 THEN 'critic' WHEN briefed_current THEN 'already_briefed' "
        f"WHEN fatigue >= {int(q.fatigue_limit)} THEN 'fatigue' "
        "WHEN verdict IN ('skipped', 'bad_fit') THEN 'skipped' END"
    )
    return (
        f"WITH {cand}, scored AS MATERIALIZED (SELECT b.*, {reason} AS reason, {_raw_score(q)} AS raw FROM ({base}) b)"
    )


def _ids(s: _Sql, member_ids: list[int]) -> str:
    if db.is_sqlite():
        return f"SELECT value FROM json_each({s.p(list(member_ids))})"
    return f"SELECT unnest({s.p(list(member_ids))}::integer[]) AS value"


async def _fetch(sql: str, args: list[object]) -> list[dict]:
    rows = await Briefing.raw(sql, *args).run()
    for row in rows:  # SQLite returns its booleans as integers
        for column in ("do_not_contact", "consent_private_briefing", "briefed_current"):
            if column in row:
                row[column] = bool(row[column])
    return rows


async def top(q: Question, k: int | None) -> tuple[list[dict], int]:
    """The suggested candidates that may be in the top ``k`` by the shown score (all of them when ``k`` is None),
    best raw score first, and how many are suggested in all."""
    s = _Sql()
    head = _with(q, s, None) + ", ok AS MATERIALIZED (SELECT * FROM scored WHERE reason IS NULL) "
    if k is None:
        rows = await _fetch(head + "SELECT * FROM ok ORDER BY raw DESC, id", s.args)
        return rows, len(rows)
    sql = (
        head + "SELECT ok.*, (SELECT COUNT(*) FROM ok) AS total FROM ok WHERE ok.raw >= COALESCE("
        f"(SELECT raw FROM ok ORDER BY raw DESC, id LIMIT 1 OFFSET {int(k) - 1}), -1e300) - {_num(BAND)} "
        f"ORDER BY ok.raw DESC, ok.id LIMIT {int(k) + EXTRA_ROWS}"
    )
    rows = await _fetch(sql, s.args)
    return rows, (rows[0]["total"] if rows else 0)


async def excluded(q: Question) -> list[dict]:
    """Every candidate left out, with its reason, by member id."""
    s = _Sql()
    return await _fetch(_with(q, s, None) + " SELECT * FROM scored WHERE reason IS NOT NULL ORDER BY id", s.args)


async def members(q: Question, member_ids: list[int]) -> list[dict]:
    """``member_ids`` that are live, each with its reason, score inputs and whether it is a candidate."""
    s = _Sql()
    return await _fetch(_with(q, s, member_ids) + " SELECT * FROM scored ORDER BY id", s.args)


async def around(q: Question, raws: list[float]) -> tuple[list[int], list[dict]]:
    """For each raw score in ``raws``: how many suggested candidates score more than it by over the band; and every
    suggested candidate within the band of one of them (Python decides their exact order)."""
    if not raws:
        return [], []
    s = _Sql()
    head = _with(q, s, None) + ", ok AS MATERIALIZED (SELECT * FROM scored WHERE reason IS NULL) "
    counts = ", ".join(
        f"(SELECT COUNT(*) FROM ok WHERE raw > {_num(r + BAND)}) AS above_{n}" for n, r in enumerate(raws)
    )
    near = " OR ".join(f"(raw >= {_num(r - BAND)} AND raw <= {_num(r + BAND)})" for r in raws)
    # each raw score is a suggested candidate's own, so its row is among these and carries the counts
    rows = await _fetch(head + f"SELECT ok.*, {counts} FROM ok WHERE {near}", s.args)
    return [rows[0][f"above_{n}"] if rows else 0 for n in range(len(raws))], rows
