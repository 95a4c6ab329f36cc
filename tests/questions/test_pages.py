"""The late-question pages: the log form (the widget's hooks, errors next to the fields with values kept, a
picked answer), the question page (stored suggestions with rendered answers and the composed text, "Send this
answer", free text, refusals re-rendered with 422), the list, the member page, the incident page's section and
the per-incident report (weeks counted with the clock, unanswered, gaps). Both engines."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from crm.questions.tables import LateQuestion
from tests.conftest import START, post_form
from tests.questions.conftest import PRICES_A, PRICES_Q

SENTENCE = "Since this happened on 31 January 2026 we have had no similar incident in 30 days."


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def section(html: str, element_id: str) -> str:
    """The markup of the element with this id, through its matching closing tag."""
    start = html.rfind("<", 0, html.index(f'id="{element_id}"'))
    name = re.match(r"<(\w+)", html[start:]).group(1)
    depth = 0
    for m in re.finditer(rf"<(/?){name}\b", html[start:]):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return html[start : html.index(">", start + m.end()) + 1]
    raise AssertionError(f"#{element_id} is not closed")


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p id="e-{name}" class="error">([^<]*)</p>', html)
    assert match, f"no error shown next to {name}"
    return unescape(match.group(1))


@pytest.fixture
async def carol(as_user):
    return await as_user("carol")


# ---- the log form ---------------------------------------------------------------------------------------


async def test_the_log_form_has_the_widget_hooks_and_works_without_them(carol, scene):
    r = await carol.get(f"/questions/new?incident_id={scene['iid']}")
    assert r.status_code == 200
    html = r.text
    assert re.search(r'<textarea id="f-text" name="text"[^>]*data-faq-suggest="faq-suggestions"', html)
    assert '<ol id="faq-suggestions" class="faq-suggestions"></ol>' in html
    assert re.search(r'<input type="hidden" name="faq_id" value="" data-faq-pick-target>', html)
    assert '<script src="/static/faq.js" defer></script>' in html
    assert f'<option value="{scene["iid"]}" selected>' in html
    assert 'name="asked_at" type="datetime-local" value=""' in html  # empty: now, when saved


async def test_logging_redirects_to_the_question_with_its_suggestions(carol, scene):
    r = await post_form(
        carol,
        "/questions",
        {
            "text": "Were the wrong prices honoured?",
            "asker": "@fareseeker",
            "platform": "x",
            "incident_id": str(scene["iid"]),
            "asked_at": "",
            "member_id": "",
            "url": "",
        },
    )
    assert r.status_code == 303, r.text
    question = await LateQuestion.select().first().run()
    assert r.headers["location"] == f"/questions/{question['id']}"
    page = await carol.get(r.headers["location"])
    assert "FAQ answer" in plain(page.text) and "matched" in plain(page.text)  # the flash
    suggestions = section(page.text, "suggestions")
    first = section(suggestions, f"suggestion-{scene['prices']}")
    assert PRICES_Q in plain(first) and "Holiday sale email with wrong prices" in plain(first)
    assert "<strong>Every</strong>" in first  # the answer rendered from Markdown
    assert (
        unescape(re.search(r"<textarea[^>]*readonly>([^<]*)</textarea>", first).group(1)) == f"{PRICES_A}\n\n{SENTENCE}"
    )
    assert re.search(rf'name="faq_id" value="{scene["prices"]}">\s*<button type="submit"[^>]*>Send this answer', first)
    assert f"suggestion-{scene['draft']}" not in suggestions
    assert SENTENCE in plain(section(page.text, "question"))


async def test_the_form_shows_errors_next_to_the_fields_and_keeps_the_values(carol, scene):
    r = await post_form(
        carol,
        "/questions",
        {
            "text": "",
            "asker": "@someone",
            "platform": "myspace",
            "member_id": "abc",
            "asked_at": "2026-03-09T10:00",
            "url": "ftp://x",
            "incident_id": str(scene["iid"]),
        },
    )
    assert r.status_code == 422
    assert field_error(r.text, "text") == "This is required."
    assert field_error(r.text, "platform").startswith("Choose one of")
    assert "member's id" in field_error(r.text, "member_id")
    assert field_error(r.text, "asked_at") == "Cannot be in the future."
    assert "http" in field_error(r.text, "url")
    assert 'value="@someone"' in r.text and 'value="abc"' in r.text
    assert f'<option value="{scene["iid"]}" selected>' in r.text
    assert await LateQuestion.count().run() == 0


@pytest.mark.parametrize("url", ["http://[", "https://x.com/a\tb", "https://x.com/\x01"])
async def test_a_link_that_cannot_be_parsed_is_named_not_a_500(carol, scene, url):
    r = await post_form(carol, "/questions", {"text": "prices?", "url": url})
    assert r.status_code == 422, r.text
    assert "http" in field_error(r.text, "url")
    assert await LateQuestion.count().run() == 0


async def test_an_unknown_member_or_incident_is_named(carol, scene):
    r = await post_form(carol, "/questions", {"text": "Prices?", "member_id": "999999", "incident_id": "999999"})
    assert r.status_code == 422
    assert field_error(r.text, "member_id") == "No member with id 999999."
    assert field_error(r.text, "incident_id") == "No incident with id 999999."


async def test_an_answer_picked_while_typing_is_recorded_with_the_question(carol, scene, users):
    r = await post_form(carol, "/questions", {"text": "Prices?", "faq_id": str(scene["prices"])})
    assert r.status_code == 303, r.text
    row = await LateQuestion.select().first().run()
    assert row["faq"] == scene["prices"] and row["answered_by"] == users["carol"]["id"]
    assert row["answer_text"] == f"{PRICES_A}\n\n{SENTENCE}"


async def test_a_picked_draft_is_refused_and_nothing_is_logged(carol, scene):
    r = await post_form(carol, "/questions", {"text": "Prices?", "faq_id": str(scene["draft"])})
    assert r.status_code == 422
    assert "draft" in field_error(r.text, "faq_id")
    assert await LateQuestion.count().run() == 0


async def test_a_viewer_cannot_log(as_user, scene):
    dave = await as_user("dave")
    assert (await dave.get("/questions/new")).status_code == 403
    assert (await post_form(dave, "/questions", {"text": "Prices?"})).status_code == 403
    assert (await dave.get("/questions")).status_code == 200
    assert "Log a late question" not in (await dave.get("/questions")).text


# ---- the question page ----------------------------------------------------------------------------------------


async def test_send_this_answer_marks_it_answered(carol, desk, scene, clock):
    question = await desk.logged(text="Were the prices honoured?", incident_id=scene["iid"])
    clock.advance(hours=2)
    r = await post_form(carol, f"/questions/{question['id']}/answer", {"faq_id": str(scene["prices"])})
    assert r.status_code == 303 and r.headers["location"] == f"/questions/{question['id']}#answer"
    page = await carol.get(f"/questions/{question['id']}")
    answered = section(page.text, "answer")
    assert "Answered by Carol on 2026-03-02 11:30" in plain(answered)
    assert (
        unescape(re.search(r'<textarea id="answer-sent"[^>]*>([^<]*)</textarea>', answered).group(1))
        == f"{PRICES_A}\n\n{SENTENCE}"
    )
    assert PRICES_Q in plain(answered)
    assert 'id="question-status">answered' in page.text


async def test_a_free_text_answer(carol, desk, scene):
    question = await desk.logged(text="Baggage allowance?")
    r = await post_form(carol, f"/questions/{question['id']}/answer", {"answer_text": "Unchanged: 23 kg."})
    assert r.status_code == 303
    page = await carol.get(f"/questions/{question['id']}")
    assert "Unchanged: 23 kg." in section(page.text, "answer")


async def test_an_empty_answer_is_refused_next_to_the_box(carol, desk, scene):
    question = await desk.logged(text="Baggage allowance?")
    r = await post_form(carol, f"/questions/{question['id']}/answer", {"answer_text": "  "})
    assert r.status_code == 422
    assert "Write the answer" in field_error(r.text, "answer_text")
    assert plain(section(r.text, "question-status")) == "unanswered"
    assert (await LateQuestion.select().first().run())["answered_at"] is None


async def test_a_retired_entry_cannot_be_sent(carol, desk, scene):
    question = await desk.logged(text="Did you delete negative comments?")
    assert scene["comments"] in question["suggested"]
    await desk.retire(scene["comments"])
    r = await post_form(carol, f"/questions/{question['id']}/answer", {"faq_id": str(scene["comments"])})
    assert r.status_code == 422
    assert "retired" in plain(section(r.text, f"suggestion-{scene['comments']}"))
    assert "retired" in plain(r.text.split('role="alert"', 1)[1][:300])
    assert (await LateQuestion.select().first().run())["answered_at"] is None


SECRET_Q = "Will SECRETDRAFTQUESTION happen again?"
SECRET_A = "SECRETDRAFTTEXT: not for everyone."


@pytest.mark.parametrize("now", ["draft", "retired"])
async def test_an_entry_withdrawn_since_logging_leaves_no_trace_of_its_text(as_user, desk, scene, now):
    """A suggestion turned back into a draft (or retired) is listed as withdrawn, without its question or
    answer, for everyone: a viewer may not read a draft, and a retired answer may be wrong. Those who may read
    the entry get a link to its FAQ page. A question answered with it names the entry the same way; the text
    recorded as sent stays (it is what the customer was told, when the entry was published)."""
    entry = await desk.faq(scene["iid"], SECRET_Q, SECRET_A)
    question = await desk.logged(text="Will SECRETDRAFTQUESTION happen?")
    answered = await desk.logged(text="Will SECRETDRAFTQUESTION happen?")
    assert question["suggested"] == answered["suggested"] == [entry]
    assert (await desk.answer(answered["id"], faq_id=entry)).status_code == 200
    r = await desk.api.patch(f"/api/v1/faq/{entry}", json={"status": now}, headers=desk.h)
    assert r.status_code == 200, r.text
    for who, linked in (("dave", now == "retired"), ("bob", True)):
        client = await as_user(who)
        page = await client.get(f"/questions/{question['id']}")
        assert page.status_code == 200
        html = page.text.replace(question["text"], "")  # the customer's own words are not the entry's
        assert "SECRETDRAFT" not in html, who
        withdrawn = section(page.text, f"suggestion-{entry}")
        assert "withdrawn since" in plain(withdrawn) and now in plain(withdrawn)
        assert (f'href="/faq/{entry}"' in withdrawn) is linked, who
        assert "Send this answer" not in withdrawn and 'id="gap"' not in page.text
        page = await client.get(f"/questions/{answered['id']}")
        sent = re.search(r'<textarea id="answer-sent"[^>]*>[^<]*</textarea>', page.text).group(0)
        assert "SECRETDRAFTTEXT" in sent
        assert "SECRETDRAFT" not in page.text.replace(question["text"], "").replace(sent, ""), who
        assert "withdrawn since" in plain(section(page.text, "answered-withdrawn"))
        assert (f'href="/faq/{entry}"' in section(page.text, "answer")) is linked, who
    viewer = await as_user("dave")
    assert (await viewer.get(f"/faq/{entry}")).status_code == (200 if now == "retired" else 403)


async def test_a_gap_shows_the_answers_sharing_some_of_its_words(carol, desk, scene):
    question = await desk.logged(text="Will my flight be refunded?")
    page = await carol.get(f"/questions/{question['id']}")
    assert "gap" in plain(section(page.text, "gap"))
    related = section(page.text, "related")
    assert f"related-{scene['wifi']}" in related and "Send this answer" in related


async def test_a_gap_says_so_and_links_to_propose_an_entry(carol, desk, scene):
    question = await desk.logged(text="Baggage allowance?", incident_id=scene["iid"])
    page = await carol.get(f"/questions/{question['id']}")
    gap = section(page.text, "gap")
    assert "No FAQ entry matched" in plain(gap) and f'href="/faq/new?incident_id={scene["iid"]}"' in gap


async def test_searching_the_faq_again_from_the_question(carol, desk, scene):
    question = await desk.logged(text="Baggage allowance?")
    page = await carol.get(f"/questions/{question['id']}?q=wifi+fixed")
    found = section(page.text, "search")
    assert f"found-{scene['wifi']}" in found and "Send this answer" in found


async def test_a_viewer_sees_the_question_without_answer_buttons(as_user, desk, scene):
    question = await desk.logged(text="Were the prices honoured?")
    dave = await as_user("dave")
    page = await dave.get(f"/questions/{question['id']}")
    assert page.status_code == 200 and "Send this answer" not in page.text and 'id="own-answer"' not in page.text
    r = await post_form(dave, f"/questions/{question['id']}/answer", {"answer_text": "Yes."})
    assert r.status_code == 403


async def test_a_missing_question_is_404(carol, scene):
    assert (await carol.get("/questions/999999")).status_code == 404
    assert (await post_form(carol, "/questions/999999/answer", {"answer_text": "Yes."})).status_code == 404


# ---- lists, member page, incident page --------------------------------------------------------------------------


async def test_the_list_puts_unanswered_first_and_filters(carol, desk, scene):
    old = await desk.logged(
        text="Old prices question", incident_id=scene["iid"], asked_at=(START - timedelta(days=5)).isoformat()
    )
    new = await desk.logged(text="New prices question", incident_id=scene["iid"])
    wifi = await desk.logged(text="Wi-Fi question", incident_id=scene["other"])
    await desk.answer(new["id"], answer_text="Yes.")
    page = (await carol.get("/questions")).text
    assert f"question-{wifi['id']}" in section(page, "unanswered") and f"question-{old['id']}" in section(
        page, "unanswered"
    )
    assert f"question-{new['id']}" in section(page, "answered")
    assert page.index(f"question-{old['id']}") < page.index(f"question-{new['id']}")
    filtered = (await carol.get(f"/questions?incident={scene['iid']}&unanswered=1")).text
    assert f"question-{old['id']}" in filtered
    assert f"question-{wifi['id']}" not in filtered and f"question-{new['id']}" not in filtered
    assert (await carol.get("/questions?incident=abc")).status_code == 422


async def test_a_known_members_late_question_lands_on_their_timeline(carol, desk, scene):
    dana = await desk.member("Dana", [("x", "danaw")])
    question = await desk.logged(text="Were the prices honoured?", platform="x", asker="@DanaW")  # asked now
    said = []
    for minutes in (-60, 10):  # one interaction before the question, one after
        r = await desk.api.post(
            "/api/v1/interactions",
            headers=desk.h,
            json={
                "member_id": dana,
                "platform": "x",
                "kind": "reply",
                "occurred_at": (START + timedelta(minutes=minutes)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        said.append(r.json()["id"])
    page = await carol.get(f"/members/{dana}")
    assert page.status_code == 200
    timeline = section(page.text, "timeline")
    assert re.findall(r'<li class="event [^"]*" id="([a-z-]+-\d+)"', timeline) == [
        f"interaction-{said[1]}",
        f"member-question-{question['id']}",
        f"interaction-{said[0]}",
    ]
    item = section(timeline, f"member-question-{question['id']}")
    assert f'href="/questions/{question["id"]}"' in item and "Were the prices honoured?" in item
    assert "Asked late" in plain(item) and "unanswered" in plain(item)
    assert f'href="/questions/new?member_id={dana}">Log a late question</a>' in timeline  # agents log them
    assert 'id="late-questions"' not in page.text  # no separate card any more


async def test_the_incident_page_shows_the_record_since_and_links_the_report(carol, desk, scene):
    await desk.logged(text="Baggage allowance?", incident_id=scene["iid"])
    page = await carol.get(f"/incidents/{scene['iid']}")
    panel = section(page.text, "late-questions")
    assert SENTENCE in plain(panel)
    assert f'href="/incidents/{scene["iid"]}/questions"' in panel
    assert "1 late question: 1 unanswered, 1 with no FAQ entry." in plain(panel)
    unresolved = section((await carol.get(f"/incidents/{scene['other']}")).text, "late-questions")
    assert "Our record since" not in unresolved


# ---- the report ----------------------------------------------------------------------------------------------


async def test_the_report_counts_questions_per_week_since_resolution(carol, as_user, desk, scene, clock):
    # Resolved Saturday 2026-01-31: weeks begin Monday 26 January; "now" is Monday 2 March (week 6).
    iid = scene["iid"]
    asked = [
        START - timedelta(days=35),
        START - timedelta(days=29),
        START - timedelta(days=28, hours=1),
        START - timedelta(days=14),
        START - timedelta(hours=1),
    ]
    ids = [(await desk.logged(text="Prices?", incident_id=iid, asked_at=a.isoformat()))["id"] for a in asked]
    gap = await desk.logged(
        text="Baggage allowance?", incident_id=iid, asked_at=(START - timedelta(days=8)).isoformat()
    )
    await desk.answer(ids[1], answer_text="Yes.")
    page = await carol.get(f"/incidents/{iid}/questions")
    assert page.status_code == 200
    bars = dict(re.findall(r'data-week="([0-9-]+)" data-count="(\d+)"', page.text))
    # The one asked before the resolution is not charted; weeks with none have no bar.
    assert bars == {"2026-01-26": "1", "2026-02-02": "1", "2026-02-16": "2", "2026-03-02": "1"}
    rows = re.findall(r'<tr><th scope="row">([0-9-]+)</th><td>(\d+)</td></tr>', page.text)
    assert [w for w, _ in rows] == ["2026-01-26", "2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23", "2026-03-02"]
    summary = plain(section(page.text, "chart-summary"))
    assert summary == (
        "5 late questions in the 6 weeks since it was resolved on 31 January 2026; "
        "the busiest week began 2026-02-16 with 2."
    )
    assert f"Late questions per week: {summary}" in page.text  # the SVG's <title>
    assert 'role="img"' in page.text
    unanswered = section(page.text, "unanswered")
    assert f"question-{ids[1]}" not in unanswered and f"question-{gap['id']}" in unanswered
    assert len(re.findall(r'id="question-\d+"', unanswered)) == 5
    gaps = section(page.text, "gaps")
    assert re.findall(r'id="question-(\d+)"', gaps) == [str(gap["id"])]
    assert f'href="/faq/new?incident_id={iid}"' in gaps
    assert SENTENCE in plain(section(page.text, "record-since"))

    clock.advance(days=7)  # the session would have expired: sign in again
    later = await (await as_user("bob")).get(f"/incidents/{iid}/questions")
    assert "in the 7 weeks since" in plain(section(later.text, "chart-summary"))


async def test_an_unresolved_incidents_report_counts_from_detection(carol, desk, scene):
    await desk.logged(text="Wi-Fi?", incident_id=scene["other"])
    page = await carol.get(f"/incidents/{scene['other']}/questions")
    assert "since it was detected on 27 February 2026" in plain(section(page.text, "chart-summary"))
    assert 'id="record-since"' not in page.text


async def test_the_report_of_a_missing_incident_is_404(carol, scene):
    assert (await carol.get("/incidents/999999/questions")).status_code == 404


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/questions"),
        ("GET", "/questions/new"),
        ("GET", "/questions/1"),
        ("GET", "/incidents/1/questions"),
        ("POST", "/questions"),
        ("POST", "/questions/1/answer"),
    ],
)
async def test_the_pages_need_a_signed_in_user(client, users, method, path):
    r = await client.request(method, path)
    if method == "GET":
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    else:
        assert r.status_code in (401, 403)  # CSRF or sign-in: never the handler
    assert await LateQuestion.count().run() == 0
