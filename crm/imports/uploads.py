"""Uploaded files waiting for their import job: streamed to disk in chunks (never whole in memory) under
``settings.var_dir / "imports"``, each named by a random token, the only thing a form carries back to name it."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from crm.imports.csvfile import CHUNK, refuse

TOKEN = re.compile(r"[0-9a-f]{32}")
STALE_UPLOAD_SECONDS = 24 * 3600  # an upload previewed and never started is removed after a day


def folder(var_dir: Path) -> Path:
    return var_dir / "imports"


async def store(upload: Any, var_dir: Path) -> Path:
    """Copy ``upload`` (anything with an async ``read(size)``, such as Litestar's UploadFile, itself spooled to
    a temporary file by the server) to a new file of its own, a chunk at a time."""
    directory = folder(var_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{secrets.token_hex(16)}.csv"
    try:
        with path.open("xb") as out:
            while chunk := await upload.read(CHUNK):
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def token_of(path: Path) -> str:
    return path.stem


def stored(var_dir: Path, token: str) -> Path:
    """The file an earlier upload stored under ``token``; InvalidInput on ``file`` when there is none (a forged
    token, or a file already imported or cleared)."""
    path = folder(var_dir) / f"{token}.csv"
    if not TOKEN.fullmatch(token or "") or not path.is_file():
        raise refuse("The uploaded file is no longer here: upload it again.")
    return path


def discard(path: Path | str | None, var_dir: Path) -> None:
    """Remove an uploaded file once it is not needed; only files in the uploads folder (never a file the CLI
    imported from where it lies)."""
    if not path:
        return
    path = Path(path)
    if path.parent.resolve() == folder(var_dir).resolve() and TOKEN.fullmatch(path.stem):
        path.unlink(missing_ok=True)


def sweep(var_dir: Path, *, keep: set[str], now: float, older_than: float = STALE_UPLOAD_SECONDS) -> int:
    """Remove uploads nobody will run: older than ``older_than`` seconds at ``now`` (a timestamp) and not the
    file of an unfinished job (``keep``), such as a file uploaded and previewed but never started. How many."""
    directory = folder(var_dir)
    if not directory.is_dir():
        return 0
    removed = 0
    for path in directory.glob("*.csv"):
        if TOKEN.fullmatch(path.stem) and str(path) not in keep and path.stat().st_mtime < now - older_than:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
