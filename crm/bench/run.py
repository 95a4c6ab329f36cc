"""``crm bench run``: each request of issue 13's table, timed against its floors (floors.py).

Reads are driven in-process (httpx's ASGI transport on this event loop: the whole app, middleware and guards
included, no sockets), as the framework floor is, so the two compare like with like. Writes go to a real
``uvicorn`` worker on loopback, sequentially and from 8 clients at once, as integrations send them. Each request
is warmed up, then timed ``rounds`` x ``repeat`` times; the report gives the median and p95 of all of them, the
statements one request ran (``db.counting_queries``), the floors and the ratio to their sum. The database is
generated first when it is empty (``--size``); otherwise its community is used as it is."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from crm import ROOT, db
from crm.accounts import tokens
from crm.app import create_app
from crm.audit.service import Actor
from crm.bench import queries
from crm.bench.console import GenerateProgress, print_results
from crm.bench.floors import BareConnection, Captured, capture_templates, framework_floor, fresh_ids, timed
from crm.bench.generate import MANAGER, generate
from crm.clock import utc_now
from crm.incidents import conversation
from crm.members.bulk import rebuild_all
from crm.settings import Settings

SIZES = {"S": (10_000, 200_000), "M": (100_000, 2_000_000), "L": (100_000, 10_000_000)}
CLIENTS = 8


@dataclass
class Read:
    name: str
    path: str


def reads(targets: dict[str, int]) -> list[Read]:
    incident, busiest, median = targets["incident"], targets["busiest"], targets["median"]
    return [
        Read("whom to brief API", f"/api/v1/incidents/{incident}/suggestions"),
        Read("incident page", f"/incidents/{incident}"),
        Read("member list page", "/members"),
        Read("member page, busiest", f"/members/{busiest}"),
        Read("member page, median", f"/members/{median}"),
        Read("member timeline API, busiest", f"/api/v1/members/{busiest}/interactions"),
        Read("dashboard", "/"),
        Read("FAQ search, common word", "/faq?q=flight"),
        Read("FAQ search, no match", "/faq?q=zebra"),
    ]


def stats(samples: list[float]) -> dict[str, float]:
    p95 = statistics.quantiles(samples, n=20)[18] if len(samples) > 1 else samples[0]
    return {"median_ms": round(statistics.median(samples), 2), "p95_ms": round(p95, 2)}


async def run(args: argparse.Namespace, *, settings: Settings, out=sys.stdout) -> int:
    engine = db.engine()
    pooled = not db.is_sqlite() and engine.pool is None
    if pooled:  # as in production (crm serve): a warm pool
        await engine.start_connection_pool(min_size=1, max_size=10)
    try:
        results = await _run(args, settings=settings, save=lambda partial: _save(args, partial))
    finally:
        if pooled:
            await engine.close_connection_pool()
    print_results(results, out)
    if args.json:
        _save(args, results)
        print(f"Results written to {args.json}.", file=out)
    return 0


def _save(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """The JSON file, rewritten after each request: a long run stopped halfway keeps what it measured."""
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")


async def _run(args: argparse.Namespace, *, settings: Settings, save) -> dict[str, Any]:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    if await queries.is_empty():
        members, interactions = SIZES[args.size]
        with GenerateProgress() as progress:
            await generate(
                members=args.members or members,
                interactions=args.interactions or interactions,
                seed=args.seed,
                now=utc_now(),
                progress=progress,
            )
    sizes, targets = await queries.sizes(), await queries.targets()
    _, token = await tokens.create_token(email=MANAGER, label="bench run", actor=Actor.system("bench"), now=utc_now())
    headers = {"Authorization": f"Bearer {token}"}
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    rows: list[dict[str, Any]] = []
    results = {"meta": _meta(settings, sizes, args), "targets": targets, "requests": rows}
    app = create_app(settings, engine=db.engine(), manage_pool=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client,
        BareConnection(settings) as bare,
    ):
        for read in reads(targets):
            if not only or read.name in only:
                rows.append(await _step(read.name, _read(read, client, bare, settings, args)))
                save(results)
        if not only or "log one interaction" in only:
            people = await queries.some_members(500)
            writes = _writes(client, bare, settings, args, headers=headers, people=people)
            written = await _step("log one interaction", writes)
            rows.extend(written if isinstance(written, list) else [written])
            save(results)
    if not args.skip_rebuild and (not only or "rollups rebuild" in only):
        rows.append(await _step("crm rollups rebuild", _rebuild()))
    return results


async def _step(name: str, work) -> Any:
    """One request's measurement; a failure is reported in its row (and on stderr) instead of ending the run."""
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        return await work
    except Exception as exc:  # a timeout or a refused request: the other rows still count
        print(f"bench: {name} failed: {exc!r}", file=sys.stderr, flush=True)
        return {"name": name, "error": repr(exc)[:300], "note": "failed"}
    finally:
        print(f"bench: {name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


async def _rebuild() -> dict[str, Any]:
    started = time.perf_counter()
    await rebuild_all()
    await conversation.rebuild_all()  # what `crm rollups rebuild` does
    seconds = time.perf_counter() - started
    return {"name": "crm rollups rebuild", "median_ms": round(seconds * 1000, 1), "note": "one run"}


def _meta(settings: Settings, sizes: dict[str, int], args: argparse.Namespace) -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "engine": "SQLite" if settings.database.engine == "sqlite" else "PostgreSQL",
        **sizes,
        # The size the database holds (a run on an existing community ignores --size).
        "size": next(
            (k for k, (m, i) in SIZES.items() if sizes["members"] == m and abs(sizes["interactions"] - i) < i / 100),
            "custom",
        ),
        "rounds": args.rounds,
        "repeat": args.repeat,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "commit": commit,
    }


