"""Exports are streamed: the peak memory of writing one does not grow with the number of rows (a list of every
row in memory would: about 1 kB a row here, so 45,000 more rows would show as tens of megabytes)."""

from __future__ import annotations

import tracemalloc

from crm.audit.service import Actor
from crm.exports import service
from crm.members.queries import MemberFilter
from crm.members.tables import Member
from tests.conftest import empty_all_tables
from tests.imports.conftest import generated_interactions, import_file


async def peak_of_export(kind: str, clock) -> tuple[int, int]:
    """(peak bytes traced while writing the whole export, rows written)."""
    tracemalloc.start()
    try:
        chunks = await service.export_csv(
            kind=kind, filters=MemberFilter(), actor=Actor.system("test"), now=clock(), bom=False
        )
        lines = 0
        async for chunk in chunks:
            lines += chunk.count(b"\n")  # the generated texts hold no line breaks
        return tracemalloc.get_traced_memory()[1], lines - 1
    finally:
        tracemalloc.stop()


async def test_the_peak_memory_of_an_export_does_not_grow_with_its_size(engine, clock, tmp_path):
    sizes = {"small": 3_000, "large": 12_000}  # N and 4N
    peaks: dict[str, dict[str, int]] = {}
    for name, rows in sizes.items():
        await empty_all_tables()
        path = generated_interactions(tmp_path / f"{name}.csv", rows, people=rows // 3, prefix=name)
        await import_file(path, clock, batch_size=1_000)
        await peak_of_export("interactions", clock)  # caches (statements, formats) filled before measuring
        peaks[name] = {}
        for kind, expected in (("interactions", rows), ("members", await Member.count().run())):
            peaks[name][kind], written = await peak_of_export(kind, clock)
            assert written == expected, (name, kind, written)

    print("export peaks (bytes):", peaks)
    for kind in ("interactions", "members"):
        assert peaks["large"][kind] < 1.3 * peaks["small"][kind], peaks
