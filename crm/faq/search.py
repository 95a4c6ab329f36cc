"""Full-text search over FAQ entries, on both engines. All of the FAQ's raw SQL lives here.

SQLite: the FTS5 table ``faq_fts(question, answer, tags)`` (porter stemming, unicode61), one row per entry
that is not retired, rowid = faq_entry.id; ranked by bm25 with the question weighted over the answer over
the tags. PostgreSQL: the ``faq_entry.search`` tsvector ('english' stemming; question A, answer B, tags C),
GIN-indexed, NULL for retired entries; ranked by ts_rank_cd. Both are created by the migration and kept in
step by ``reindex()``, which the service calls inside every write's transaction.

Prefixes mid-word: the indexes hold stems, and a word cut short is often not a prefix of its stem ("negati" vs
the stem "neg" on FTS5 porter, "negat" on PostgreSQL english). So the last word is also expanded into the whole
words, as written, that start with it (at most PREFIX_WORDS, from a second, unstemmed index: the FTS5 table
``faq_words`` read through ``faq_words_vocab`` on SQLite, the 'simple' tsvector ``faq_entry.words`` on
PostgreSQL, whose words a trigger counts into the table ``faq_word``; both hold nothing for retired entries) and
those words are ORed, as whole words the engine stems, with the prefix term itself. Either way the lookup is a
range scan of an ordered word list, not a read of every entry (ts_stat took ~780 ms at 100k entries).

User text never reaches either engine's query syntax: the query is split into words (letters and digits
only), each word is quoted (FTS5) or is a bare lexeme (tsquery), and the last word is a prefix while typing.
Snippets are highlighted by the engine with control-character sentinels, then HTML-escaped, then the
sentinels become <mark>…</mark>: the only markup in a snippet is ours.

Filters (incident, tag, review due) apply to searches and to browsing (no words, newest first). Tags are
stored as a JSON list; the tag filter is an exact membership test on that list (json_each on SQLite, jsonb
containment on PostgreSQL), never a text match, so "refund" does not match an entry tagged "refunds".
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from crm import db
from crm.faq.tables import FaqEntry

MAX_WORDS = 12
# Sentinels for the highlighted words; the service strips control characters from every stored text.
START, STOP = "\x02", "\x03"
SNIPPET_WORDS = 24
PREFIX_WORDS = 20  # whole words a typed prefix expands into (alphabetical: the prefix term covers the rest)

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


# Common English words that say nothing about what was asked. PostgreSQL's 'english' configuration drops
# these itself; FTS5 indexes every word, so without this a question like "did you ... the ..." would match
# (in the any-word fallback) nearly every entry and a real gap in the FAQ would never show. "s" and "t" are what
# is left of "flight's" and "don't" (PostgreSQL drops them too).
STOP_WORDS = frozenset(
    """
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing don down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now
of off on once only or other our ours ourselves out over own s same she should so some such t than that the their
theirs them themselves then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours yourself yourselves
""".split()
)


def words(q: str) -> list[str]:
    """The query's words, lower-cased, letters and digits only (no operators, quotes or punctuation), without
    stop words unless there is nothing else (or the last one, which may be a prefix still being typed)."""
    found = WORD_RE.findall((q or "").lower())
    meaningful = [w for i, w in enumerate(found) if w not in STOP_WORDS or i == len(found) - 1 and len(found) > 1]
    if meaningful and all(w in STOP_WORDS for w in meaningful):
        meaningful = []
    return (meaningful or found)[:MAX_WORDS]


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
    words_text = f"{entry['question']} {entry['answer']} {tags_text(entry['tags'])}"
    if db.is_sqlite():
        # FTS5 has no upsert: delete the entry's rows (if any), then insert the current text.
        await FaqEntry.raw("DELETE FROM faq_fts WHERE rowid = {}", entry["id"]).run()
        await FaqEntry.raw("DELETE FROM faq_words WHERE rowid = {}", entry["id"]).run()
        if indexed:
            await FaqEntry.raw(
                "INSERT INTO faq_fts (rowid, question, answer, tags) VALUES ({}, {}, {}, {})",
                entry["id"],
                entry["question"],
                entry["answer"],
                tags_text(entry["tags"]),
            ).run()
            await FaqEntry.raw("INSERT INTO faq_words (rowid, text) VALUES ({}, {})", entry["id"], words_text).run()
    elif indexed:
        # The weighted document: question (A) > answer (B) > tags (C), matching setweight's ranking; and the
        # unstemmed words for prefix expansion.
        await FaqEntry.raw(
            "UPDATE faq_entry SET search = "
            "setweight(to_tsvector('english', question), 'A') || "
            "setweight(to_tsvector('english', answer), 'B') || "
            "setweight(to_tsvector('english', CAST({} AS text)), 'C'), "
            "words = to_tsvector('simple', CAST({} AS text)) "
            "WHERE id = {}",
            tags_text(entry["tags"]),
            words_text,
            entry["id"],
        ).run()
    else:
        await FaqEntry.raw("UPDATE faq_entry SET search = NULL, words = NULL WHERE id = {}", entry["id"]).run()


# ---- searching --------------------------------------------------------------------------------------


def fts5_query(terms: list[str], *, any_word: bool = False, expansions: list[str] = ()) -> str:
    """An FTS5 MATCH expression: every word quoted (a string, never syntax), the last one a prefix, ORed with
    the whole words it expands into."""
    parts = [f'"{t}"' for t in terms]
    parts[-1] = "(" + " OR ".join([parts[-1] + "*", *(f'"{w}"' for w in expansions)]) + ")"
    return (" OR " if any_word else " AND ").join(parts)


def tsquery(terms: list[str], *, any_word: bool = False, expansions: list[str] = ()) -> str:
    """A to_tsquery('english', ...) expression from plain words (letters and digits only), the last a prefix
    ORed with the whole words it expands into."""
    parts = list(terms)
    parts[-1] = "(" + " | ".join([parts[-1] + ":*", *expansions]) + ")"
    return (" | " if any_word else " & ").join(parts)


def _successor(prefix: str) -> str:
    """The smallest string above every string that starts with ``prefix``."""
    return prefix[:-1] + chr(min(ord(prefix[-1]) + 1, 0x10FFFF))


async def prefix_words(prefix: str, limit: int = PREFIX_WORDS) -> list[str]:
    """Whole words (lower case, as written, not stemmed) of entries that are not retired, starting with
    ``prefix``, alphabetical. Only plain words (letters and digits) come back, so each is safe in a query."""
    if not prefix:
        return []
    if db.is_sqlite():
        # The vocabulary is ordered by term: a range scan, not a full read.
        rows = await FaqEntry.raw(
            "SELECT term AS word FROM faq_words_vocab WHERE term >= {} AND term < {} ORDER BY term LIMIT {}",
            prefix,
            _successor(prefix),
            limit * 2,
        ).run()
    else:
        # faq_word (a trigger keeps it from faq_entry.words) in "C" order: a range scan of its primary key.
        rows = await FaqEntry.raw(
            "SELECT word FROM faq_word WHERE word >= {} AND word < {} ORDER BY word LIMIT {}",
            prefix,
            _successor(prefix),
            limit * 2,
        ).run()
    # The 'simple' parser also keeps compounds such as "wi-fi" or "example.com": not words we can quote.
    return [r["word"] for r in rows if WORD_RE.fullmatch(r["word"])][:limit]


def _filters(
    *, statuses: list[str], incident_id: int | None, tag: str | None, due_before: datetime | None
) -> tuple[str, list[Any]]:
    """The WHERE conditions every search and browse shares (on faq_entry aliased ``e``), with their arguments."""
    sql = " AND e.status IN (" + ", ".join("{}" for _ in statuses) + ")"
    args: list[Any] = list(statuses)
    if incident_id is not None:
        sql += " AND e.incident = {}"
        args.append(incident_id)
    if tag:
        # Exact membership in the stored JSON list (the tag is a bound parameter, never SQL or a pattern).
        if db.is_sqlite():
            sql += " AND EXISTS (SELECT 1 FROM json_each(e.tags) AS t WHERE t.value = {})"
        else:
            sql += " AND CAST(e.tags AS jsonb) @> jsonb_build_array(CAST({} AS text))"
        args.append(tag)
    if due_before is not None:
        # Review due: published and last reviewed (publishing counts as a review) at or before the cut-off.
        sql += " AND e.status = 'published' AND COALESCE(e.reviewed_at, e.created_at) <= {}"
        args.append(due_before)
    return sql, args


async def _sqlite(
    terms, *, where: str, where_args: list[Any], limit: int, any_word: bool, expansions: list[str]
) -> list[dict]:
    # bm25() is lower-is-better; rank is its negation so that higher is better on both engines.
    sql = (
        "SELECT e.id, -bm25(faq_fts, 2.0, 1.0, 0.5) AS rank, "
        "snippet(faq_fts, 1, {}, {}, '…', {}) AS snippet "
        "FROM faq_fts JOIN faq_entry e ON e.id = faq_fts.rowid "
        "WHERE faq_fts MATCH {}" + where + " ORDER BY rank DESC, e.id LIMIT {}"
    )
    args = [START, STOP, SNIPPET_WORDS, fts5_query(terms, any_word=any_word, expansions=expansions), *where_args, limit]
    return await FaqEntry.raw(sql, *args).run()


async def _postgres(
    terms, *, where: str, where_args: list[Any], limit: int, any_word: bool, expansions: list[str]
) -> list[dict]:
    # The inner query ranks and limits using the GIN index; ts_headline (slow) runs on the few rows left.
    inner = (
        "SELECT e.id, e.answer, ts_rank_cd(e.search, q.query) AS rank, q.query "
        "FROM faq_entry e, to_tsquery('english', {}) AS q(query) "
        "WHERE e.search @@ q.query" + where + " ORDER BY rank DESC, e.id LIMIT {}"
    )
    sql = (
        "SELECT id, rank, ts_headline('english', answer, query, {}) AS snippet "
        f"FROM ({inner}) AS best ORDER BY rank DESC, id"
    )
    options = f'StartSel="{START}", StopSel="{STOP}", MaxWords={SNIPPET_WORDS}, MinWords=8, ShortWord=2'
    query = tsquery(terms, any_word=any_word, expansions=expansions)
    return await FaqEntry.raw(sql, options, query, *where_args, limit).run()


def excerpt(text: str, words_: int = SNIPPET_WORDS) -> str:
    """The start of an answer as an escaped snippet without highlights (for browsing)."""
    parts = (text or "").split()
    return mark(" ".join(parts[:words_]) + (" …" if len(parts) > words_ else ""))


async def _details(ranked: list[dict]) -> list[dict]:
    """The ranked ids with what pages and the API show about each entry (and its incident), best first.
    An entry changed or removed between the two reads is simply left out."""
    if not ranked:
        return []
    rows = (
        await FaqEntry.select(
            FaqEntry.id,
            FaqEntry.incident,
            FaqEntry.incident.title.as_alias("incident_title"),
            FaqEntry.incident.detected_at.as_alias("incident_detected_at"),
            FaqEntry.question,
            FaqEntry.answer,
            FaqEntry.tags,
            FaqEntry.status,
            FaqEntry.created_at,
            FaqEntry.reviewed_at,
        )
        .where(FaqEntry.id.is_in([r["id"] for r in ranked]))
        .output(load_json=True)
        .run()
    )
    by_id = {r["id"]: r for r in rows}
    out = []
    for r in ranked:
        d = by_id.get(r["id"])
        if d is None:
            continue
        out.append(
            {
                "id": d["id"],
                "incident_id": d["incident"],
                "incident_title": d["incident_title"],
                "incident_detected_at": d["incident_detected_at"],
                "question": d["question"],
                "answer": d["answer"],
                "tags": d["tags"],
                "status": d["status"],
                "created_at": d["created_at"],
                "reviewed_at": d["reviewed_at"],
                "snippet": r["snippet"],
                "rank": r["rank"],
            }
        )
    return out


async def browse(
    *,
    incident_id: int | None = None,
    tag: str | None = None,
    include_drafts: bool = False,
    due_before: datetime | None = None,
    limit: int = 20,
) -> list[dict]:
    """Entries matching the filters, newest first (rank 0, the snippet is the answer's start)."""
    statuses = ["published", "draft"] if include_drafts else ["published"]
    where, args = _filters(statuses=statuses, incident_id=incident_id, tag=tag, due_before=due_before)
    rows = await FaqEntry.raw(
        "SELECT e.id, e.answer FROM faq_entry e WHERE 1 = 1" + where + " ORDER BY e.created_at DESC, e.id DESC "
        "LIMIT {}",
        *args,
        limit,
    ).run()
    return await _details([{"id": r["id"], "rank": 0.0, "snippet": excerpt(r["answer"])} for r in rows])


async def search(
    q: str,
    *,
    incident_id: int | None = None,
    tag: str | None = None,
    include_drafts: bool = False,
    due_before: datetime | None = None,
    limit: int = 20,
    any_word_fallback: bool = True,
) -> list[dict]:
    """Entries matching ``q``, best first: {id, incident_id, incident_title, incident_detected_at, question,
    answer, tags, status, created_at, reviewed_at, snippet, rank} (the fields of schemas.SearchItem).

    Every word must match (stemmed; the last word as a prefix, see the module docstring); a stop word typed
    last need not. When no entry has all the meaningful words, entries with any of them are returned instead,
    still ranked, unless ``any_word_fallback`` is false (then: only entries with them all, perhaps none).
    Published entries only unless ``include_drafts``.
    With no words, a filter (incident, tag or ``due_before``) browses newest first; with neither, nothing."""
    terms = words(q)
    if not terms:
        if incident_id is None and not tag and due_before is None:
            return []
        return await browse(
            incident_id=incident_id, tag=tag, include_drafts=include_drafts, due_before=due_before, limit=limit
        )
    statuses = ["published", "draft"] if include_drafts else ["published"]
    where, where_args = _filters(statuses=statuses, incident_id=incident_id, tag=tag, due_before=due_before)
    engine = _sqlite if db.is_sqlite() else _postgres

    async def run(words_: list[str], *, any_word: bool) -> list[dict]:
        return await engine(
            words_,
            where=where,
            where_args=where_args,
            limit=limit,
            any_word=any_word,
            expansions=await prefix_words(words_[-1]),
        )

    rows = await run(terms, any_word=False)
    content = [t for t in terms if t not in STOP_WORDS]
    if not rows and content and content != terms:
        # A trailing stop word (kept while it may still be a prefix being typed) need not match.
        rows = await run(content, any_word=False)
    if not rows and any_word_fallback and len(content) > 1:
        # Any meaningful word will do; a stop word would match nearly everything.
        rows = await run(content, any_word=True)
    return await _details([{"id": r["id"], "rank": float(r["rank"]), "snippet": mark(r["snippet"])} for r in rows])
