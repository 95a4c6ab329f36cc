"""The import pages (admins and managers), the same service as the API and ``crm import``:

- ``GET /imports``: the upload form (file, kind, a preset or saved mapping or a guess from the header, encoding)
  and the recent imports.
- ``POST /imports``: the file goes to disk as it arrives and is checked whole; a refused file re-renders the
  form with the message next to the field (and is removed). Otherwise the mapping page: the first rows, each
  column's field (guessed, or the preset's or saved mapping's), how dates and sentiment are read, the platform.
- ``POST /imports/start``: the mapping checked against the file (errors next to the fields, nothing written),
  saved under a name when one is given, and the job queued for the server's runner; then its page.
- ``GET /imports/{id}``: live progress (rows, rate, time left; the page refreshes itself while the job runs,
  with no JavaScript), then the report and the rejected rows; ``rejected.csv`` downloads them.
- ``POST /imports/{id}/retry``: a failed import queued again (it resumes after its last batch).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from crm.audit.service import Actor
from crm.errors import InvalidInput, NotFound
from crm.forms import read_form
from crm.imports import csvfile, jobs, mapping_form, mappings, presets, queries, service, uploads
from crm.imports.api import RUN, UPLOAD_LIMIT, rejected_download
from crm.imports.csvfile import ENCODINGS
from crm.imports.vocab import FIELDS, IGNORE, KINDS, JobStatus
from crm.members.vocab import KINDS as INTERACTION_KINDS
from crm.members.vocab import PLATFORMS, SENTIMENTS
from crm.web import page, redirect

PREVIEW_ROWS = 5
RECENT = 30
ISSUES_SHOWN = 200
REFRESH_SECONDS = 2
FILE_FIELDS = {"file", "kind", "preset", "mapping", "encoding"}  # what sends the upload form back


def _source(raw: str) -> tuple[str, str]:
    """The upload form's "read it with" choice -> (preset, saved mapping name)."""
    what, _, name = (raw or "").partition(":")
    return (name, "") if what == "preset" else ("", name) if what == "mapping" else ("", "")


async def _index_page(request: Request, *, now: datetime, values=None, errors=None, status_code=200) -> Template:
    return page(
        request,
        "imports/index.html",
        status_code=status_code,
        title="Imports",
        jobs=[queries.job_read(j, now) for j in await queries.list_jobs(limit=RECENT)],
        mappings=await queries.list_mappings(),
        presets=presets.PRESETS,
        preset_descriptions=presets.DESCRIPTIONS,
        kinds=KINDS,
        encodings=list(ENCODINGS),
        values=values or {"kind": "interactions", "encoding": "utf-8"},
        errors=errors or {},
    )


