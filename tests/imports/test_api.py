"""The import API end to end: upload the whole Tweets.csv through the preset, poll the job until it is done (the
server's runner does the work in the background), exact counts, a second upload that adds nothing, the rejected
rows as CSV; and the refusals (roles, bad files, unknown presets and mappings, unknown ids)."""

from __future__ import annotations

import csv
import io

import pytest

from crm.imports.tables import ImportJob
from crm.members.tables import Interaction, Member
from tests.conftest import error
from tests.imports.conftest import TWEETS_HEADER, write_csv
from tests.imports.test_rejected_rows import tweet

TWEETS_PRESET = {"kind": "interactions", "preset": "twitter-airline"}
POLLS = 200  # each poll lets the runner go on: the job is done well before this bound


async def poll_until_done(client, job_id: int, headers: dict) -> dict:
    """GET the job until it is done or failed, a bounded number of times; each request yields to the runner."""
    seen = []
    for _ in range(POLLS):
        body = (await client.get(f"/api/v1/imports/{job_id}", headers=headers)).json()
        seen.append(body["status"])
        if body["status"] in ("done", "failed"):
            return body
        await client.app_runner_step()
    pytest.fail(f"import {job_id} not done after {POLLS} polls: {seen[-5:]}")


def upload(path_or_bytes, name: str = "Tweets.csv") -> dict:
    content = path_or_bytes.read_bytes() if hasattr(path_or_bytes, "read_bytes") else path_or_bytes
    return {"file": (name, content, "text/csv")}


async def test_the_whole_tweets_file_through_the_api_gives_the_exact_counts_and_again_adds_nothing(
    api, auth, tweets, app
):
    r = await api.post(
        "/api/v1/imports",
        files=upload(tweets),
        data=TWEETS_PRESET,
        headers=auth["bob"],
    )
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert set(accepted) >= {"id", "status"} and accepted["status"] == "queued"

    done = await poll_until_done(api, accepted["id"], auth["bob"])

    assert done["status"] == "done", done
    assert (done["rows_read"], done["members_created"], done["interactions_added"]) == (14_640, 7_701, 14_485)
    assert (done["duplicates"], done["conflicts"], done["rejected"]) == (155, 47, 0)
    assert done["progress"] == 1.0 and done["actor_label"] == "bob@example.com"
    assert done["issues_total"] == 47 and {i["problem"] for i in done["issues"]} == {"conflict"}
    assert await Member.count().run() == 7_701
    assert await Interaction.count().run() == 14_485
    # The uploaded file is removed once imported.
    assert not list((app.state.settings.var_dir / "imports").glob("*.csv"))

    again = await api.post(
        "/api/v1/imports",
        files=upload(tweets),
        data=TWEETS_PRESET,
        headers=auth["alice"],
    )
    assert again.status_code == 202
    second = await poll_until_done(api, again.json()["id"], auth["alice"])
    assert second["status"] == "done" and again.json()["id"] != accepted["id"]
    assert (second["members_created"], second["interactions_added"], second["duplicates"]) == (0, 0, 14_640)
    assert await Interaction.count().run() == 14_485


async def test_the_rejected_rows_come_back_as_csv_with_line_column_and_reason(api, auth, tmp_path):
    rows = [tweet("1"), tweet("2", airline_sentiment="furious"), tweet("3", created="24/02/2015"), tweet("4")]
    path = write_csv(tmp_path / "bad.csv", TWEETS_HEADER, rows)
    r = await api.post(
        "/api/v1/imports",
        files=upload(path),
        data=TWEETS_PRESET,
        headers=auth["alice"],
    )
    job = await poll_until_done(api, r.json()["id"], auth["alice"])
    assert (job["interactions_added"], job["rejected"]) == (2, 2)
    assert [(i["line"], i["column"]) for i in job["issues"]] == [(3, "airline_sentiment"), (4, "tweet_created")]

    download = await api.get(f"/api/v1/imports/{job['id']}/rejected.csv", headers=auth["alice"])

    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    got = list(csv.DictReader(io.StringIO(download.text)))
    assert [(g["tweet_id"], g["_line"], g["_column"], g["_problem"]) for g in got] == [
        ("2", "3", "airline_sentiment", "rejected"),
        ("3", "4", "tweet_created", "rejected"),
    ]
    assert got[0]["_reason"].startswith("Unknown sentiment 'furious'")
    assert got[1]["_reason"].startswith("Cannot read '24/02/2015' as a date and time")