async def _read(read: Read, client: httpx.AsyncClient, bare: BareConnection, settings: Settings, args) -> dict:
    async def get() -> httpx.Response:
        response = await client.get(read.path)
        if response.status_code != 200:
            raise RuntimeError(f"{read.name}: GET {read.path} answered {response.status_code}")
        return response

    await get()  # warm (and the token's last-used time written, which a read does about once a minute)
    captured = Captured()
    undo = capture_templates(captured)
    try:
        with db.counting_queries() as log:
            response = await get()
    finally:
        undo()
    if captured.template is None:
        captured.body = response.json()
    samples: list[float] = []
    for _ in range(args.rounds):
        samples += await timed(get, args.repeat)
    times = args.repeat  # the floors vary little: one round of them
    await bare.replay(log.statements)  # warm
    sql = [await bare.replay(log.statements) * 1000 for _ in range(times)]
    web = await framework_floor(captured, settings, times)
    return _row(read.name, samples, log.count, sql, web)


def _row(name: str, samples: list[float], count: int | None, sql: list[float], web: list[float], **more) -> dict:
    row: dict[str, Any] = {"name": name, **stats(samples), "queries": count, **more}
    floor = 0.0
    if sql:
        row["sql_floor_ms"] = round(statistics.median(sql), 3)
        floor += row["sql_floor_ms"]
    if web:
        row["framework_floor_ms"] = round(statistics.median(web), 3)
        floor += row["framework_floor_ms"]
    if floor:
        row["ratio_to_floor"] = round(row["median_ms"] / floor, 2)
    return row


def _interaction(member_id: int, external_id: str) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "platform": "x",
        "kind": "comment",
        "occurred_at": (utc_now() - timedelta(minutes=1)).isoformat(),
        "sentiment": "positive",
        "text": "Loved how the crew handled the delay today.",
        "external_id": external_id,
    }


async def _writes(client, bare: BareConnection, settings: Settings, args, *, headers, people: list[int]) -> list[dict]:
    """Log one interaction: the statements captured in-process (for the count and the SQL floor), then timed on a
    real server, one client after the other and 8 at once, each write for the next of ``people`` (as an
    integration's writes are spread over the community)."""
    member_id = people[0]
    run_id = f"bench-{int(time.time() * 1000)}"
    captured = Captured()
    with db.counting_queries() as log:
        response = await client.post("/api/v1/interactions", json=_interaction(member_id, f"{run_id}-capture"))
    if response.status_code != 201:
        raise RuntimeError(f"log one interaction answered {response.status_code}: {response.text[:300]}")
    captured.body = response.json()
    times = args.rounds * args.repeat
    sql = []
    for n in range(times + 1):
        statements = fresh_ids(log.statements, f"{run_id}-capture", f"{run_id}-floor-{n}")
        sql.append(await bare.replay(statements, write=True) * 1000)
    sql = sql[1:]  # the first warmed the connection
    web = await framework_floor(captured, settings, times)
    timeout = httpx.Timeout(120)  # a slow write is measured, not abandoned
    async with (
        serve(settings) as base_url,
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout) as server,
    ):
        counter = iter(range(10**9))

        async def post(c: httpx.AsyncClient) -> None:
            n = next(counter)
            response = await c.post("/api/v1/interactions", json=_interaction(people[n % len(people)], f"{run_id}-{n}"))
            if response.status_code != 201:
                raise RuntimeError(f"log one interaction answered {response.status_code}: {response.text[:300]}")

        await post(server)  # warm
        sequential: list[float] = []
        for _ in range(args.rounds):
            sequential += await timed(lambda: post(server), args.repeat)
        clients = [httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout) for _ in range(CLIENTS)]
        try:
            started = time.perf_counter()
            parallel = await asyncio.gather(*(timed(lambda c=c: post(c), times) for c in clients))
            elapsed = time.perf_counter() - started
        finally:
            for c in clients:
                await c.aclose()
    together = [ms for one in parallel for ms in one]
    rate = len(together) / elapsed
    return [
        _row("log one interaction (API, sequential)", sequential, log.count, sql, web, note="real server"),
        _row(
            f"log one interaction ({CLIENTS} clients)",
            together,
            log.count,
            [],
            [],
            per_second=round(rate, 1),
            note=f"{rate:,.0f}/s, real server",
        ),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serve(settings: Settings):
    """A real ``crm serve`` (uvicorn, one worker) on loopback, on the benchmark's database; yields its URL."""
    port = _free_port()
    url = settings.database.url
    if settings.database.sqlite_path is not None:
        url = f"sqlite:///{settings.database.sqlite_path.resolve()}"
    env = {**os.environ, "CRM_DATABASE_URL": url, "CRM_SECRET_KEY": settings.secret_key, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "uvicorn", "crm.app:create_app_from_env", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url) as probe:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await probe.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bench server did not start")
                await asyncio.sleep(0.1)  # waiting for start-up, not timing anything
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
