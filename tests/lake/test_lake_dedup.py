"""A record sent again in a later file is stored once on a lake target too, as on the embedded one: dlt's
filesystem destination only appends Parquet, so the trace normaliser deduplicates against a copy of the
lake's keys (prodlens.ingest.lake_keys). No Spark is needed: the loads write Parquet only."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from prodlens.home import Home
from prodlens.ingest.traces import load_traces
from prodlens.project import sample_data_dir

#: a proxy log (LiteLLM calls, one of them repeated within the file), OpenTelemetry exports, and Claude
#: Code's documented OTLP logs (coding-agent events: raw.agent_events)
FILES = [
    sample_data_dir() / "litellm" / "proxy" / "litellm-2025-09.jsonl",
    *sorted((sample_data_dir() / "litellm" / "exports").iterdir()),
    Path(__file__).parents[1] / "traces" / "fixtures" / "claude_code_logs.jsonl",
]


def _copies(folder: Path, prefix: str) -> Path:
    folder.mkdir(parents=True)
    for source in FILES:
        shutil.copy(source, folder / f"{prefix}-{source.name}")
    return folder


def _lake_rows(home: Home, table: str, key: str) -> tuple[int, int]:
    files = str(home.root / "lake" / "raw" / table / "*.parquet")
    with duckdb.connect() as con:
        row = con.execute(f"select count(*), count(distinct {key}) from read_parquet('{files}')").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _warehouse_rows(home: Home, table: str, key: str) -> tuple[int, int]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        row = con.execute(f"select count(*), count(distinct {key}) from raw.{table}").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.parametrize("target_name", ["embedded", "spark"])
def test_a_file_sent_again_is_loaded_once(
    target_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODLENS_TARGET", target_name)
    monkeypatch.delenv("PRODLENS_LAKE", raising=False)
    home = Home(tmp_path / "home")
    first = load_traces(home, [str(_copies(tmp_path / "first", "a"))], tenant="fallback")
    again = load_traces(home, [str(_copies(tmp_path / "again", "b"))], tenant="fallback")

    assert first.loaded > first.agent_events > 0
    assert first.duplicates == 1  # the proxy log repeats one call
    # every usable line of the second set is one the first load stored
    assert again.loaded == 0
    assert again.duplicates == first.loaded + first.duplicates
    assert again.dead_lettered == first.dead_lettered
    rows = _lake_rows if target_name == "spark" else _warehouse_rows
    requests = first.loaded - first.agent_events
    assert rows(home, "litellm_requests", "trace_hash") == (requests, requests)
    assert rows(home, "agent_events", "event_id") == (first.agent_events, first.agent_events)