async def test_a_dry_run_reports_what_would_happen_and_writes_nothing(api, auth, tmp_path):
    path = write_csv(tmp_path / "t.csv", TWEETS_HEADER, [tweet("1"), tweet("2", name="")])
    r = await api.post(
        "/api/v1/imports",
        files=upload(path),
        data={"kind": "interactions", "preset": "twitter-airline", "dry_run": "true"},
        headers=auth["bob"],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] is None and body["dry_run"] is True and body["status"] == "done"
    assert (body["report"]["interactions_added"], body["report"]["rejected"]) == (1, 1)
    assert await Interaction.count().run() == 0 and await ImportJob.count().run() == 0


@pytest.mark.parametrize("name", ["carol", "dave"])
async def test_agents_and_viewers_cannot_import_or_read_imports(api, auth, name, tmp_path):
    path = write_csv(tmp_path / "t.csv", TWEETS_HEADER, [tweet("1")])
    r = await api.post(
        "/api/v1/imports",
        files=upload(path),
        data=TWEETS_PRESET,
        headers=auth[name],
    )
    assert r.status_code == 403 and error(r)["code"] == "forbidden"
    assert (await api.get("/api/v1/imports/1", headers=auth[name])).status_code == 403
    assert (await api.get("/api/v1/imports/1/rejected.csv", headers=auth[name])).status_code == 403
    assert await ImportJob.count().run() == 0


async def test_an_unknown_import_is_404(api, auth):
    for url in ("/api/v1/imports/999", "/api/v1/imports/999/rejected.csv", "/api/v1/imports/99999999999"):
        r = await api.get(url, headers=auth["alice"])
        assert r.status_code == 404, url


@pytest.mark.parametrize(
    ("content", "data", "field", "words"),
    [
        (b"", {"kind": "interactions"}, "file", "empty"),
        (b"PK\x03\x04rest of a zip", {"kind": "interactions"}, "file", "zip"),
        ("name,text\nJos\xe9,caf\xe9\n".encode("cp1252"), {"kind": "members"}, "file", "cp1252"),
        (b"tweet_id,name\n", {"kind": "interactions", "preset": "twitter-airline"}, "file", "no rows"),
        (b"a,b\n1,2\n", {"kind": "interactions", "preset": "nope"}, "preset", "Unknown preset"),
        (b"a,b\n1,2\n", {"kind": "members", "preset": "twitter-airline"}, "preset", "not members"),
        (b"a,b\n1,2\n", {"kind": "people"}, "kind", "members, interactions"),
        (b"a,b\n1,2\n", {"kind": "members"}, "file", "names no column"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    api, auth, app, content, data, field, words
):
    r = await api.post("/api/v1/imports", files=upload(content, "x.csv"), data=data, headers=auth["bob"])

    assert 400 <= r.status_code < 500 and r.status_code != 404, r.text
    problem = error(r)
    assert field in problem["fields"], problem
    assert words in problem["fields"][field], problem
    assert await ImportJob.count().run() == 0
    assert not list((app.state.settings.var_dir / "imports").glob("*"))


async def test_an_unknown_saved_mapping_or_a_missing_file_is_refused_naming_the_field(api, auth):
    r = await api.post(
        "/api/v1/imports", files=upload(b"a,b\n1,2\n"), data={"kind": "members", "mapping": "nope"}, headers=auth["bob"]
    )
    assert r.status_code in (404, 422) and "mapping" in error(r)["fields"]
    r = await api.post(
        "/api/v1/imports", files={"other": ("x", b"1", "text/plain")}, data={"kind": "members"}, headers=auth["bob"]
    )
    assert r.status_code in (400, 422) and "file" in (error(r)["fields"] or {"file": error(r)["message"]})
    assert await ImportJob.count().run() == 0
