"""Exports read back: what ``export_csv`` writes, imported through the "crm" preset into an empty database, gives
the same members, handles, topics, interactions and rollups, cells that a spreadsheet would run as formulas
included (they are written with a quote in front, which the preset takes off again)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from crm.audit.service import Actor
from crm.exports import service
from crm.members import interactions
from crm.members import service as members
from crm.members.queries import MemberFilter
from tests.conftest import empty_all_tables
from tests.imports.conftest import fingerprint, import_file, tweets_subset

ACTOR = Actor.system("test")
HOSTILE = ['=HYPERLINK("http://evil")', "+1+2", "-3", "@SUM(A1)", "\uff1dcmd", "\u200b=1+1", "'quoted", "\uff20handle"]


async def export(kind: str, clock, *, bom: bool = False, **filters) -> bytes:
    chunks = await service.export_csv(kind=kind, filters=MemberFilter(**filters), actor=ACTOR, now=clock(), bom=bom)
    return b"".join([chunk async for chunk in chunks])


async def hostile_member(clock) -> int:
    member = await members.create_member(
        values={
            "name": HOSTILE[0],
            "email": "dana@example.org",
            "tier": "champion",
            "topics": ["-minus", "travel"],
            "handles": [
                {"platform": "instagram", "handle": "dana.flies", "followers": 18_400, "url": "https://x.test/d"},
                {"platform": "x", "handle": "danaw"},
            ],
            "consent_private_briefing": True,
            "notes": '+44 call first\nline two, "quoted"',
            "location": "@home",
            "language": "fr",
            "time_zone": "Europe/Paris",
        },
        actor=ACTOR,
        now=clock(),
    )
    for n, text in enumerate(HOSTILE):
        await interactions.log_interaction(
            values={
                "member_id": member["id"],
                "platform": "x" if n % 2 else "instagram",
                "kind": "comment",
                "occurred_at": clock() - timedelta(days=n, microseconds=n),
                "sentiment": ["positive", "negative", "neutral"][n % 3],
                "text": text,
                "external_id": f"h{n}" if n % 3 else None,  # some without: matched by member, time and text
            },
            actor=ACTOR,
            now=clock(),
        )
    return member["id"]


async def test_an_export_imports_back_into_an_empty_database_unchanged(engine, clock, tmp_path):
    await import_file(tweets_subset(tmp_path / "tweets.csv", 600), clock, preset="twitter-airline")
    await hostile_member(clock)
    members_csv = await export("members", clock, bom=True)
    interactions_csv = await export("interactions", clock)
    original = await fingerprint()

    await empty_all_tables()
    got_members = await import_file(io.BytesIO(members_csv), clock, kind="members", preset="crm")
    got_interactions = await import_file(io.BytesIO(interactions_csv), clock, preset="crm")

    assert got_members.rejected == 0 and got_members.members_created == len(original["members"])
    assert got_interactions.rejected == 0 and got_interactions.interactions_added == len(original["interactions"])
    assert await fingerprint() == original
    # And exported again, the same files but for the ids and creation times (the CRM's own, not imported).
    again = await export("interactions", clock)
    drop = ("id", "member_id", "created_at")
    assert _without(again, drop) == _without(interactions_csv, drop)


async def test_every_hostile_cell_is_written_as_plain_text(engine, clock):
    await hostile_member(clock)

    [member] = list(csv.DictReader(io.StringIO((await export("members", clock)).decode())))
    rows = list(csv.DictReader(io.StringIO((await export("interactions", clock)).decode())))

    assert member["name"] == "'" + HOSTILE[0] and member["topics"] == "'-minus; travel"
    assert member["notes"].startswith("'+44") and member["location"] == "'@home"
    assert sorted(r["text"] for r in rows) == sorted("'" + text for text in HOSTILE)
    assert {r["member_name"] for r in rows} == {"'" + HOSTILE[0]}


async def test_a_filtered_export_imports_back_as_just_those_members(engine, clock, tmp_path):
    await import_file(tweets_subset(tmp_path / "tweets.csv", 300), clock, preset="twitter-airline")
    await hostile_member(clock)
    members_csv = await export("members", clock, tier="champion")
    interactions_csv = await export("interactions", clock, tier="champion")
    original = await fingerprint()

    await empty_all_tables()
    await import_file(io.BytesIO(members_csv), clock, kind="members", preset="crm")
    await import_file(io.BytesIO(interactions_csv), clock, preset="crm")

    back = await fingerprint()
    # The fingerprint names a member by one of their handles, whichever it meets first: compare without it.
    dana = {original["handles"][key][0] for key in ("x:danaw", "instagram:dana.flies")}
    assert list(back["members"].values()) == [v for k, v in original["members"].items() if k in dana]
    assert sorted(i[1:] for i in back["interactions"]) == sorted(
        i[1:] for i in original["interactions"] if i[0] in dana
    )
    assert len(back["interactions"]) == len(HOSTILE)


def _without(data: bytes, columns: tuple[str, ...]) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in columns}
        for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    ]
