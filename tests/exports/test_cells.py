"""crm.formatting.csv_cell, the one function every CSV the app writes passes its cells through: what a spreadsheet
would run as a formula becomes plain text, and csv_plain (the crm import preset) gives back exactly what it had."""

from __future__ import annotations

import pytest

from crm.formatting import csv_cell, csv_plain
from crm.imports.rejected import rejected_cells, rejected_header
from crm.imports.schemas import Issue


@pytest.fixture(autouse=True)
async def _pool():
    """No database here."""
    yield


DANGEROUS = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\uff1dcmd()",  # full-width = + - @
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
    " =1+1",  # spreadsheets skip leading spaces...
    "\u00a0\u3000+1",
    "\n-1",
    "\u200b=1",  # ...and zero-width characters
    "\u200c+1",
    "\u200d-1",
    "\ufeff@x",
    "\u2060=1",
    " \u200b \ufeff=1",
    "\tanything",  # tab and carriage return at the start, whatever follows
    "\ranything",
    "'quoted",  # the quote itself: escaped so that csv_plain can take exactly one off
    "'=1",
]
HARMLESS = ["plain", "1-2", "a=b", "x@y.z", "  spaced", "\u200bword", "", "100%", "*bold*", "word\t", "é=1"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_cell_a_spreadsheet_would_run_gets_a_quote_in_front(text):
    assert csv_cell(text) == "'" + text
    assert csv_plain(csv_cell(text)) == text


@pytest.mark.parametrize("text", HARMLESS)
def test_a_harmless_cell_is_left_as_it_is(text):
    assert csv_cell(text) == text and csv_plain(text) == text


def test_values_that_are_not_text_are_left_to_the_writer():
    assert csv_cell(-1) == -1 and csv_cell(-2.5) == -2.5 and csv_cell(None) is None


def test_rejected_rows_are_written_through_it_too():
    issue = Issue(line=3, problem="rejected", column="=bad", reason="-why", cells=["@danaw", "=cmd()", "ok"])

    assert rejected_header(["@handle", "text", "x"])[:3] == ["'@handle", "text", "x"]
    assert rejected_cells(["@handle", "text", "x"], issue) == [
        "'@danaw",
        "'=cmd()",
        "ok",
        "3",
        "'=bad",
        "rejected",
        "'-why",
    ]
