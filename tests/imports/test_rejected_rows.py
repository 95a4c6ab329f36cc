"""Bad rows are reported with their line, column and reason, never stop the good ones, and come back as a CSV
that can be fixed and imported again."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from crm.imports import queries, rejected, service
from crm.imports.tables import ImportIssue
from crm.members.tables import Interaction, Member
from tests.imports.conftest import TWEETS_HEADER, import_file, write_csv


def tweet(tweet_id: str, name: str = "jane", created: str = "2015-02-24 11:35:52 -0800", **cells) -> dict:
    row = dict.fromkeys(TWEETS_HEADER, "")
    row.update(
        tweet_id=tweet_id,
        airline_sentiment="negative",
        airline="United",
        name=name,
        text=f"tweet {tweet_id}",
        tweet_created=created,
    )
    row.update(cells)
    return row


async def test_it_reports_each_bad_row_with_its_line_column_and_reason_and_imports_the_rest(engine, clock, tmp_path):
    future = (clock() + timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S +0000")
    rows = [
        tweet("1"),  # line 2
        tweet("2", text="first line\nsecond line\nthird line"),  # lines 3-5: a text with newlines
        tweet("3", created="24/02/2015 11:35"),  # line 6: a date in another format
        tweet("4", airline_sentiment="furious"),  # line 7
        tweet("5", name=""),  # line 8: nobody to attach it to
        tweet("6", created=future),  # line 9
        tweet("7", name="x" * 201),  # line 10
        tweet("8", text="y" * 10_001),  # line 11
        tweet("9"),  # line 12
    ]
    path = write_csv(tmp_path / "tweets.csv", TWEETS_HEADER, rows)

    report = await import_file(path, clock, preset="twitter-airline")

    assert (report.rows_read, report.interactions_added, report.rejected) == (9, 3, 6)
    rejected = [(i.line, i.column, i.reason) for i in report.issues]
    assert rejected == [
        (
            6,
            "tweet_created",
            "Cannot read '24/02/2015 11:35' as a date and time (expected the format %Y-%m-%d %H:%M:%S %z).",
        ),
        (
            7,
            "airline_sentiment",
            "Unknown sentiment 'furious': use positive, negative or neutral, a number, or map the word in the mapping.",
        ),
        (8, "name", "Give member_id, or platform and handle (or the member's email)."),
        (9, "tweet_created", "This is more than a day in the future."),
        (10, "name", "Use at most 200 characters."),
        (11, "text", "Use at most 10,000 characters."),
    ]
    assert sorted(r["external_id"] for r in await Interaction.select(Interaction.external_id).run()) == ["1", "2", "9"]
    stored = await ImportIssue.select().where(ImportIssue.job == report.job_id).order_by(ImportIssue.line).run()
    assert [(i["line"], i["column_name"], i["problem"]) for i in stored] == [(r[0], r[1], "rejected") for r in rejected]


async def test_it_writes_the_rejected_rows_as_csv_with_where_and_why(engine, clock, tmp_path):
    rows = [tweet("1"), tweet("2", airline_sentiment="meh?"), tweet("3", tweet_created="soon")]
    path = write_csv(tmp_path / "tweets.csv", TWEETS_HEADER, rows)
    report = await import_file(path, clock, preset="twitter-airline")

    text = "".join([line async for line in rejected.rejected_csv(report.job_id)])

    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == [*TWEETS_HEADER, "_line", "_column", "_problem", "_reason"]
    assert [r[:15] for r in parsed[1:]] == [list(rows[1].values()), list(rows[2].values())]
    assert [r[15:18] for r in parsed[1:]] == [
        ["3", "airline_sentiment", "rejected"],
        ["4", "tweet_created", "rejected"],
    ]
    # Fixed, the rejected rows import on their own.
    fixed = [{k: v for k, v in zip(parsed[0], r, strict=True) if not k.startswith("_")} for r in parsed[1:]]
    fixed[0]["airline_sentiment"], fixed[1]["tweet_created"] = "neutral", "2015-02-24 10:00:00 -0800"
    again = await import_file(write_csv(tmp_path / "fixed.csv", TWEETS_HEADER, fixed), clock, preset="twitter-airline")
    assert (again.interactions_added, again.rejected) == (2, 0)


async def test_it_rejects_a_row_with_more_cells_than_the_header(engine, clock, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("handle,date,text\njane,2026-01-01T10:00:00Z,hello\nbob,2026-01-02T10:00:00Z,hi,extra,cells\n")

    report = await import_file(path, clock, options={"platform": "x"})

    assert (report.interactions_added, report.rejected) == (1, 1)
    assert (report.issues[0].line, report.issues[0].column) == (3, "(row)")
    assert report.issues[0].reason == "This row has 5 cells; the header has 3."


async def test_it_names_every_bad_cell_of_a_row_in_one_report_line(engine, clock, tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("handle,date,sentiment,link\njane,yesterday,angry!,ftp://x\n")

    report = await import_file(path, clock, options={"platform": "x"})

    issue = report.issues[0]
    assert (issue.line, issue.column) == (2, "date")
    assert "Cannot read 'yesterday'" in issue.reason and "Also: sentiment: Unknown sentiment 'angry!'" in issue.reason
    assert await Member.count().run() == 0


async def test_the_job_keeps_every_issue_and_the_report_the_first_ones(engine, clock, tmp_path):
    rows = [tweet(str(n), airline_sentiment="??!") for n in range(service.REPORT_ISSUES + 30)]
    path = write_csv(tmp_path / "bad.csv", TWEETS_HEADER, rows)

    report = await import_file(path, clock, preset="twitter-airline", batch_size=100)

    assert report.rejected == service.REPORT_ISSUES + 30 and len(report.issues) == service.REPORT_ISSUES
    assert len([i async for i in queries.each_issue(report.job_id)]) == service.REPORT_ISSUES + 30
