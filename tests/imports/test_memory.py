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


async def test_an_upload_goes_to_disk_as_it_arrives_whatever_its_size(api, auth, app, tmp_path):
    """The upload is spooled and copied a chunk at a time, and checked as a stream: the request's peak memory
    is about the same for a file 16 times larger."""
    small = generated_interactions(tmp_path / "small.csv", 20_000, prefix="s")  # ~2 MB
    large = generated_interactions(tmp_path / "large.csv", 320_000, prefix="l")  # ~32 MB
    app.state.imports.concurrency = 0  # only the upload and its checks are measured, not the import
    await api.post(
        "/api/v1/imports", files={"file": small.open("rb")}, data={"kind": "interactions"}, headers=auth["bob"]
    )

    peaks = {}
    for name, path in (("small", small), ("large", large)):
        tracemalloc.start()
        try:
            with path.open("rb") as handle:
                r = await api.post(
                    "/api/v1/imports", files={"file": handle}, data={"kind": "interactions"}, headers=auth["bob"]
                )
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert r.status_code == 202, r.text

    assert large.stat().st_size > 16 * small.stat().st_size * 0.9
    assert peaks["large"] < peaks["small"] + 4 * 1024 * 1024, peaks
    stored = sorted((app.state.settings.var_dir / "imports").glob("*.csv"), key=lambda p: p.stat().st_size)
    assert stored[-1].read_bytes() == large.read_bytes()
