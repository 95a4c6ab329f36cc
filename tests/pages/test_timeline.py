"""The member page's one timeline (crm/pages/timeline.py): interactions, briefings, thank-yous and late
questions interleaved newest first, paged on the interactions with every other event on exactly one page.
Both engines."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from crm.audit.service import Actor
from crm.briefings.tables import Briefing
from crm.incidents.tables import Incident, TalkingPoints
from crm.members import interactions, service
from crm.pages import member as member_page
from crm.pages import timeline
from crm.questions.tables import LateQuestion
from crm.thanks.tables import ThankYou
from tests.briefings.test_pages import section

SYSTEM = Actor.system("test")
DAY = timedelta(days=1)


class Story:
    """Rows at chosen times (the services would refuse future or far-past times, and the paging rule is about
    times only)."""

    def __init__(self, clock) -> None:
        self.now = clock()

    async def member(self, name: str) -> int:
        return (
            await service.create_member(
                values={"name": name, "consent_private_briefing": True}, actor=SYSTEM, now=self.now
            )
        )["id"]

    async def interaction(self, member_id: int, ago: timedelta) -> int:
        row, _ = await interactions.log_interaction(
            values={
                "member_id": member_id,
                "platform": "x",
                "kind": "comment",
                "occurred_at": self.now - ago,
                "text": f"said {ago / DAY:g} days ago",
            },
            actor=SYSTEM,
            now=self.now,
        )
        return row["id"]

    async def incident(self) -> tuple[int, int]:
        at = self.now - 30 * DAY
        incident = Incident(title="Misleading ad", severity="high", detected_at=at, created_at=at, updated_at=at)
        await incident.save().run()
        points = TalkingPoints(
            incident=incident.id,
            version=1,
            key=f"{incident.id}:1",
            points='["Sorry"]',
            status="approved",
            approved_at=at,
        )
        await points.save().run()
        return incident.id, points.id

    async def briefing(self, member_id: int, ago: timedelta, incident: tuple[int, int]) -> int:
        row = Briefing(
            member=member_id,
            incident=incident[0],
            talking_points=incident[1],
            version=1,
            channel="dm",
            briefed_at=self.now - ago,
            outcome="sent",
            note="briefed",
        )
        await row.save().run()
        return row.id

    async def thanks(self, member_id: int, ago: timedelta, *, deleted: bool = False) -> int:
        at = self.now - ago
        row = ThankYou(
            member=member_id,
            channel="dm",
            message="Thank you!",
            sent_at=at,
            created_at=at,
            deleted_at=at if deleted else None,
        )
        await row.save().run()
        return row.id

    async def question(self, member_id: int, ago: timedelta, *, deleted: bool = False) -> int:
        at = self.now - ago
        row = LateQuestion(
            text="Were refunds automatic?",
            platform="x",
            member=member_id,
            asked_at=at,
            logged_at=at,
            deleted_at=at if deleted else None,
        )
        await row.save().run()
        return row.id


@pytest.fixture
async def story(engine, clock):
    """Seven interactions a day apart (days 0..6 ago) and events around them; pages of 3 interactions:
    page 1 = i0 i1 i2, page 2 = i3 i4 i5, page 3 = i6. Expected, newest first (a tie with the page's oldest
    interaction stays on that page, after the interaction):
      page 1: question (in 1 hour), i0, thanks (0.5 days), i1, i2, briefing (exactly day 2)
      page 2: question (2.5 days), i3, i4, i5, briefing (exactly day 5)
      page 3: i6, thanks (10 days: older than every interaction)
    Deleted thank-yous and questions, and another member's events, appear nowhere."""
    s = Story(clock)
    jane, other = await s.member("Jane"), await s.member("Other")
    incident = await s.incident()
    i = [await s.interaction(jane, n * DAY) for n in range(7)]
    ev = {
        "q_future": await s.question(jane, -timedelta(hours=1)),
        "t_half": await s.thanks(jane, DAY / 2),
        "b_2": await s.briefing(jane, 2 * DAY, incident),
        "q_2_5": await s.question(jane, 2.5 * DAY),
        "b_5": await s.briefing(jane, 5 * DAY, incident),
        "t_10": await s.thanks(jane, 10 * DAY),
    }
    await s.thanks(jane, 3 * DAY, deleted=True)
    await s.question(jane, 4 * DAY, deleted=True)
    await s.thanks(other, DAY)
    await s.briefing(other, 3 * DAY, incident)
    pages = [
        [
            ("question", ev["q_future"]),
            ("interaction", i[0]),
            ("thanks", ev["t_half"]),
            ("interaction", i[1]),
            ("interaction", i[2]),
            ("briefing", ev["b_2"]),
        ],
        [
            ("question", ev["q_2_5"]),
            ("interaction", i[3]),
            ("interaction", i[4]),
            ("interaction", i[5]),
            ("briefing", ev["b_5"]),
        ],
        [("interaction", i[6]), ("thanks", ev["t_10"])],
    ]
    return {"jane": jane, "other": other, "pages": pages}


