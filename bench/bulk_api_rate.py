"""The bulk API's rate on the whole Tweets.csv, against the import of the same file (not a test; prints both).

    CRM_DATABASE_URL=sqlite:///var/bench.sqlite python bench/bulk_api_rate.py 500 1000

The database is emptied first (see bench/import_rate.py): point it at a throwaway one. For each batch size it
posts every row of Tweets.csv, mapped by the twitter-airline preset and kept to the single endpoint's fields, to
``POST /api/v1/interactions/bulk`` in the app (in-process ASGI transport: no network, but the body is encoded,
read, decoded, checked and answered as a real request's is), then imports the file with ``run_import``.
"""

from __future__ import annotations

import asyncio
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_rate import empty  # noqa: E402
from crm import db, wiring  # noqa: E402
from crm.accounts import service as accounts  # noqa: E402
from crm.accounts import tokens  # noqa: E402
from crm.app import create_app  # noqa: E402
from crm.audit.service import Actor  # noqa: E402
from crm.clock import utc_now  # noqa: E402
from crm.imports import service  # noqa: E402
from crm.imports.mapping import BUILT_URL, compile_mapping  # noqa: E402
from crm.imports.presets import preset  # noqa: E402
from crm.members.demo import TWEETS  # noqa: E402
from crm.members.schemas import InteractionCreate  # noqa: E402
from crm.members.tables import Interaction  # noqa: E402
from crm.migrate import migrate  # noqa: E402
from crm.settings import DatabaseURL, Settings  # noqa: E402

FIELDS = [f.encode_name for f in msgspec.structs.fields(InteractionCreate)]


def items() -> list[dict]:
    with TWEETS.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        compiled = compile_mapping(preset("twitter-airline", "interactions"), header)
        out = []
        for cells in reader:
            values, _ = compiled.convert(cells)
            values["url"] = values.pop(BUILT_URL, None)
            out.append({name: values[name] for name in FIELDS if values.get(name) not in (None, "")})
        return out


async def main(batches: list[int]) -> None:
    url = DatabaseURL.parse(os.environ.get("CRM_DATABASE_URL", "sqlite:///var/bench.sqlite"), base=Path.cwd())
    wiring.connect()
    engine = db.make_engine(url)
    db.bind(engine)
    await db.start(engine)
    await migrate()
    rows = items()
    settings = Settings(
        database=url,
        secret_key="bench-" + "x" * 40,
        env="development",
        timezone="UTC",
        var_dir=Path(tempfile.mkdtemp()),
    )
    app = create_app(settings, engine=engine, manage_pool=False)
    try:
        for size in batches:
            await empty(engine)
            await accounts.create_user(
                email="bench@example.com", name="Bench", role="manager", password="quiet-harbour-lantern-1987",
                actor=Actor.system("bench"), now=utc_now(),
            )  # fmt: skip
            _, token = await tokens.create_token(
                email="bench@example.com", label="bench", actor=Actor.system("bench"), now=utc_now()
            )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                started = time.perf_counter()
                for start in range(0, len(rows), size):
                    body = msgspec.json.encode(rows[start : start + size])
                    response = await client.post(
                        "/api/v1/interactions/bulk",
                        content=body,
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    )
                    assert response.status_code == 200, response.text
                seconds = time.perf_counter() - started
            assert await Interaction.count().run() == 14_485
            requests = -(-len(rows) // size)
            print(
                f"{url.engine:<8} bulk API, {size:>5} per request: {len(rows) / seconds:>7,.0f} rows/s "
                f"({seconds:.1f} s, {1000 * seconds / requests:.0f} ms a request)",
                flush=True,
            )
        await empty(engine)
        started = time.perf_counter()
        await service.run_import(
            kind="interactions", source=TWEETS, preset="twitter-airline", actor=Actor.system("bench"), clock=utc_now
        )
        seconds = time.perf_counter() - started
        print(f"{url.engine:<8} import (1,000 a batch):  {len(rows) / seconds:>7,.0f} rows/s ({seconds:.1f} s)")
    finally:
        await db.stop(engine)


if __name__ == "__main__":
    asyncio.run(main([int(n) for n in sys.argv[1:]] or [500, 1000]))
