"""Files that are not CSV text are refused at once, with a clear message, and nothing is written."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from crm.audit.tables import AuditEntry
from crm.errors import InvalidInput
from crm.imports.tables import ImportJob
from crm.members.tables import Interaction, Member
from tests.imports.conftest import import_file

CP1252 = "handle,date,text\njane,2026-01-01T10:00:00Z,Caf\u00e9 cr\u00e8me \u2013 \u20ac5\n".encode("cp1252")


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sheet.xml", "<sheet/>")
    return buffer.getvalue()


REFUSED = [
    (b"", {}, "The file is empty."),
    (b"\n\n  \n", {}, "The file is empty."),
    (b"\xef\xbb\xbf", {}, "The file is empty."),  # a BOM and nothing else
    (b"handle,date,text\n", {}, "The file has a header but no rows."),
    (b"handle,date,text\n\n\n", {}, "The file has a header but no rows."),
    (CP1252, {}, "The file is not UTF-8 text (line 2 has the byte 0xE9). It looks like Windows-1252 (cp1252)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, "This is a PNG image, not a CSV file."),
    (zipped(), {}, "This is a zip archive (an Excel .xlsx workbook?), not a CSV file: save it as CSV UTF-8 first."),
    (gzip.compress(b"handle,date\njane,2026-01-01\n"), {}, "This file is gzip-compressed: unpack it first."),
    (b"handle,date\x00,text\njane,2026-01-01,hi\n", {}, "This is a binary file, not CSV text."),
    ("handle,date\n".encode("utf-16"), {}, "This file is UTF-16 text: save it as UTF-8"),
    (b'[{"handle": "jane"}]', {}, "This looks like JSON, not CSV."),
    (b"<html><body>login</body></html>", {}, "This looks like HTML or XML, not CSV."),
    (b",,\njane,2026-01-01,hi\n", {}, "The first line is empty: the file needs a header row naming its columns."),
    (b"handle,date,handle\njane,2026-01-01,j\n", {}, "The header names the column 'handle' twice"),
    (
        b"570306133677760513,neutral,1.0,,,Virgin America,,cairdin,,0,hi,,2015-02-24 11:35:52 -0800,,\n"
        b"570301130888122368,positive,0.3486,,0.0,Virgin America,,jnardino,,0,ho,,2015-02-24 11:15:59 -0800,,\n",
        {"preset": "twitter-airline"},
        "The first row is not a header: it names none of the columns this mapping reads",
    ),
    (
        b"tweet_id,name,text\n1,jane,hi\n",
        {"preset": "twitter-airline"},
        "The file has no column 'airline_sentiment'",
    ),
    (b"handle,what\njane,hi\n", {"options": {"platform": "x"}}, "Map a column to occurred_at (when it happened)."),
    (b"jane,2026-01-01,hi\nbob,2026-01-02,ho\n", {}, "The first row names no column this CRM knows"),
]


@pytest.mark.parametrize(("content", "how", "message"), REFUSED, ids=[m[:40] for _, _, m in REFUSED])
async def test_it_refuses_the_file_with_a_clear_message_and_writes_nothing(engine, clock, content, how, message):
    source = io.BytesIO(content)
    with pytest.raises(InvalidInput) as refused:
        await import_file(source, clock, file_name="upload.csv", **how)

    error = refused.value
    assert error.message.startswith(message), error.message
    assert set(error.fields) <= {"file", "columns"}
    for table in (ImportJob, Member, Interaction, AuditEntry):
        assert await table.count().run() == 0


async def test_a_dry_run_refuses_the_same_files(engine, clock):
    with pytest.raises(InvalidInput, match="not UTF-8"):
        await import_file(io.BytesIO(CP1252), clock, dry_run=True)


async def test_a_cp1252_file_imports_when_its_encoding_is_chosen(engine, clock):
    report = await import_file(io.BytesIO(CP1252), clock, options={"platform": "x", "encoding": "cp1252"})

    assert report.interactions_added == 1
    row = await Interaction.select(Interaction.text).first().run()
    assert row["text"] == "Caf\u00e9 cr\u00e8me \u2013 \u20ac5"


async def test_a_latin1_only_file_is_offered_latin1(engine, clock):
    content = b"handle,date,text\njane,2026-01-01T10:00:00Z,control \x81 byte \xe9\n"  # 0x81 is not cp1252

    with pytest.raises(InvalidInput, match=r"It looks like Latin-1 \(ISO-8859-1\).*encoding latin-1"):
        await import_file(io.BytesIO(content), clock, options={"platform": "x"})


async def test_a_bad_byte_deep_in_a_large_file_is_found_before_anything_is_written(engine, clock):
    good = "".join(f"user{n},2026-01-01T10:00:00Z,message {n}\n" for n in range(30_000))
    content = ("handle,date,text\n" + good).encode() + b"late,2026-01-01T10:00:00Z,caf\xe9\n"

    with pytest.raises(InvalidInput, match="line 30002 has the byte 0xE9"):
        await import_file(io.BytesIO(content), clock, options={"platform": "x"})
    assert await Interaction.count().run() == 0 and await ImportJob.count().run() == 0
