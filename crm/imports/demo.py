"""Demo tweets: the airline data set's tweets to one airline, through the import service (so a new user finds an
import job in the data), shifted in time so the newest one is an hour old."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from crm.audit.service import Actor
from crm.imports import service
from crm.members.demo import AIRLINE, TWEETS

FORMAT = "%Y-%m-%d %H:%M:%S %z"


def shifted_tweets(now: datetime) -> bytes:
    """The airline's rows of Tweets.csv as CSV, their times moved so the newest is an hour before ``now``."""
    with TWEETS.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        rows = [r for r in reader if r["airline"] == AIRLINE]
    times = [datetime.strptime(r["tweet_created"], FORMAT) for r in rows]
    shift = timedelta(seconds=int(((now - timedelta(hours=1)) - max(times)).total_seconds()))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row, at in zip(rows, times, strict=True):
        writer.writerow({**row, "tweet_created": (at + shift).strftime(FORMAT)})
    return out.getvalue().encode()


async def load(now: datetime, actor: Actor) -> str:
    if not TWEETS.exists():
        return f"Tweets not found at {TWEETS}; skipped."
    report = await service.run_import(
        kind="interactions",
        source=io.BytesIO(shifted_tweets(now)),
        file_name=f"Tweets.csv ({AIRLINE}, times shifted)",
        preset="twitter-airline",
        actor=actor,
        clock=lambda: now,
    )
    return (
        f"Tweets to @{AIRLINE.replace(' ', '')}: {report.interactions_added} interactions added from "
        f"{report.rows_read} rows (import job {report.job_id}; times shifted so the newest is an hour old; "
        "repeats are recognised by tweet id)."
    )
