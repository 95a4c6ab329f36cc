"""Memory stays flat in the file's size: the file is read as a stream, a batch at a time."""

from __future__ import annotations

import tracemalloc

from tests.conftest import empty_all_tables
from tests.imports.conftest import generated_interactions, import_file


async def test_the_peak_memory_of_an_import_does_not_grow_with_the_file(engine, clock, tmp_path):
    warm_up = generated_interactions(tmp_path / "warm.csv", 1_500, prefix="w")
    small = generated_interactions(tmp_path / "small.csv", 5_000, prefix="s")
    large = generated_interactions(tmp_path / "large.csv", 20_000, prefix="l")
    await import_file(warm_up, clock, batch_size=500)  # caches (statements, zones, formats) filled before measuring

    peaks = {}
    for name, path in (("small", small), ("large", large)):
        await empty_all_tables()
        tracemalloc.start()
        try:
            report = await import_file(path, clock, batch_size=500)
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert report.rejected == 0 and report.interactions_added == report.rows_read

    assert peaks["large"] < 1.5 * peaks["small"], peaks
