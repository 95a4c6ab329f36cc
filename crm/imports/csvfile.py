"""Reading a CSV file as a stream: checked once up front (so a file that is not CSV text is refused before
anything is written), then read row by row with the line each row starts on.

The check reads the bytes once, in 1 MiB chunks: SHA-256 (a resumed import must be the same file), size, binary
content, and the encoding — a file that is not UTF-8 is refused with the line of the first bad byte and, when
it decodes as Windows-1252 or Latin-1 (what Excel writes on Windows), the encoding to choose instead.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from crm.errors import InvalidInput

CHUNK = 1 << 20
ENCODINGS = {"utf-8": "utf-8-sig", "cp1252": "cp1252", "latin-1": "latin-1"}  # what a mapping may say -> codec
DELIMITERS = (",", ";", "\t", "|")
Source = Path | BinaryIO

# The first bytes of files people upload by mistake, and what to tell them.
MAGIC = (
    (b"PK\x03\x04", "This is a zip archive (an Excel .xlsx workbook?), not a CSV file: save it as CSV UTF-8 first."),
    (b"\xd0\xcf\x11\xe0", "This is an Excel .xls workbook, not a CSV file: save it as CSV UTF-8 first."),
    (b"%PDF", "This is a PDF, not a CSV file."),
    (b"\x1f\x8b", "This file is gzip-compressed: unpack it first."),
    (b"\x89PNG", "This is a PNG image, not a CSV file."),
    (b"\xff\xd8\xff", "This is a JPEG image, not a CSV file."),
    (b"\xff\xfe", "This file is UTF-16 text: save it as UTF-8 (in Excel: CSV UTF-8)."),
    (b"\xfe\xff", "This file is UTF-16 text: save it as UTF-8 (in Excel: CSV UTF-8)."),
)


def invalid(field: str, message: str) -> InvalidInput:
    """One field wrong, its message also the error's (what a CLI prints on one line)."""
    return InvalidInput({field: message}, message)


def refuse(message: str) -> InvalidInput:
    """The file itself is refused."""
    return invalid("file", message)


@dataclass(frozen=True)
class FileFacts:
    name: str
    size: int
    digest: str
    codec: str
    delimiter: str
    header: list[str]


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts; the header is line 1
    cells: list[str]
    bytes_read: int  # how far into the file reading has got (for progress)
    error: str = ""  # a row the CSV reader could not read


@contextmanager
def _opened(source: Source) -> Iterator[BinaryIO]:
    if isinstance(source, Path):
        with source.open("rb") as handle:
            yield handle
    else:
        source.seek(0)
        yield source


def inspect(source: Source, *, name: str, encoding: str = "utf-8", delimiter: str = "") -> FileFacts:
    """Check the whole file and read its header; raise InvalidInput (field ``file``) with a clear message
    for a file that is empty, binary, not in ``encoding``, not CSV, or has no rows."""
    if encoding not in ENCODINGS:
        raise refuse(f"Unknown encoding {encoding!r}: choose one of {', '.join(ENCODINGS)}.")
    codec = ENCODINGS[encoding]
    digest, size, first = hashlib.sha256(), 0, b""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    lines_before = 0
    with _opened(source) as handle:
        while chunk := handle.read(CHUNK):
            if not first:
                first = chunk[:8]
                for magic, message in MAGIC:
                    if chunk.startswith(magic):
                        raise refuse(message)
            if b"\x00" in chunk:
                raise refuse("This is a binary file, not CSV text.")
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = lines_before + chunk.count(b"\n", 0, exc.start) + 1
                raise refuse(_not_encoded(encoding, line, chunk[exc.start], source)) from None
            lines_before += chunk.count(b"\n")
            digest.update(chunk)
            size += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise refuse(_not_encoded(encoding, lines_before + 1, None, source)) from None
    if size == 0:
        raise refuse("The file is empty.")
    with _text(source, codec) as text:
        start = text.read(64 * 1024)
    stripped = start.lstrip()
    if not stripped:
        raise refuse("The file is empty.")
    if stripped[0] in "{[":
        raise refuse("This looks like JSON, not CSV.")
    if stripped[0] == "<":
        raise refuse("This looks like HTML or XML, not CSV.")
    delimiter = delimiter or _guess_delimiter(start.split("\n", 1)[0])
    header, has_rows = _header(source, codec, delimiter)
    if not any(header):
        raise refuse("The first line is empty: the file needs a header row naming its columns.")
    seen: set[str] = set()
    for cell in header:
        if cell and cell in seen:
            raise refuse(f"The header names the column {cell!r} twice: rename one of them.")
        seen.add(cell)
    if not has_rows:
        raise refuse("The file has a header but no rows.")
    return FileFacts(name=name, size=size, digest=digest.hexdigest(), codec=codec, delimiter=delimiter, header=header)


