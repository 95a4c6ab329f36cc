"""An erased person's identifiers are refused and reported as erased, never re-created, by either kind of
import, in a dry run too."""

from __future__ import annotations

from crm.imports.tables import ImportIssue
from crm.members import service
from crm.members.erasure import erase_member
from crm.members.tables import Handle, Interaction, Member
from tests.imports.conftest import ACTOR, import_file, write_csv


async def erased_jane(clock) -> int:
    jane = await service.create_member(
        values={"name": "Jane", "email": "jane@example.org", "handles": [{"platform": "x", "handle": "Jane_Doe"}]},
        actor=ACTOR,
        now=clock(),
    )
    await erase_member(member_id=jane["id"], actor=ACTOR, now=clock())
    return jane["id"]


async def test_an_interactions_import_refuses_an_erased_handle_or_email(engine, clock, tmp_path):
    await erased_jane(clock)
    path = write_csv(
        tmp_path / "rows.csv",
        ["id", "handle", "email", "date", "text"],
        [
            ["1", "@JANE_DOE", "", "2026-01-01T10:00:00Z", "hello again"],  # the handle, in another case, with @
            ["2", "someone_new", "Jane@Example.org", "2026-01-01T11:00:00Z", "by email"],
            ["3", "bob", "", "2026-01-01T12:00:00Z", "bob is fine"],
        ],
    )

    for dry_run in (True, False):
        report = await import_file(path, clock, options={"platform": "x"}, dry_run=dry_run)

        assert (report.erased, report.interactions_added, report.members_created) == (2, 1, 1)
        assert [(i.line, i.column, i.problem) for i in report.issues] == [
            (2, "handle", "erased"),
            (3, "email", "erased"),
        ]
        assert all("erased" in i.reason for i in report.issues)
    assert await Member.count().run() == 2  # erased Jane (anonymous) and Bob
    assert await Handle.count().where(Handle.key == "x:jane_doe").run() == 0
    assert await Handle.count().where(Handle.key == "x:someone_new").run() == 0
    assert await Interaction.count().run() == 1
    assert await ImportIssue.count().where(ImportIssue.problem == "erased").run() == 2


async def test_a_members_import_refuses_an_erased_email_or_handle(engine, clock, tmp_path):
    await erased_jane(clock)
    path = write_csv(
        tmp_path / "members.csv",
        ["name", "email", "handles"],
        [
            ["Jane D.", "JANE@example.org", ""],
            ["Janie", "", "x:jane_doe"],
            ["Bob", "bob@example.org", "x:bob"],
        ],
    )

    report = await import_file(path, clock, kind="members")

    assert (report.erased, report.members_created) == (2, 1)
    assert [(i.line, i.column) for i in report.issues] == [(2, "email"), (3, "handles")]
    assert await Member.count().where(Member.erased_at.is_null()).run() == 1
