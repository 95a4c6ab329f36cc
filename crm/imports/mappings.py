"""Mappings by name: saved ones, the presets, and a file's header checked against one before an import."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from crm import db
from crm.audit.service import Actor
from crm.audit.service import log_change as audit
from crm.errors import NotFound
from crm.imports import csvfile, presets, queries
from crm.imports.csvfile import invalid, refuse
from crm.imports.mapping import compile_mapping
from crm.imports.schemas import Mapping
from crm.imports.tables import ImportMapping
from crm.imports.vocab import IGNORE, KINDS

# ---- mappings ----------------------------------------------------------------------------------------------


def mapping_digest(mapping: Mapping) -> str:
    return hashlib.sha256(msgspec.json.encode(mapping)).hexdigest()


async def mapping_for(*, kind: str, preset: str = "", mapping_name: str = "") -> Mapping | None:
    """The mapping a preset or a saved mapping names; None when neither is given (guess it from the header)."""
    if kind not in KINDS:
        raise invalid("kind", f"Choose one of: {', '.join(KINDS)}.")
    if preset and mapping_name:
        raise invalid("mapping", "Give a preset or a saved mapping, not both.")
    if preset:
        return presets.preset(preset, kind)
    if mapping_name:
        row = await queries.get_mapping(mapping_name)
        if row is None:
            raise NotFound(f"No saved mapping named {mapping_name!r}.", fields={"mapping": "No such mapping."})
        mapping = to_mapping(row["mapping"])
        if mapping.kind != kind:
            raise invalid("mapping", f"The mapping {mapping_name!r} reads {mapping.kind}, not {kind}.")
        return mapping
    return None


def to_mapping(value: Any) -> Mapping:
    """A mapping from its JSON (a saved row, a form, an API body); InvalidInput when it is not one."""
    try:
        if isinstance(value, (str, bytes)):
            return msgspec.json.decode(value, type=Mapping)
        return msgspec.convert(value, Mapping)
    except msgspec.ValidationError as exc:
        raise invalid("mapping", f"Not a mapping: {exc}.") from None


async def save_mapping(*, name: str, mapping: Mapping, actor: Actor, now) -> dict:
    """Save ``mapping`` under ``name`` (replacing one of the same name), checked as far as it can be without a
    file."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise invalid("name", "Give the mapping a name of 1 to 100 characters.")
    compile_mapping(mapping, list(mapping.columns))  # every column it names is there: checks the rest
    body = json.loads(msgspec.json.encode(mapping))
    async with db.transaction():
        existing = await queries.get_mapping(name)
        if existing:
            await (
                ImportMapping.update(
                    {ImportMapping.mapping: body, ImportMapping.kind: mapping.kind, ImportMapping.updated_at: now}
                )
                .where(ImportMapping.id == existing["id"])
                .run()
            )
        else:
            row = ImportMapping(
                name=name, kind=mapping.kind, mapping=body, created_by=actor.user_id, created_at=now, updated_at=now
            )
            await row.save().run()
        saved = await queries.get_mapping(name)
        await audit(
            actor=actor,
            action="import_mapping.save",
            entity="import_mapping",
            record_id=saved["id"],
            before={"mapping": existing["mapping"]} if existing else None,
            after={"name": name, "mapping": body},
            at=now,
        )
    return saved


async def delete_mapping(*, name: str, actor: Actor, now) -> None:
    async with db.transaction():
        existing = await queries.get_mapping(name)
        if existing is None:
            raise NotFound(f"No saved mapping named {name!r}.")
        await ImportMapping.delete().where(ImportMapping.id == existing["id"]).run()
        await audit(
            actor=actor,
            action="import_mapping.delete",
            entity="import_mapping",
            record_id=existing["id"],
            before={"name": name, "mapping": existing["mapping"]},
            at=now,
        )


def inspect(source: Path | BinaryIO, *, name: str, mapping: Mapping | None, kind: str, **options: Any):
    """The file's facts and the mapping fitted to its header (guessed when ``mapping`` is None): what a preview
    page shows, and what ``run_import`` starts from. Raises InvalidInput naming ``file`` for a refused file."""
    encoding = options.get("encoding") or (mapping.encoding if mapping else "utf-8")
    delimiter = options.get("delimiter") or (mapping.delimiter if mapping else "")
    facts = csvfile.inspect(source, name=name, encoding=encoding, delimiter=delimiter)
    if mapping is None:
        mapping = presets.guess_mapping(kind, facts.header)
        if all(field == IGNORE for field in mapping.columns.values()):
            names = ", ".join(list(presets.SYNONYMS[kind])[:6])
            message = (
                f"The first row names no column this CRM knows (such as {names}): add a header row, "
                "or say which column feeds which field."
            )
            raise refuse(message)
    overrides = {k: v for k, v in options.items() if v not in (None, "")}
    if overrides:
        mapping = msgspec.structs.replace(mapping, **overrides)
    if mapping.kind != kind:
        raise invalid("mapping", f"This mapping reads {mapping.kind}, not {kind}.")
    return facts, compile_mapping(mapping, facts.header)
