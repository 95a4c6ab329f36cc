"""Importing members: matched by email or any handle, fields present overwrite, topics and handles are added,
a second import changes nothing, and the CRM's own format reads back what it wrote."""

from __future__ import annotations

import csv
import io
import json

from crm.audit.tables import AuditEntry
from crm.imports import formats
from crm.members import queries, service
from crm.members.tables import Handle, Interaction, Member, MemberTopic
from tests.conftest import empty_all_tables
from tests.imports.conftest import ACTOR, fingerprint, import_file, tweets_subset, write_csv

HEADER = ["Full Name", "E-mail", "Twitter", "Followers", "Tags", "Tier", "Timezone", "Opt in", "DNC"]


async def test_it_creates_members_from_a_file_with_a_guessed_mapping(engine, clock, tmp_path):
    path = write_csv(
        tmp_path / "people.csv",
        HEADER,
        [
            [
                "Dana Whitfield",
                "Dana@Example.org",
                "@danaw",
                "2,100",
                "travel; loyalty",
                "champion",
                "London",
                "yes",
                "",
            ],
            ["Ravi Menon", "", "ravi_eats", "", "food", "", "Eastern Time (US & Canada)", "", "no"],
        ],
    )

    report = await import_file(path, clock, kind="members", options={"platform": "x"})

    assert (report.rows_read, report.members_created, report.members_updated, report.rejected) == (2, 2, 0, 0)
    dana = await queries.get_member(await queries.member_id_by_email("dana@example.org"))
    assert (dana["name"], dana["tier"], dana["time_zone"], dana["reach"]) == (
        "Dana Whitfield",
        "champion",
        "Europe/London",
        2100,
    )
    assert dana["consent_private_briefing"] is True and dana["consent_recorded_at"] == clock()
    assert dana["topics"] == ["loyalty", "travel"]
    assert [(h["platform"], h["handle"], h["followers"]) for h in dana["handles"]] == [("x", "danaw", 2100)]
    ravi = await queries.get_member(await queries.member_id_by_handle_key("x:ravi_eats"))
    assert (ravi["email"], ravi["tier"], ravi["time_zone"], ravi["do_not_contact"]) == (
        None,
        "member",
        "America/New_York",
        False,
    )


async def test_a_second_import_changes_nothing_and_a_changed_file_updates_with_an_audit_entry(engine, clock, tmp_path):
    rows = [["Dana Whitfield", "dana@example.org", "danaw", "100", "travel", "advocate", "", "", ""]]
    path = write_csv(tmp_path / "people.csv", HEADER, rows)
    await import_file(path, clock, kind="members", options={"platform": "x"})
    before = await fingerprint()

    again = await import_file(path, clock, kind="members", options={"platform": "x"})

    assert (again.members_created, again.members_updated) == (0, 0)
    assert await fingerprint() == before

    # Matched by the handle (the email cell empty: an import never blanks a field), the tier and followers change
    # and a topic and a handle are added.
    rows = [["Dana W.", "", "DANAW", "150", "loyalty", "champion", "", "", ""]]
    changed = await import_file(
        write_csv(tmp_path / "v2.csv", HEADER, rows), clock, kind="members", options={"platform": "x"}
    )

    assert (changed.members_created, changed.members_updated) == (0, 1)
    dana = await queries.get_member(await queries.member_id_by_email("dana@example.org"))
    assert (dana["name"], dana["tier"], dana["reach"]) == ("Dana W.", "champion", 150)
    assert dana["topics"] == ["loyalty", "travel"]
    entry = await AuditEntry.select().where(AuditEntry.action == "member.update").first().run()
    after = json.loads(entry["after"]) if isinstance(entry["after"], str) else entry["after"]
    before_values = json.loads(entry["before"]) if isinstance(entry["before"], str) else entry["before"]
    assert before_values == {"name": "Dana Whitfield", "tier": "advocate"}
    assert after["name"] == "Dana W." and after["topics_added"] == ["loyalty"]
    assert after["handles"] == [{"platform": "x", "handle": "danaw", "followers": 150, "url": None}]


