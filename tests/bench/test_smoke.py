"""The S-size smoke check of issue 13, shrunk: `crm bench run` end to end on a tiny community (generation, every
request, the floors, a real server for the writes, the rebuild, the JSON). It must run; no target is checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from crm import ROOT

pytestmark = pytest.mark.bench


def crm(database, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CRM_DATABASE_URL": database.url, "PYTHONPATH": str(ROOT), "CRM_SECRET_KEY": "s" * 40}
    return subprocess.run(
        [sys.executable, "-m", "crm.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


async def test_crm_bench_run_runs_end_to_end(engine, database, tmp_path):
    out = tmp_path / "bench.json"
    done = crm(database, "bench", "run", "--members", "30", "--interactions", "400", "--rounds", "1", "--repeat", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    again = crm(database, "bench", "run", "--rounds", "1", "--repeat", "1", "--json", str(out))  # the same community
    assert again.returncode == 0, again.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["meta"]["members"] == 30 and results["meta"]["interactions"] >= 400
    names = [r["name"] for r in results["requests"]]
    assert "whom to brief API" in names and "crm rollups rebuild" in names and "dashboard" in names
    assert any(name.startswith("log one interaction (8") for name in names)
    for row in results["requests"]:
        assert row["median_ms"] > 0, row
    read = next(r for r in results["requests"] if r["name"] == "member page, busiest")
    assert read["queries"] > 0 and read["sql_floor_ms"] > 0 and read["framework_floor_ms"] > 0
    assert "member page, busiest" in again.stdout  # the table on screen


async def test_crm_bench_generate_refuses_a_database_with_data(engine, database):
    assert crm(database, "bench", "generate", "--members", "20", "--interactions", "100").returncode == 0
    refused = crm(database, "bench", "generate", "--members", "20", "--interactions", "100")
    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "--force" in refused.stderr
