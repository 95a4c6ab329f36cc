"""The floors a request is compared with, measured in the same run:

- **SQL floor**: the statements the request ran (recorded by ``db.counting_queries``), with the same arguments,
  replayed on one bare, warm driver connection (aiosqlite with the app's connection settings, or asyncpg): no ORM,
  no pool, no transaction logic. A write's statements are replayed in a transaction that is rolled back, with its
  unique external id replaced by a fresh one each time.
- **Framework floor**: a bare Litestar app (no middleware, guards, dependencies or database) whose one handler
  returns what the request returned: the same template with the same context (rows included), or the same JSON.

Each floor is timed ``repeat`` times (one round: they vary little) and its median is used.

Their sum is what a request could cost with no work of ours in between; the report gives the ratio to it."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
import asyncpg
import httpx
from litestar import Litestar, Request, Response, get
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

from crm import ROOT, db
from crm.settings import Settings
from crm.templating import configure_environment

Statements = list[tuple[str, list[Any]]]


class Captured:
    """What one request answered: a template and its context, or a JSON body."""

    def __init__(self) -> None:
        self.template: str | None = None
        self.context: dict[str, Any] = {}
        self.body: Any = None


def capture_templates(captured: Captured):
    """Patch Template.to_asgi_response to note the template and context it renders; returns the undo."""
    original = Template.to_asgi_response

    def noting(self, *args: Any, **kwargs: Any):
        captured.template, captured.context = self.template_name, dict(self.context)
        return original(self, *args, **kwargs)

    Template.to_asgi_response = noting  # type: ignore[method-assign]

    def undo() -> None:
        Template.to_asgi_response = original  # type: ignore[method-assign]

    return undo


def bare_app(captured: Captured, settings: Settings) -> Litestar:
    """The framework floor: one handler returning what the real request returned."""

    @get("/floor", sync_to_thread=False)
    def floor(request: Request) -> Any:
        if captured.template is not None:
            return Template(template_name=captured.template, context={**captured.context, "request": request})
        return Response(captured.body)

    return Litestar(
        route_handlers=[floor],
        template_config=TemplateConfig(
            directory=ROOT / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: configure_environment(engine.engine, settings),
        ),
        openapi_config=None,
        debug=False,
    )


class BareConnection:
    """One warm driver connection for the SQL floor."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sqlite: aiosqlite.Connection | None = None
        self.pg: asyncpg.Connection | None = None

    async def __aenter__(self) -> BareConnection:
        if db.is_sqlite():
            self.sqlite = await aiosqlite.connect(**db.engine().connection_kwargs)
        else:
            self.pg = await asyncpg.connect(self.settings.database.url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.sqlite is not None:
            await self.sqlite.close()
        if self.pg is not None:
            await self.pg.close()

    async def replay(self, statements: Statements, *, write: bool = False) -> float:
        """Seconds to run ``statements`` once (rolled back when ``write``)."""
        started = time.perf_counter()
        if self.sqlite is not None:
            if write:
                await self.sqlite.execute("BEGIN IMMEDIATE")
            for sql, args in statements:
                async with self.sqlite.execute(sql, args) as cursor:
                    await cursor.fetchall()
            if write:
                await self.sqlite.rollback()
        else:
            assert self.pg is not None
            transaction = self.pg.transaction() if write else None
            if transaction is not None:
                await transaction.start()
            for sql, args in statements:
                await self.pg.fetch(sql, *args)
            if transaction is not None:
                await transaction.rollback()
        return time.perf_counter() - started


def fresh_ids(statements: Statements, token: str, replacement: str) -> Statements:
    """The statements with every argument containing ``token`` (a write's external id) given ``replacement``."""
    out = []
    for sql, args in statements:
        out.append((sql, [a.replace(token, replacement) if isinstance(a, str) and token in a else a for a in args]))
    return out


async def timed(call: Callable[[], Awaitable[Any]], times: int) -> list[float]:
    """Milliseconds of ``times`` calls, one after the other."""
    out = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def framework_floor(captured: Captured, settings: Settings, times: int) -> list[float]:
    app = bare_app(captured, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://floor") as client:

        async def one() -> None:
            response = await client.get("/floor")
            assert response.status_code == 200, response.text[:500]

        await one()  # warm: the template compiled
        return await timed(one, times)


def decode(content: bytes) -> Any:
    return json.loads(content)
