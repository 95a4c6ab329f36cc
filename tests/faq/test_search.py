"""FAQ full-text search on both engines: stemming, prefixes, ranking, drafts and retirements, the exact tag
filter, browsing without words, the review-due filter, the index kept in step through edits (including a
Hypothesis run of random writes checked against a brute-force recomputation), and inert snippets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm import db
from crm.audit.service import Actor
from crm.faq import queries, search, service
from crm.faq.tables import FaqEntry
from crm.incidents import service as incidents
from tests.conftest import START

ACTOR = Actor.system("test")


@pytest.fixture
async def incident(engine) -> int:
    row = await incidents.create_incident(
        values={"title": "Deleted comments", "severity": "high"}, actor=ACTOR, now=START
    )
    return row["id"]


async def add(
    incident_id: int, question: str, answer: str = "We are looking into it.", *, status="published", tags=()
) -> dict:
    return await service.create_entry(
        incident_id=incident_id,
        actor=ACTOR,
        now=START,
        may_publish=True,
        values={"question": question, "answer": answer, "status": status, "tags": list(tags)},
    )


async def ids(q: str, **kwargs) -> list[int]:
    return [r["id"] for r in await search.search(q, **kwargs)]


async def test_it_finds_stemmed_words(incident):
    entry = await add(incident, "Did you delete negative comments?", "No. Some were hidden by a filter.")
    await add(incident, "Is the sale still on?", "Yes, until Friday.")
    assert await ids("deleted comments") == [entry["id"]]
    assert await ids("deleting") == [entry["id"]]
    assert await ids("hidden filters") == [entry["id"]]


async def test_it_matches_the_last_word_as_a_prefix(incident):
    entry = await add(incident, "Can I get a refund?", "Yes: ask within 30 days.")
    assert await ids("refu") == [entry["id"]]
    assert await ids("get a re") == [entry["id"]]
    assert await ids("ref") == [entry["id"]]


async def test_it_matches_a_prefix_cut_mid_word_by_the_words_it_expands_into(incident):
    """The index holds stems ("neg" on FTS5 porter, "negat" on PostgreSQL english) that a word cut short is
    not a prefix of; the whole words starting with it, from the unstemmed words index, are ORed in."""
    entry = await add(incident, "Did you delete negative comments?", "No. Some were hidden by a filter.")
    await add(incident, "Is the sale still on?", "Yes, until Friday.")
    for prefix in ("negati", "negativ", "comm", "delet", "delete negati", "did you delete negativ"):
        assert await ids(prefix) == [entry["id"]], prefix
    assert await search.prefix_words("negati") == ["negative"]
    assert await search.prefix_words("de") == ["delete"]
    assert await ids("negatx") == [] and await ids("zzz") == []
    assert await search.prefix_words("negatx") == []


async def test_the_words_index_follows_edits_and_retirement(incident):
    entry = await add(incident, "Did you delete negative comments?", "No.", tags=["moderation"])
    assert await search.prefix_words("moder") == ["moderation"]
    await service.update_entry(
        entry_id=entry["id"], actor=ACTOR, now=START, values={"question": "Were comments removed?", "tags": []}
    )
    assert await search.prefix_words("negati") == [] and await search.prefix_words("moder") == []
    assert await search.prefix_words("remov") == ["removed"]
    await service.retire(entry_id=entry["id"], actor=ACTOR, now=START)
    assert await search.prefix_words("remov") == [] and await ids("remov", include_drafts=True) == []


async def test_without_the_fallback_only_entries_with_every_meaningful_word_match(incident):
    entry = await add(incident, "Did you delete negative comments?")
    assert await ids("did my comments vanish", any_word_fallback=False) == []
    assert await ids("did you delete comments", any_word_fallback=False) == [entry["id"]]
    assert await ids("comments the", any_word_fallback=False) == [entry["id"]]  # a trailing stop word


async def test_it_ranks_a_question_match_above_an_answer_only_match(incident):
    in_answer = await add(incident, "What happened?", "A refund is available to everyone affected.")
    in_question = await add(incident, "How do I get a refund?", "Ask our support team.")
    in_tags = await add(incident, "Who do I contact?", "Our support team.", tags=["refund"])
    results = await search.search("refund")
    assert [r["id"] for r in results] == [in_question["id"], in_answer["id"], in_tags["id"]]
    assert results[0]["rank"] > results[1]["rank"] > results[2]["rank"]


async def test_it_falls_back_to_any_word_when_no_entry_has_them_all(incident):
    entry = await add(incident, "Did you delete negative comments?")
    assert await ids("did my comments vanish") == [entry["id"]]


async def test_stop_words_neither_match_nor_hide_a_gap(incident):
    """A late question shares words like "did", "you" and "the" with every entry; on its own that is no match,
    so a question the FAQ does not answer finds nothing (a gap), on both engines."""
    comments = await add(incident, "Did you delete negative comments?", "No. Some were hidden by the filter.")
    await add(incident, "Is the sale still on for you?", "Yes, until the end of the week.")
    assert await ids("did you delete the comments") == [comments["id"]]
    assert await ids("Why did you cancel the lounge access for the weekend?") == []
    assert await ids("comments the") == [comments["id"]]  # a trailing stop word still being typed


async def test_it_ignores_query_syntax_in_user_text(incident):
    entry = await add(incident, "Can I get a refund?")
    for q in [
        'refund"',
        "refund OR",
        "NEAR(refund",
        "refund*)",
        "'refund' & !",
        "-refund",
        "refund:*|",
        "\"'",
        "(",
        "*",
        "AND",
        "NOT refund",
    ]:
        results = await search.search(q)  # never an FTS5/tsquery syntax error
        assert all(r["id"] == entry["id"] for r in results), q
    assert await ids("") == [] and await ids("   ?!") == []


async def test_it_returns_drafts_only_when_asked(incident):
    draft = await add(incident, "Will there be compensation?", status="draft")
    assert await ids("compensation") == []
    assert await ids("compensation", include_drafts=True) == [draft["id"]]


async def test_it_filters_by_incident(incident):
    other = (await incidents.create_incident(values={"title": "Outage", "severity": "low"}, actor=ACTOR, now=START))[
        "id"
    ]
    a = await add(incident, "Is my data safe?")
    b = await add(other, "Is my data safe now?")
    assert sorted(await ids("data")) == sorted([a["id"], b["id"]])
    assert await ids("data", incident_id=other) == [b["id"]]


async def test_it_removes_retired_entries_and_brings_them_back_when_republished(incident):
    entry = await add(incident, "Can I get a refund?")
    await service.retire(entry_id=entry["id"], actor=ACTOR, now=START)
    assert await ids("refund") == [] and await ids("refund", include_drafts=True) == []
    await service.update_entry(entry_id=entry["id"], values={"status": "published"}, actor=ACTOR, now=START)
    assert await ids("refund") == [entry["id"]]


async def test_it_reindexes_edits(incident):
    entry = await add(incident, "Can I get a refund?", "Ask support.", tags=["money"])
    await service.update_entry(
        entry_id=entry["id"],
        actor=ACTOR,
        now=START + timedelta(hours=1),
        values={"question": "Can I get a voucher?", "tags": ["travel"]},
    )
    assert await ids("refund") == [] and await ids("money") == []
    assert await ids("voucher") == [entry["id"]] and await ids("travel") == [entry["id"]]
    assert await ids("support") == [entry["id"]]


async def test_it_rolls_the_index_back_with_a_failed_write(incident):
    entry = await add(incident, "Can I get a refund?")
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await FaqEntry.update({FaqEntry.question: "Can I get a voucher?"}).where(FaqEntry.id == entry["id"]).run()
            await search.reindex({**await queries.get(entry["id"])})
            raise RuntimeError("boom")
    assert await ids("refund") == [entry["id"]] and await ids("voucher") == []


async def test_it_escapes_snippets_keeping_only_its_own_marks(incident):
    await add(incident, "Was it a hack?", 'No <script>alert("x")</script> hack, just a <b>refund</b> & bug.')
    [result] = await search.search("refund")
    snippet = result["snippet"]
    assert "<mark>refund</mark>" in snippet
    assert "<script>" not in snippet and "<b>" not in snippet
    if db.is_sqlite():
        assert "&lt;script&gt;" in snippet  # escaped; PostgreSQL's ts_headline drops markup tags altogether
    assert set(re.findall(r"</?([a-z]+)", snippet)) == {"mark"}
    assert "&amp;" in snippet


async def test_it_highlights_stemmed_matches(incident):
    await add(incident, "Were comments removed?", "We deleted spam comments only.")
    [result] = await search.search("deleting comment")
    assert "<mark>deleted</mark>" in result["snippet"] and "<mark>comments</mark>" in result["snippet"]


async def test_it_filters_on_the_exact_tag_not_on_the_text(incident):
    refunds = await add(incident, "Can I get my money back?", tags=["refunds", "money"])
    await add(incident, "Is there a refund for the delay?", "A refund, yes.", tags=["delays"])
    await add(incident, "Refund policy", tags=["refunds policy"])  # a tag containing the word is another tag
    await add(incident, "Draft refund", status="draft", tags=["refunds"])
    assert await ids("refund", tag="refunds") == [refunds["id"]]
    assert await ids("", tag="refunds") == [refunds["id"]]
    assert len(await ids("", tag="refunds", include_drafts=True)) == 2
    assert await ids("refund", tag="refund") == [] and await ids("", tag="refun") == []
    assert await ids("refund", tag="money") == [refunds["id"]]


@pytest.mark.parametrize("tag", ['quote"d', "per%cent", "under_score", "back\\slash", "[x]", "it's", "ünïcödé"])
async def test_it_matches_tags_with_special_characters_literally(incident, tag):
    entry = await add(incident, "Is this odd?", tags=[tag])
    await add(incident, "Is this also odd?", tags=["plain"])
    assert await ids("", tag=tag) == [entry["id"]]
    assert await ids("odd", tag=tag) == [entry["id"]]
    assert await ids("", tag=tag[:-1]) == []  # never a prefix or pattern match


async def test_it_browses_newest_first_when_there_are_no_words_but_a_filter(incident):
    other = (await incidents.create_incident(values={"title": "Outage", "severity": "low"}, actor=ACTOR, now=START))[
        "id"
    ]
    first = await add(incident, "First question?")
    second = await service.create_entry(
        incident_id=incident,
        actor=ACTOR,
        now=START + timedelta(hours=1),
        may_publish=True,
        values={"question": "Second question?", "answer": "<b>bold</b> " + "word " * 40, "status": "published"},
    )
    await add(other, "Elsewhere?")
    retired = await add(incident, "Old question?")
    await service.retire(entry_id=retired["id"], actor=ACTOR, now=START)
    rows = await search.search("", incident_id=incident)
    assert [r["id"] for r in rows] == [second["id"], first["id"]]
    assert rows[0]["rank"] == 0 and rows[0]["snippet"].startswith("&lt;b&gt;bold&lt;/b&gt;")
    assert rows[0]["snippet"].endswith("…") and "<" not in rows[0]["snippet"]
    assert rows[0]["incident_title"] == "Deleted comments" and rows[0]["status"] == "published"
    assert await ids("") == []  # no words and no filter: nothing (not the whole FAQ)


async def test_it_lists_only_published_entries_due_for_review(incident):
    old = await add(incident, "Old answer?")
    await service.create_entry(
        incident_id=incident,
        actor=ACTOR,
        now=START + timedelta(days=10),
        may_publish=True,
        values={"question": "New answer?", "answer": "x", "status": "published"},
    )
    await add(incident, "Old draft?", status="draft")
    cutoff = START + timedelta(days=5)
    assert await ids("", due_before=cutoff, include_drafts=True) == [old["id"]]
    assert await ids("answer", due_before=cutoff) == [old["id"]]
    assert await ids("", due_before=START) == [old["id"]]  # exactly at the cut-off counts as due
    assert await ids("", due_before=START - timedelta(microseconds=1)) == []
    await service.update_entry(entry_id=old["id"], values={"reviewed": True}, actor=ACTOR, now=cutoff)
    assert await ids("", due_before=cutoff - timedelta(seconds=1)) == []


# ---- the index stays consistent through random writes -----------------------------------------------

# "negative" and "deleted" have stems ("neg"/"negat", "delet") that some of their prefixes are not prefixes of.
WORDS = ["refund", "flight", "luggage", "delay", "crew", "voucher", "meal", "wifi", "negative", "deleted"]
text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
operation = st.one_of(
    st.tuples(st.just("create"), text, text, st.sampled_from(["draft", "published"])),
    st.tuples(st.just("edit"), st.integers(0, 9), st.sampled_from(["question", "answer", "tags", "tags"]), text),
    st.tuples(st.just("status"), st.integers(0, 9), st.sampled_from(["draft", "published", "retired"])),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=12), cut=st.integers(1, 8))
async def test_it_keeps_the_index_in_step_with_random_writes(incident, operations, cut):
    await FaqEntry.delete(force=True).run()
    if db.is_sqlite():
        await FaqEntry.raw("DELETE FROM faq_fts").run()
        await FaqEntry.raw("DELETE FROM faq_words").run()
    expected: dict[int, dict] = {}
    for op in operations:
        if op[0] == "create":
            _, question, answer, status = op
            row = await add(incident, question, answer, status=status)
            expected[row["id"]] = {"question": question, "answer": answer, "tags": [], "status": status}
        elif expected:
            entry_id = sorted(expected)[op[1] % len(expected)]
            values = {op[2]: op[3].split() if op[2] == "tags" else op[3]} if op[0] == "edit" else {"status": op[2]}
            await service.update_entry(entry_id=entry_id, values=values, actor=ACTOR, now=START)
            expected[entry_id].update(values)
    for word in WORDS:
        for drafts in (False, True):
            statuses = {"published", "draft"} if drafts else {"published"}
            naive = {
                i
                for i, e in expected.items()
                if e["status"] in statuses and word in f"{e['question']} {e['answer']} {' '.join(e['tags'])}".split()
            }
            assert set(await ids(word, include_drafts=drafts, limit=50)) == naive, (word, drafts)
            tagged = {i for i, e in expected.items() if e["status"] in statuses and word in e["tags"]}
            assert set(await ids("", tag=word, include_drafts=drafts, limit=50)) == tagged, (word, drafts)
            # A prefix of the word, cut anywhere: the words index lists exactly the whole words of entries that
            # are not retired starting with it, and search finds exactly the entries with such a word.
            prefix = word[:cut]
            live = [e for e in expected.values() if e["status"] != "retired"]
            written = {w for e in live for w in f"{e['question']} {e['answer']} {' '.join(e['tags'])}".split()}
            assert await search.prefix_words(prefix) == sorted(w for w in written if w.startswith(prefix)), prefix
            naive = {
                i
                for i, e in expected.items()
                if e["status"] in statuses
                and any(w.startswith(prefix) for w in f"{e['question']} {e['answer']} {' '.join(e['tags'])}".split())
            }
            assert set(await ids(prefix, include_drafts=drafts, limit=50)) == naive, (prefix, drafts)