async def test_a_row_matching_two_members_is_refused(engine, clock, tmp_path):
    for name, email, handle in (("Ann", "ann@example.org", "ann"), ("Bea", "bea@example.org", "bea")):
        await service.create_member(
            values={"name": name, "email": email, "handles": [{"platform": "x", "handle": handle}]},
            actor=ACTOR,
            now=clock(),
        )
    path = write_csv(tmp_path / "p.csv", ["name", "email", "handles"], [["Ann", "ann@example.org", "x:bea"]])

    report = await import_file(path, clock, kind="members")

    assert report.rejected == 1 and report.members_updated == 0
    assert report.issues[0].column == "email" and "matches two members" in report.issues[0].reason


async def test_a_row_without_email_or_handle_is_refused(engine, clock, tmp_path):
    path = write_csv(tmp_path / "p.csv", ["name", "email"], [["Nobody", ""], ["Somebody", "not-an-email"]])

    report = await import_file(path, clock, kind="members")

    assert [(i.line, i.column) for i in report.issues] == [(2, "email"), (3, "email")]
    assert "so the member can be found again" in report.issues[0].reason
    assert "valid email" in report.issues[1].reason
    assert await Member.count().run() == 0


def export_members(members: list[dict]) -> bytes:
    """What the export slice will write for members, with formats' columns and writers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(formats.MEMBER_COLUMNS)
    for m in members:
        values = {
            **m,
            "topics": formats.write_topics(m["topics"]),
            "handles": formats.write_handles(m["handles"]),
            "score": "1.5",
        }
        writer.writerow(
            [
                formats.write_cell(values.get(c)) if c not in ("topics", "handles") else values[c]
                for c in formats.MEMBER_COLUMNS
            ]
        )
    return out.getvalue().encode()


async def export_interactions() -> bytes:
    members = {m["id"]: m for m in await Member.select().run()}
    handles = {}
    for h in await Handle.select().order_by(Handle.id).run():
        handles.setdefault((h["member"], h["platform"]), h["handle"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(formats.INTERACTION_COLUMNS)
    for i in await Interaction.select().order_by(Interaction.id).run():
        m = members[i["member"]]
        values = {
            **i,
            "member_id": m["id"],
            "member_name": m["name"],
            "member_email": m["email"],
            "handle": handles.get((m["id"], i["platform"]), ""),
        }
        writer.writerow([formats.write_cell(values.get(c)) for c in formats.INTERACTION_COLUMNS])
    return out.getvalue().encode()


async def test_the_crm_format_reads_back_what_an_export_wrote(engine, clock, tmp_path):
    await import_file(tweets_subset(tmp_path / "tweets.csv", 800), clock, preset="twitter-airline")
    await service.create_member(
        values={
            "name": 'Dana, "the" champion',
            "email": "dana@example.org",
            "tier": "champion",
            "topics": ["travel", "loyalty"],
            "handles": [
                {"platform": "instagram", "handle": "dana.flies", "followers": 18_400, "url": "https://x.test/d"},
                {"platform": "x", "handle": "danaw"},
            ],
            "consent_private_briefing": True,
            "notes": "Line one\nline two",
            "location": "Lyon",
            "language": "fr",
            "time_zone": "Europe/Paris",
        },
        actor=ACTOR,
        now=clock(),
    )
    members = [await queries.get_member(m["id"]) for m in await Member.select(Member.id).order_by(Member.id).run()]
    members_csv, interactions_csv = export_members(members), await export_interactions()
    original = await fingerprint()

    # Into the same database: nothing changes.
    same_m = await import_file(io.BytesIO(members_csv), clock, kind="members", preset="crm")
    same_i = await import_file(io.BytesIO(interactions_csv), clock, preset="crm")
    assert (same_m.members_created, same_m.members_updated, same_m.rejected) == (0, 0, 0)
    assert (same_i.interactions_added, same_i.rejected) == (0, 0)
    assert await fingerprint() == original

    # Into an empty one: the same members, handles, topics, interactions and rollups.
    await empty_all_tables()
    await import_file(io.BytesIO(members_csv), clock, kind="members", preset="crm")
    back = await import_file(io.BytesIO(interactions_csv), clock, preset="crm")
    assert back.rejected == 0
    assert await fingerprint() == original
    assert await MemberTopic.count().run() > 0
