"""Mappings: the guess from a header, how dates, sentiments, yes/no cells and time zones are read, and
mappings saved under a name and used again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crm.audit.tables import AuditEntry
from crm.errors import InvalidInput, NotFound
from crm.imports import mappings, presets, service, zones
from crm.imports.mapping import compile_mapping, parse_bool
from crm.imports.schemas import Mapping
from crm.imports.vocab import IGNORE
from crm.members.tables import Interaction, Member
from tests.imports.conftest import TWEETS_HEADER, import_file, tweet_rows, write_csv


def test_the_guess_from_the_tweets_header_reads_what_the_preset_reads():
    guessed = presets.guess_mapping("interactions", TWEETS_HEADER)
    preset = presets.TWITTER_AIRLINE

    used = {c: f for c, f in guessed.columns.items() if f != IGNORE}
    assert used == {c: f for c, f in preset.columns.items() if f != IGNORE}


def test_the_guess_maps_common_names_once_each():
    header = ["ID", "Date", "Author", "Network", "Message", "Sentiment Score", "Type", "Link", "Email", "Unrelated"]
    guessed = presets.guess_mapping("interactions", header)

    assert guessed.columns == {
        "ID": "external_id",
        "Date": "occurred_at",
        "Author": "handle",
        "Network": "platform",
        "Message": "text",
        "Sentiment Score": IGNORE,  # not an exact synonym: left for the user to map
        "Type": "kind",
        "Link": "url",
        "Email": "member_email",
        "Unrelated": IGNORE,
    }


@pytest.mark.parametrize(
    ("cell", "thresholds", "extra", "expected"),
    [
        ("positive", (0, 0), {}, "positive"),
        (" POS ", (0, 0), {}, "positive"),
        ("Negative", (0, 0), {}, "negative"),
        ("neu", (0, 0), {}, "neutral"),
        ("", (0, 0), {}, "unknown"),
        ("Can't tell", (0, 0), {}, "unknown"),
        ("0.7", (0, 0), {}, "positive"),
        ("-0.2", (0, 0), {}, "negative"),
        ("0", (0, 0), {}, "neutral"),
        ("+1", (0, 0), {}, "positive"),
        ("2", (2.5, 3.5), {}, "negative"),
        ("3", (2.5, 3.5), {}, "neutral"),
        ("5", (2.5, 3.5), {}, "positive"),
        ("love it", (0, 0), {"Love it": "positive"}, "positive"),
        ("pos", (0, 0), {"pos": "negative"}, "negative"),  # the mapping's words win
    ],
)
def test_it_reads_sentiment_words_and_numbers(cell, thresholds, extra, expected):
    mapping = Mapping(
        kind="interactions",
        columns={"h": "handle", "d": "occurred_at"},
        platform="x",
        sentiment_thresholds=thresholds,
        sentiment_values=extra,
    )
    assert compile_mapping(mapping, ["h", "d"]).read_sentiment(cell) == expected


@pytest.mark.parametrize("cell", ["furious", "nan", "inf", "1e999"])
def test_it_refuses_a_sentiment_it_cannot_read(cell):
    mapping = Mapping(kind="interactions", columns={"h": "handle", "d": "occurred_at"}, platform="x")
    with pytest.raises(ValueError, match="Unknown sentiment"):
        compile_mapping(mapping, ["h", "d"]).read_sentiment(cell)


@pytest.mark.parametrize(
    ("cell", "fmt", "zone", "expected"),
    [
        ("2026-03-01T14:00:00+01:00", "iso", "UTC", datetime(2026, 3, 1, 13, tzinfo=UTC)),
        ("2026-03-01T14:00:00Z", "iso", "Europe/Paris", datetime(2026, 3, 1, 14, tzinfo=UTC)),
        ("2026-03-01 14:00", "iso", "Europe/Paris", datetime(2026, 3, 1, 13, tzinfo=UTC)),
        ("2026-07-01 14:00", "iso", "Europe/Paris", datetime(2026, 7, 1, 12, tzinfo=UTC)),  # summer time
        ("2026-03-01", "iso", "-05:00", datetime(2026, 3, 1, 5, tzinfo=UTC)),
        ("01/03/2026 14:00", "%d/%m/%Y %H:%M", "+0200", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ("2015-02-24 11:35:52 -0800", "%Y-%m-%d %H:%M:%S %z", "UTC", datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)),
        (
            "2015-02-24 11:35:52",
            "%Y-%m-%d %H:%M:%S",
            "Pacific Time (US & Canada)",
            datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC),
        ),
    ],
)
def test_it_reads_dates_as_the_mapping_says(cell, fmt, zone, expected):
    mapping = Mapping(
        kind="interactions",
        columns={"h": "handle", "d": "occurred_at"},
        platform="x",
        date_format=fmt,
        default_zone=zone,
    )
    assert compile_mapping(mapping, ["h", "d"]).read_date(cell) == expected


def test_yes_no_cells():
    assert [parse_bool(v) for v in ("yes", "Y", "1", "true", "x", "no", "", "0", "False")] == [True] * 5 + [False] * 4
    with pytest.raises(ValueError):
        parse_bool("maybe")


def test_every_friendly_zone_name_is_a_real_zone_and_the_tweets_zones_are_placed():
    assert all(ZoneInfo(zone) for zone in zones.FRIENDLY.values())
    assert zones.to_iana("Eastern Time (US & Canada)") == "America/New_York"
    assert zones.to_iana("America/Chicago") == "America/Chicago"
    assert zones.to_iana("Atlantis") == "" and zones.to_iana("") == ""
    in_file = {r["user_timezone"] for r in tweet_rows()} - {""}
    assert {name for name in in_file if not zones.to_iana(name)} == set()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"columns": {"h": "handle", "d": "occurred_at", "x": "favourite_colour"}}, "columns.x"),
        ({"columns": {"h": "handle", "d": "occurred_at", "x": "handle"}}, "columns.x"),
        ({"columns": {"h": "handle"}}, "columns"),
        ({"platform": ""}, "platform"),
        ({"platform": "myspace"}, "platform"),
        ({"date_format": "dd/mm/yyyy"}, "date_format"),
        ({"default_zone": "Mars/Olympus"}, "default_zone"),
        ({"sentiment_values": {"meh": "lukewarm"}}, "sentiment_values"),
        ({"sentiment_thresholds": (3.0, 1.0)}, "sentiment_thresholds"),
        ({"url_template": "https://x.com/{handle}/{secret}"}, "url_template"),
        ({"url_template": "javascript:{handle}"}, "url_template"),
        ({"encoding": "utf-16"}, "encoding"),
        ({"kind_default": "like"}, "kind_default"),
    ],
)
def test_it_refuses_a_mapping_naming_what_is_wrong(change, field):
    values = {"kind": "interactions", "columns": {"h": "handle", "d": "occurred_at"}, "platform": "x", **change}
    with pytest.raises(InvalidInput) as refused:
        compile_mapping(Mapping(**values), ["h", "d", "x"])
    assert field in refused.value.fields


async def test_a_saved_mapping_is_used_by_name(engine, clock, tmp_path, users):
    mapping = Mapping(
        kind="interactions",
        columns={"Who": "handle", "When": "occurred_at", "Mood": "sentiment", "Said": "text"},
        platform="forum",
        date_format="%d.%m.%Y %H:%M",
        default_zone="Europe/Berlin",
        sentiment_values={"happy": "positive", "grumpy": "negative"},
    )
    alice = service.Actor(user_id=users["alice"]["id"], label="alice")
    await mappings.save_mapping(name="Forum export", mapping=mapping, actor=alice, now=clock())
    path = write_csv(
        tmp_path / "forum.csv", ["Who", "When", "Mood", "Said"], [["kai", "24.12.2025 18:30", "grumpy", "late"]]
    )

    report = await import_file(path, clock, mapping_name="Forum export")

    assert report.interactions_added == 1
    row = await Interaction.select().first().run()
    assert (row["platform"], row["sentiment"]) == ("forum", "negative")
    assert row["occurred_at"] == datetime(2025, 12, 24, 18, 30, tzinfo=timezone(timedelta(hours=1)))
    assert await AuditEntry.count().where(AuditEntry.action == "import_mapping.save").run() == 1

    # Saved again under the same name: replaced. A mapping of the other kind, or an unknown name, is refused.
    await mappings.save_mapping(name="Forum export", mapping=mapping, actor=alice, now=clock())
    with pytest.raises(InvalidInput, match="reads interactions, not members"):
        await import_file(path, clock, kind="members", mapping_name="Forum export")
    with pytest.raises(NotFound):
        await import_file(path, clock, mapping_name="No such mapping")
    await mappings.delete_mapping(name="Forum export", actor=alice, now=clock())
    assert await mappings.mapping_for(kind="interactions") is None
    assert await Member.count().run() == 1


async def test_a_preset_of_the_other_kind_is_refused(engine, clock, tmp_path):
    with pytest.raises(InvalidInput, match="reads interactions, not members"):
        await import_file(tmp_path / "x.csv", clock, kind="members", preset="twitter-airline")