async def test_events_land_on_the_page_of_their_time_and_none_is_repeated(story):
    seen, cursor = [], None
    for expected in story["pages"]:
        events, cursor = await timeline.page(story["jane"], cursor=cursor, limit=3)
        assert [(e.kind, e.row["id"]) for e in events] == expected
        assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
        seen += events
        if expected is not story["pages"][-1]:
            assert cursor is not None
    assert cursor is None
    assert len({(e.kind, e.row["id"]) for e in seen}) == len(seen) == 13


async def test_one_page_holds_everything_when_interactions_fit_or_are_absent(story, clock):
    events, cursor = await timeline.page(story["jane"], limit=25)
    assert cursor is None and [(e.kind, e.row["id"]) for e in events] == sum(story["pages"], [])
    lonely = await Story(clock).member("Lonely")
    thanked = await Story(clock).thanks(lonely, 400 * DAY)
    events, cursor = await timeline.page(lonely, limit=3)
    assert cursor is None and [(e.kind, e.row["id"]) for e in events] == [("thanks", thanked)]


def items(body: str) -> list[tuple[str, int]]:
    """The timeline's items, in page order, as (kind, id)."""
    ids = {
        "interaction": "interaction",
        "member-briefing": "briefing",
        "member-thanks": "thanks",
        "member-question": "question",
    }
    found = re.findall(
        r'<li class="event [^"]*" id="(interaction|member-briefing|member-thanks|member-question)-(\d+)"',
        section(body, "timeline"),
    )
    return [(ids[kind], int(n)) for kind, n in found]


async def test_the_member_page_shows_one_timeline_paged_without_losing_or_repeating(story, as_user, monkeypatch):
    monkeypatch.setattr(member_page, "TIMELINE_PAGE", 3)
    bob = await as_user("bob")
    url, pages = f"/members/{story['jane']}", []
    while url:
        r = await bob.get(url)
        assert r.status_code == 200, r.text
        pages.append(items(r.text))
        older = re.search(r'<a class="button" href="([^"]+)" rel="next">Older</a>', r.text)
        url = html.unescape(older.group(1)) if older else None
    assert pages == story["pages"]
    # The separate cards are gone: everything is inside #timeline.
    for gone in ('id="briefings"', 'id="thanks"', 'id="late-questions"'):
        assert gone not in r.text


async def test_the_timeline_header_offers_thanks_and_late_questions_to_those_allowed(story, as_user, clock):
    timeline_of = {}
    for who in ("bob", "carol", "dave"):
        r = await (await as_user(who)).get(f"/members/{story['jane']}")
        timeline_of[who] = section(r.text, "timeline")
    thank = (
        f'href="/thanks/new?member_id={story["jane"]}&amp;next=/members/{story["jane"]}%23timeline">Say thank you</a>'
    )
    ask = f'href="/questions/new?member_id={story["jane"]}">Log a late question</a>'
    assert thank in timeline_of["bob"] and ask in timeline_of["bob"]
    assert thank not in timeline_of["carol"] and ask in timeline_of["carol"]  # agents log questions, not thanks
    assert "/thanks/new" not in timeline_of["dave"] and "/questions/new" not in timeline_of["dave"]
    dnc = (await service.create_member(values={"name": "Dnc", "do_not_contact": True}, actor=SYSTEM, now=clock()))["id"]
    r = await (await as_user("bob")).get(f"/members/{dnc}")
    assert "/thanks/new" not in section(r.text, "timeline") and "Nothing yet." in section(r.text, "timeline")
