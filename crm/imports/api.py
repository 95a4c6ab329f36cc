"""JSON API for imports (the same service as the upload page and ``crm import``):

- ``POST /api/v1/imports``: multipart ``file`` + ``kind`` + ``preset`` or ``mapping`` (a saved mapping's name;
  neither guesses the mapping from the header), optional ``encoding`` and ``dry_run``. The file is checked at
  once (422 naming the field, nothing written), then queued: 202 ``{"id", "status"}``. A dry run runs in the
  request, writes nothing, creates no job and answers 200 with its report.
- ``GET /api/v1/imports/{id}``: status, progress, counts, the first issues.
- ``GET /api/v1/imports/{id}/rejected.csv``: the rejected rows with their line, column and reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.imports import queries, rejected, service, uploads
from crm.imports.schemas import ImportAccepted, ImportRead
from crm.imports.vocab import ImportKind, JobStatus

RUN = requires("imports.run", "import members or interactions")
UPLOAD_LIMIT = 2 * 1024**3  # bytes in one upload: the file goes to disk as it arrives, never whole in memory


class ImportUpload(msgspec.Struct, kw_only=True):
    file: UploadFile
    kind: ImportKind
    preset: str = ""  # twitter-airline, crm
    mapping: str = ""  # the name of a saved mapping
    encoding: str = ""  # utf-8 (default), cp1252 or latin-1
    dry_run: bool = False


def rejected_download(job: dict) -> Stream:
    name = f"import-{job['id']}-rejected.csv"
    return Stream(
        rejected.rejected_csv(job["id"]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class ImportsAPI(Controller):
    path = "/api/v1"
    tags = ["imports"]
    guards = [RUN]

    @post(
        "/imports",
        status_code=HTTP_202_ACCEPTED,
        request_max_body_size=UPLOAD_LIMIT,
        summary="Upload a CSV of members or interactions to import in the background (a dry run answers at once)",
    )
    async def create(
        self,
        request: Request,
        now: datetime,
        actor: Actor,
        data: Annotated[ImportUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[ImportAccepted]:
        var_dir = request.app.state.settings.var_dir
        path = await uploads.store(data.file, var_dir)
        arguments = {
            "kind": data.kind.value,
            "actor": actor,
            "file_name": data.file.filename or "upload.csv",
            "preset": data.preset.strip(),
            "mapping_name": data.mapping.strip(),
            "options": {"encoding": data.encoding.strip()},
        }
        try:
            if data.dry_run:
                report = await service.run_import(source=path, clock=request.app.state.clock, dry_run=True, **arguments)
                accepted = ImportAccepted(id=None, status=JobStatus.done, dry_run=True, report=report)
                return Response(accepted, status_code=HTTP_200_OK)
            job = await service.queue_import(source_path=path, now=now, **arguments)
        except BaseException:
            uploads.discard(path, var_dir)
            raise
        finally:
            if data.dry_run:
                uploads.discard(path, var_dir)
        request.app.state.imports.kick()
        return Response(ImportAccepted(id=job["id"], status=job["status"]), status_code=HTTP_202_ACCEPTED)

    @get("/imports/{import_id:int}", summary="An import's status, progress, counts and first issues")
    async def show(self, now: datetime, import_id: FromPath[int]) -> ImportRead:
        return await queries.import_read(await queries.job_or_404(import_id), now)

    @get(
        "/imports/{import_id:int}/rejected.csv",
        summary="An import's rejected rows as CSV: the file's columns, then _line, _column, _problem, _reason",
        media_type="text/csv",
    )
    async def rejected_rows(self, import_id: FromPath[int]) -> Stream:
        return rejected_download(await queries.job_or_404(import_id))
