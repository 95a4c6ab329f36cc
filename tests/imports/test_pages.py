"""The import pages with the test client: upload, preview with a guessed mapping, map a column by hand, save the
mapping, start; the job page refreshes itself while the job waits or runs, then shows the report and the
rejected rows. Refusals: roles, CSRF, bad files and bad mappings (the form again, the message next to the field,
nothing written)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from crm.audit.service import Actor
from crm.imports import demo, queries
from crm.imports.mappings import to_mapping
from crm.imports.tables import ImportJob, ImportMapping
from crm.members.tables import Interaction, Member
from tests.conftest import csrf
from tests.imports.conftest import tweets_subset, write_csv

SHEET = ["user", "when", "said", "feeling", "extra"]
ROWS = [
    ["ana", "2026-02-01 10:00", "Love the new app", "yay", "x"],
    ["ben", "2026-02-01 11:00", "Lost my bag", "grr", "y"],
    ["ana", "yesterday", "Bad date", "yay", "z"],  # line 4: rejected
    ["cleo", "2026-02-02 09:30", "Hmm", "", ""],
]


async def upload(client, content: bytes, *, kind="interactions", source="", encoding="utf-8", name="sheet.csv"):
    return await client.post(
        "/imports",
        files={"file": (name, content, "text/csv")},
        data={"kind": kind, "source": source, "encoding": encoding, "_csrf_token": await csrf(client)},
    )


def hidden_and_selects(body: str) -> dict[str, str]:
    """The mapping form's values as the browser would send them (hidden inputs, the selected options, inputs)."""
    values = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
    for name, options in re.findall(r'<select id="f-[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', body, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        values[name] = chosen.group(1) if chosen else ""
    for name, value in re.findall(r'<input id="f-([^"]+)" name="[^"]+" type="text" value="([^"]*)"', body):
        values[name] = value
    return {k: _unescape(v) for k, v in values.items() if k != "_csrf_token"}


def _unescape(text: str) -> str:
    return text.replace("&#34;", '"').replace("&quot;", '"').replace("&#39;", "'").replace("&amp;", "&")


@pytest.fixture
async def bob(as_user, app):
    client = await as_user("bob")
    yield client
    await app.state.imports.stop()


def sheet(tmp_path) -> bytes:
    return write_csv(tmp_path / "sheet.csv", SHEET, ROWS).read_bytes()


async def test_upload_map_a_column_save_the_mapping_and_watch_the_job_finish(bob, app, tmp_path):
    shown = await upload(bob, sheet(tmp_path))

    assert shown.status_code == 200, shown.text
    body = shown.text
    assert "Love the new app" in body and "Lost my bag" in body  # the preview
    form = hidden_and_selects(body)
    # Guessed from the header: "user" is a handle; "when", "said" and "feeling" are not known names. Map by hand:
    assert (form["col_0"], form["col_1"], form["col_3"]) == ("handle", "ignore", "ignore")
    form.update(
        col_1="occurred_at",
        col_2="text",
        col_3="sentiment",
        platform="instagram",
        date_format="%Y-%m-%d %H:%M",
        default_zone="Europe/Paris",
        sentiment_values="yay = positive\ngrr = negative",
        save_as="Our sheet",
        _csrf_token=await csrf(bob),
    )
    app.state.imports.concurrency = 0  # hold the job in the queue to see the waiting page

    started = await bob.post("/imports/start", data=form)

    assert started.status_code == 303, started.text
    job_url = started.headers["location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    waiting = await bob.get(job_url)
    assert waiting.status_code == 200 and waiting.headers["refresh"] == "2"
    assert 'data-status="queued"' in waiting.text

    app.state.imports.concurrency = 2
    app.state.imports.kick()
    await app.state.imports.drain()

    done = await bob.get(job_url)
    assert "refresh" not in done.headers and 'data-status="done"' in done.text
    assert re.search(r'id="count-interactions_added">3<', done.text)
    assert re.search(r'id="count-rejected">1<', done.text)
    assert "yesterday" in done.text and "<td>4</td>" in done.text  # the rejected row's line and reason
    sentiments = {r["text"]: r["sentiment"] for r in await Interaction.select().run()}
    assert sentiments == {"Love the new app": "positive", "Lost my bag": "negative", "Hmm": "unknown"}
    assert await Member.count().run() == 3
    saved = await queries.get_mapping("Our sheet")
    assert saved["kind"] == "interactions" and to_mapping(saved["mapping"]).columns["feeling"] == "sentiment"
    assert (await queries.get_job(job_id))["mapping_name"] == "Our sheet"

    download = await bob.get(f"/imports/{job_id}/rejected.csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["user"], r["_line"], r["_column"]) for r in rows] == [("ana", "4", "when")]
    listed = await bob.get("/imports")
    assert f'href="/imports/{job_id}"' in listed.text and "sheet.csv" in listed.text

    # The saved mapping reads the next file of the same shape, and is offered on the form.
    assert 'value="mapping:Our sheet"' in listed.text
    again = await upload(bob, sheet(tmp_path), source="mapping:Our sheet")
    assert hidden_and_selects(again.text)["col_3"] == "sentiment"


async def test_a_preset_fills_in_the_mapping(bob, tmp_path):
    shown = await upload(bob, tweets_subset(tmp_path / "t.csv", 3).read_bytes(), source="preset:twitter-airline")

    form = hidden_and_selects(shown.text)
    assert shown.status_code == 200
    assert (form["platform"], form["date_format"]) == ("x", "%Y-%m-%d %H:%M:%S %z")
    header = dict(zip(["tweet_id", "airline_sentiment"], [form["col_0"], form["col_1"]], strict=True))
    assert header == {"tweet_id": "external_id", "airline_sentiment": "sentiment"}


@pytest.mark.parametrize(
    ("content", "data", "field", "words"),
    [
        (b"", {}, "file", "The file is empty."),
        (b"PK\x03\x04zip", {}, "file", "zip archive"),
        ("who,said\nJos\xe9,caf\xe9\n".encode("cp1252"), {}, "file", "choosing the encoding cp1252"),
        (b"a,b\n1,2\n", {}, "file", "names no column"),
        (b"tweet_id,name\n", {"source": "preset:twitter-airline"}, "file", "no rows"),
        (b"a,b\n1,2\n", {"source": "mapping:Nope"}, "source", "No such mapping"),
        (b"a,b\n1,2\n", {"kind": "people"}, "kind", "Choose one of"),
    ],
)
async def test_a_bad_file_re_renders_the_form_with_the_message_next_to_the_field(bob, app, content, data, field, words):
    r = await upload(bob, content, **data)

    assert r.status_code == 422, r.text
    assert re.search(rf'<p id="e-{field}" class="error">[^<]*{re.escape(words)}', r.text.replace("&#39;", "'")), r.text
    assert await ImportJob.count().run() == 0
    assert not list((app.state.settings.var_dir / "imports").glob("*"))


async def test_a_bad_mapping_re_renders_the_mapping_form_and_writes_nothing(bob, app, tmp_path):
    form = hidden_and_selects((await upload(bob, sheet(tmp_path))).text)
    base = {**form, "col_0": "handle", "col_1": "occurred_at", "platform": "x", "save_as": "Kept?"}
    cases = [
        ({"col_1": "ignore"}, "columns", "occurred_at"),
        ({"col_2": "handle"}, "col_2", "choose one"),
        ({"date_format": "dd/mm"}, "date_format", "format with % codes"),
        ({"default_zone": "Mars/Olympus"}, "default_zone", "Unknown time zone"),
        ({"platform": ""}, "platform", "say which platform"),
        ({"sentiment_values": "yay positive"}, "sentiment_values", "one per line"),
        ({"sentiment_values": "yay = great"}, "sentiment_values", "great"),
        ({"save_as": "x" * 101}, "save_as", "1 to 100 characters"),
    ]
    for change, field, words in cases:
        r = await bob.post("/imports/start", data={**base, **change, "_csrf_token": await csrf(bob)})
        assert r.status_code == 422, (change, r.text[:500])
        message = re.search(rf'id="e-{field}" class="error">([^<]*)<', r.text)
        assert message and words in _unescape(message.group(1)), (change, message)
        assert "Love the new app" in r.text  # the preview is still there
    assert await ImportJob.count().run() == 0 and await ImportMapping.count().run() == 0

    forged = await bob.post(
        "/imports/start", data={**base, "token": "../../etc/passwd", "_csrf_token": await csrf(bob)}
    )
    assert forged.status_code == 422 and "upload it again" in forged.text


async def test_forms_need_the_csrf_token(bob, tmp_path):
    r = await bob.post("/imports", files={"file": ("s.csv", sheet(tmp_path), "text/csv")}, data={"kind": "members"})
    assert r.status_code == 403
    r = await bob.post("/imports/start", data={"token": "0" * 32, "kind": "members"})
    assert r.status_code == 403
    assert await ImportJob.count().run() == 0


@pytest.mark.parametrize("name", ["carol", "dave"])
async def test_agents_and_viewers_get_403_and_no_link(as_user, name, tmp_path):
    client = await as_user(name)
    assert (await client.get("/imports")).status_code == 403
    assert (await client.get("/imports/1")).status_code == 403
    assert (await client.get("/imports/1/rejected.csv")).status_code == 403
    r = await client.post(
        "/imports",
        files={"file": ("s.csv", sheet(tmp_path), "text/csv")},
        data={"kind": "members", "_csrf_token": await csrf(client)},
    )
    assert r.status_code == 403
    assert 'href="/imports"' not in (await client.get("/")).text
    assert await ImportJob.count().run() == 0


async def test_managers_and_admins_see_the_link_and_unknown_imports_are_404(as_user):
    for name in ("alice", "bob"):
        client = await as_user(name)
        assert 'href="/imports"' in (await client.get("/")).text
        assert (await client.get("/imports/999")).status_code == 404
        assert (await client.get("/imports/999/rejected.csv")).status_code == 404


async def test_a_failed_import_can_be_tried_again(bob, app, tmp_path):
    form = hidden_and_selects((await upload(bob, sheet(tmp_path))).text)
    form.update(col_0="handle", col_1="occurred_at", platform="x", date_format="%Y-%m-%d %H:%M")
    app.state.imports.concurrency = 0
    started = await bob.post("/imports/start", data={**form, "_csrf_token": await csrf(bob)})
    job_id = int(started.headers["location"].rsplit("/", 1)[1])
    refused = await bob.post(f"/imports/{job_id}/retry", data={"_csrf_token": await csrf(bob)})
    assert refused.status_code == 409  # only a failed import
    await ImportJob.update({ImportJob.status: "failed", ImportJob.error: "boom"}).where(ImportJob.id == job_id).run()
    assert "Try again" in (await bob.get(f"/imports/{job_id}")).text

    retried = await bob.post(f"/imports/{job_id}/retry", data={"_csrf_token": await csrf(bob)})
    assert retried.status_code == 303
    app.state.imports.concurrency = 2
    app.state.imports.kick()
    await app.state.imports.drain()
    assert (await queries.get_job(job_id))["status"] == "done"


async def test_the_demo_import_shows_in_the_list(bob, clock, users):
    message = await demo.load(clock(), Actor.system("demo"))

    assert "import job" in message
    listed = (await bob.get("/imports")).text
    assert "Tweets.csv (" in listed and "times shifted" in listed