def _preview(path: Path, values: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """The file's header and first rows for the page, read as leniently as it takes to show them (a wrong
    encoding is reported next to its field, not by losing the preview). It reads the whole file to check it:
    called in a thread."""
    chosen = values.get("encoding") or "utf-8"
    for encoding in dict.fromkeys([chosen, "utf-8", "cp1252", "latin-1"]):
        try:
            facts = csvfile.inspect(path, name=path.name, encoding=encoding, delimiter=values.get("delimiter", ""))
            return facts.header, csvfile.preview(path, facts, limit=PREVIEW_ROWS)
        except (InvalidInput, ValueError):
            continue
    return [], []


async def _mapping_page(
    request: Request, *, path: Path, kind: str, hidden: dict[str, str], values: dict[str, str], errors, status_code=200
) -> Template:
    header, rows = await asyncio.to_thread(_preview, path, values)
    return page(
        request,
        "imports/mapping.html",
        status_code=status_code,
        title=f"Map the columns of {hidden['file_name']}",
        kind=kind,
        header=header,
        rows=rows,
        hidden=hidden,
        values=values,
        errors=errors,
        fields=FIELDS[kind],
        ignore=IGNORE,
        platforms=PLATFORMS,
        sentiments=SENTIMENTS,
        sentiment_words=mapping_form.sentiment_words(),
        interaction_kinds=INTERACTION_KINDS,
        encodings=list(ENCODINGS),
    )


class ImportsController(Controller):
    path = "/imports"
    guards = [RUN]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request, now: datetime) -> Template:
        return await _index_page(request, now=now)

    @post("/", request_max_body_size=UPLOAD_LIMIT)
    async def upload(self, request: Request, now: datetime) -> Template:
        form = await request.form()
        values = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        file = form.get("file")
        kind = values.get("kind", "")
        errors: dict[str, str] = {}
        if kind not in KINDS:
            errors["kind"] = f"Choose one of: {', '.join(KINDS)}."
        if not isinstance(file, UploadFile) or not file.filename:
            errors["file"] = "Choose a CSV file to upload."
        if errors:
            return await _index_page(request, now=now, values=values, errors=errors, status_code=422)
        path = await uploads.store(file, request.app.state.settings.var_dir)
        preset, mapping_name = _source(values.get("source", ""))
        file_name = Path(file.filename).name[:300]
        encoding = values.get("encoding", "")
        mapping_errors: dict[str, str] = {}
        try:
            chosen = await mappings.mapping_for(kind=kind, preset=preset, mapping_name=mapping_name)
            try:
                facts, compiled = await asyncio.to_thread(
                    mappings.inspect, path, name=file_name, mapping=chosen, kind=kind, encoding=encoding
                )
                mapping = compiled.mapping
            except InvalidInput as exc:
                if not exc.fields or set(exc.fields) & FILE_FIELDS:
                    raise
                # The file is fine but the mapping is not complete yet (a guess, or a saved mapping missing a
                # field): the mapping page shows what to fix, next to the fields.
                read_as = encoding or (chosen.encoding if chosen else "utf-8")
                delimiter = chosen.delimiter if chosen else ""
                facts = await asyncio.to_thread(
                    csvfile.inspect, path, name=file_name, encoding=read_as, delimiter=delimiter
                )
                mapping = msgspec.structs.replace(chosen or presets.guess_mapping(kind, facts.header), encoding=read_as)
                mapping_errors = mapping_form.form_errors(exc.fields, facts.header)
        except (InvalidInput, NotFound) as exc:
            uploads.discard(path, request.app.state.settings.var_dir)
            errors = mapping_form.form_errors(exc.fields or {"file": exc.message}, [])
            return await _index_page(request, now=now, values=values, errors=errors, status_code=422)
        except Exception:
            uploads.discard(path, request.app.state.settings.var_dir)
            raise
        hidden = {
            "token": uploads.token_of(path),
            "kind": kind,
            "file_name": file_name,
            "source": values.get("source", ""),
            "header": json.dumps(facts.header),
        }
        shown = mapping_form.form_values(mapping, facts.header)
        return await _mapping_page(request, path=path, kind=kind, hidden=hidden, values=shown, errors=mapping_errors)

    @post("/start")
    async def start(self, request: Request, now: datetime, actor: Actor) -> Template | Redirect:
        form = await read_form(request)
        var_dir = request.app.state.settings.var_dir
        kind = form.get("kind", "")
        try:
            path = uploads.stored(var_dir, form.get("token", ""))
            if kind not in KINDS:
                raise InvalidInput({"kind": f"Choose one of: {', '.join(KINDS)}."})
        except InvalidInput as exc:
            return await _index_page(request, now=now, errors=exc.fields, status_code=422)
        try:
            header = [str(c) for c in json.loads(form.get("header") or "[]")]
        except (ValueError, TypeError):
            header = []
        hidden = {k: form.get(k, "") for k in ("token", "kind", "file_name", "source")}
        hidden["header"] = json.dumps(header)
        preset, mapping_name = _source(hidden["source"])
        save_as = " ".join(form.get("save_as", "").split())
        mapping, errors = mapping_form.read_mapping(kind, header, form)
        try:
            if mapping is None:
                raise InvalidInput(errors)
            await asyncio.to_thread(mappings.inspect, path, name=hidden["file_name"], mapping=mapping, kind=kind)
            if save_as:
                await mappings.save_mapping(name=save_as, mapping=mapping, actor=actor, now=now)
            job = await service.queue_import(
                kind=kind,
                source_path=path,
                actor=actor,
                now=now,
                file_name=hidden["file_name"],
                preset=preset,
                mapping_name=save_as or mapping_name,
                mapping=mapping,
            )
        except InvalidInput as exc:
            values = {k: v for k, v in form.items() if k != "_csrf_token"}
            errors = mapping_form.form_errors(exc.fields or {"file": exc.message}, header)
            return await _mapping_page(
                request, path=path, kind=kind, hidden=hidden, values=values, errors=errors, status_code=422
            )
        request.app.state.imports.kick()
        return redirect(request, f"/imports/{job['id']}", flash=f"Import {job['id']} is queued.")

    @get("/{import_id:int}")
    async def show(self, request: Request, now: datetime, import_id: FromPath[int]) -> Template:
        job = await queries.job_or_404(import_id)
        read = await queries.import_read(job, now, shown=ISSUES_SHOWN)
        live = job["status"] in (JobStatus.queued.value, JobStatus.running.value)
        response = page(request, "imports/job.html", title=f"Import {job['id']}", job=read, live=live)
        if live:  # a plain refresh, no JavaScript needed: the progress moves while the job runs
            response.headers["Refresh"] = str(REFRESH_SECONDS)
        return response

    @get("/{import_id:int}/rejected.csv")
    async def rejected_rows(self, import_id: FromPath[int]) -> Stream:
        return rejected_download(await queries.job_or_404(import_id))

    @post("/{import_id:int}/retry")
    async def retry(self, request: Request, now: datetime, import_id: FromPath[int]) -> Redirect:
        await jobs.retry(await queries.job_or_404(import_id), now=now)
        request.app.state.imports.kick()
        return redirect(request, f"/imports/{import_id}", flash=f"Import {import_id} is queued again.")