def _not_encoded(encoding: str, line: int, byte: int | None, source: Source) -> str:
    what = f"the byte 0x{byte:02X}" if byte is not None else "a character cut short"
    message = f"The file is not {encoding.upper()} text (line {line} has {what})."
    if encoding != "utf-8":
        return message
    for other in ("cp1252", "latin-1"):
        if _decodes(source, other):
            label = "Windows-1252 (cp1252)" if other == "cp1252" else "Latin-1 (ISO-8859-1)"
            return (
                f"{message} It looks like {label}, as Excel writes on Windows: import it again choosing the "
                f"encoding {other}, or save it as CSV UTF-8."
            )
    return message + " Save it as CSV UTF-8."


def _decodes(source: Source, codec: str) -> bool:
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    with _opened(source) as handle:
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _guess_delimiter(line: str) -> str:
    """The delimiter used most in the header line (outside quotes); a comma when none is."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(source: Source, codec: str, delimiter: str) -> tuple[list[str], bool]:
    with _text(source, codec) as text:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader, [])
            has_rows = any(any(cell.strip() for cell in row) for row in reader)
        except csv.Error as exc:
            raise refuse(f"This is not a CSV file this reader can follow: {exc}.") from None
    return [cell.strip() for cell in header], has_rows


class _Counting(io.RawIOBase):
    """Counts the bytes read through it; never closes the file under it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.handle.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


@contextmanager
def _text(source: Source, codec: str) -> Iterator[io.TextIOWrapper]:
    with _opened(source) as handle:
        counting = _Counting(handle)
        text = io.TextIOWrapper(io.BufferedReader(counting, CHUNK), encoding=codec, newline="")
        text.counting = counting  # type: ignore[attr-defined]
        try:
            yield text
        finally:
            text.detach()


def rows(source: Source, facts: FileFacts, *, skip: int = 0) -> Iterator[Row]:
    """The data rows after the header, each with the line it starts on; blank lines are passed over. The first
    ``skip`` rows are read and not yielded (a resumed import)."""
    with _text(source, facts.codec) as text:
        reader = csv.reader(text, delimiter=facts.delimiter)
        counting = text.counting  # type: ignore[attr-defined]
        next(reader, None)
        line = reader.line_num + 1
        n = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                n += 1
                if n > skip:
                    yield Row(line=line, cells=[], bytes_read=counting.count, error=f"Cannot read this row: {exc}.")
                line = reader.line_num + 1
                continue
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            n += 1
            if n > skip:
                yield Row(line=start, cells=cells, bytes_read=counting.count)


def preview(source: Source, facts: FileFacts, *, limit: int = 5) -> list[list[str]]:
    """The first ``limit`` data rows, padded to the header (what an upload page shows); reads no further."""
    taken: list[list[str]] = []
    reader = rows(source, facts)
    try:
        for row in reader:
            taken.append([*row.cells, *[""] * (len(facts.header) - len(row.cells))][: max(len(facts.header), 1)])
            if len(taken) == limit:
                break
    finally:
        reader.close()
    return taken
