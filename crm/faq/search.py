"""Full-text search over FAQ entries, on both engines. All of the FAQ's raw SQL lives here.

SQLite: the FTS5 table ``faq_fts(question, answer, tags)`` (porter stemming, unicode61), one row per entry
that is not retired, rowid = faq_entry.id; ranked by bm25 with the question weighted over the answer over
the tags. PostgreSQL: the ``faq_entry.search`` tsvector ('english' stemming; question A, answer B, tags C),
GIN-indexed, NULL for retired entries; ranked by ts_rank_cd. Both are created by the migration and kept in
step by ``reindex()``, which the service calls inside every write's transaction.

User text never reaches either engine's query syntax: the query is split into words (letters and digits
only), each word is quoted (FTS5) or is a bare lexeme (tsquery), and the last word is a prefix while typing.
Snippets are highlighted by the engine with control-character sentinels, then HTML-escaped, then the
sentinels become <mark>…</mark>: the only markup in a snippet is ours.
"""

from __future__ import annotations

import html
import re
from typing import Any

from crm import db
from crm.faq.tables import FaqEntry

MAX_WORDS = 12
# Sentinels for the highlighted words; the service strips control characters from every stored text.
START, STOP = "\x02", "\x03"
SNIPPET_WORDS = 24

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


def words(q: str) -> list[str]:
    """The query's words, lower-cased, letters and digits only (no operators, quotes or punctuation)."""
    return WORD_RE.findall((q or "").lower())[:MAX_WORDS]


def tags_text(tags: list[str]) -> str:
    return " ".join(tags)


def mark(highlighted: str | None) -> str:
    """Escape the engine's highlighted text, then turn our sentinels into <mark> tags."""
    escaped = html.escape(highlighted or "", quote=True)
    return escaped.replace(START, "<mark>").replace(STOP, "</mark>")


# ---- keeping the index in step (inside the caller's transaction) --------------------------------------


async def reindex(entry: dict) -> None:
    """Make the index agree with ``entry`` (a faq_entry row): indexed unless retired."""
    assert db.in_transaction(), "the index is written in the same transaction as the entry"
    indexed = entry["status"] != "retired"
    if db.is_sqlite():
        # FTS5 has no upsert: delete the entry's row (if any), then insert the current text.
        await FaqEntry.raw("DELETE FROM faq_fts WHERE rowid = {}", entry["id"]).run()
        if indexed:
            await FaqEntry.raw(
                "INSERT INTO faq_fts (rowid, question, answer, tags) VALUES ({}, {}, {}, {})",
                entry["id"], entry["question"], entry["answer"], tags_text(entry["tags"]),
            ).run()
    elif indexed:
        # The weighted document: question (A) > answer (B) > tags (C), matching setweight's ranking.
        await FaqEntry.raw(
            "UPDATE faq_entry SET search = "
            "setweight(to_tsvector('english', question), 'A') || "
            "setweight(to_tsvector('english', answer), 'B') || "
            "setweight(to_tsvector('english', CAST({} AS text)), 'C') "
            "WHERE id = {}",
            tags_text(entry["tags"]), entry["id"],
        ).run()
    else:
        await FaqEntry.raw("UPDATE faq_entry SET search = NULL WHERE id = {}", entry["id"]).run()


# ---- searching --------------------------------------------------------------------------------------


def fts5_query(terms: list[str], *, any_word: bool = False) -> str:
    """An FTS5 MATCH expression: every word quoted (a string, never syntax), the last one a prefix."""
    parts = [f'"{t}"' for t in terms]
    parts[-1] += "*"
    return (" OR " if any_word else " ").join(parts)


def tsquery(terms: list[str], *, any_word: bool = False) -> str:
    """A to_tsquery('english', ...) expression from plain words (letters and digits only), the last a prefix."""
    parts = list(terms)
    parts[-1] += ":*"
    return (" | " if any_word else " & ").join(parts)


async def _sqlite(terms, *, statuses, incident_id, limit, any_word) -> list[dict]:
    # bm25() is lower-is-better; rank is its negation so that higher is better on both engines.
    sql = (
        "SELECT e.id, e.incident AS incident_id, e.question, e.answer, "
        "-bm25(faq_fts, 2.0, 1.0, 0.5) AS rank, "
        "snippet(faq_fts, 1, {}, {}, '…', {}) AS snippet "
        "FROM faq_fts JOIN faq_entry e ON e.id = faq_fts.rowid "
        "WHERE faq_fts MATCH {} AND e.status IN (" + ", ".join("{}" for _ in statuses) + ")"
    )
    args: list[Any] = [START, STOP, SNIPPET_WORDS, fts5_query(terms, any_word=any_word), *statuses]
    if incident_id is not None:
        sql += " AND e.incident = {}"
        args.append(incident_id)
    sql += " ORDER BY rank DESC, e.id LIMIT {}"
    args.append(limit)
    return await FaqEntry.raw(sql, *args).run()


async def _postgres(terms, *, statuses, incident_id, limit, any_word) -> list[dict]:
    # The inner query ranks and limits using the GIN index; ts_headline (slow) runs on the few rows left.
    inner = (
        "SELECT e.id, e.incident AS incident_id, e.question, e.answer, "
        "ts_rank_cd(e.search, q.query) AS rank, q.query "
        "FROM faq_entry e, to_tsquery('english', {}) AS q(query) "
        "WHERE e.search @@ q.query AND e.status = ANY({})"
    )
    args: list[Any] = [tsquery(terms, any_word=any_word), list(statuses)]
    if incident_id is not None:
        inner += " AND e.incident = {}"
        args.append(incident_id)
    inner += " ORDER BY rank DESC, e.id LIMIT {}"
    args.append(limit)
    sql = (
        "SELECT id, incident_id, question, answer, rank, "
        "ts_headline('english', answer, query, {}) AS snippet "
        f"FROM ({inner}) AS best ORDER BY rank DESC, id"
    )
    options = f'StartSel="{START}", StopSel="{STOP}", MaxWords={SNIPPET_WORDS}, MinWords=8, ShortWord=2'
    return await FaqEntry.raw(sql, options, *args).run()


async def search(q: str, *, incident_id: int | None = None, include_drafts: bool = False,
                 limit: int = 20) -> list[dict]:
    """Entries matching ``q``, best first: {id, incident_id, question, answer, snippet, rank}.

    Every word must match (stemmed; the last word as a prefix); when no entry has them all, entries with
    any of them are returned instead, still ranked. Published entries only unless ``include_drafts``."""
    terms = words(q)
    if not terms:
        return []
    statuses = ["published", "draft"] if include_drafts else ["published"]
    run = _sqlite if db.is_sqlite() else _postgres
    rows = await run(terms, statuses=statuses, incident_id=incident_id, limit=limit, any_word=False)
    if not rows and len(terms) > 1:
        rows = await run(terms, statuses=statuses, incident_id=incident_id, limit=limit, any_word=True)
    return [{"id": r["id"], "incident_id": r["incident_id"], "question": r["question"], "answer": r["answer"],
             "snippet": mark(r["snippet"]), "rank": float(r["rank"])} for r in rows]
