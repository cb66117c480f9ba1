"""On Spark the request-grain models (stg_litellm__requests, sessions) are incremental by day: a build
after a load rewrites the event_date partitions of the days the new rows fall on, each from all of that
day's rows, and leaves every other day's files alone (Parquet can neither delete nor merge rows).

The case a day partition must get right beyond new rows: an OpenTelemetry span loaded and built alone is
a call of its own; once its parent span arrives, the next build must leave it out of its day (the DuckDB
build deletes it, tests/traces/test_otel.py). The spans are made by the OpenTelemetry SDK; the older
day is a line of the bundled LiteLLM proxy log. Late data on older days, across every mart, is the
parity test's (test_spark_parity.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from prodlens.home import Home
from prodlens.project import sample_data_dir
from tests.conftest import REPO_ROOT, prodlens
from tests.traces.otel_producers import Markers, genai_spans, write_forms

#: the build of the request-grain models on Spark, in one process (one Spark session): the raw tables
#: declared over the lake, then the models up to sessions (their data tests are the parity test's)
SPARK_BUILD = """
from prodlens import target
from prodlens.dbt_runner import run_dbt
from prodlens.home import Home
from prodlens.lake import operation_args
home = Home.from_env()
assert run_dbt(home, ["parse"], quiet=True)
assert run_dbt(home, ["run-operation", "create_lake_sources", "--args", operation_args(home, target.lake_url(home))], quiet=True)
run = run_dbt(home, ["build", "--select", "+sessions", "--exclude-resource-type", "test", "unit_test"], quiet=True)
assert run.success, run.error
print(run.statuses["model.prodlens.sessions"])
"""

#: staging.stg_litellm__requests made a plain table, as ProdLens built it on Spark before 2026-12-07
UNPARTITION = """
from prodlens.dbt_runner import run_dbt
from prodlens.home import Home
assert run_dbt(Home.from_env(), ["show", "--inline", "select 1 as x"], quiet=True)  # opens the session
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
spark.sql("create table staging.stg_plain using parquet as select * from staging.stg_litellm__requests")
spark.sql("drop table staging.stg_litellm__requests")
spark.sql("alter table staging.stg_plain rename to staging.stg_litellm__requests")
"""

TABLES = {"staging.stg_litellm__requests": "staging.db", "marts.sessions": "marts.db"}


def _spark(home: Home, script: str) -> subprocess.CompletedProcess:
    """`script` in a process of its own on the Spark target."""
    env = {
        **os.environ,
        "PRODLENS_HOME": str(home.root),
        "PYTHONPATH": str(REPO_ROOT),
        "PRODLENS_TARGET": "spark",
    }
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=home.root.parent
    )


def _build(home: Home) -> None:
    proc = _spark(home, SPARK_BUILD)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]


def _folder(home: Home, table: str) -> Path:
    schema, name = table.split(".")
    return home.root / "spark" / "warehouse" / f"{schema}.db" / name


def _files(home: Home, table: str) -> dict[str, set[str]]:
    """The Parquet files of each event_date partition of `table`."""
    folder = _folder(home, table)
    return {day.name: {f.name for f in day.glob("*.parquet")} for day in sorted(folder.glob("event_date=*"))}


def _request_ids(home: Home) -> dict[str, set[str]]:
    ids = {}
    with duckdb.connect() as con:
        for table in TABLES:
            files = [str(f) for f in _folder(home, table).rglob("*.parquet")]
            rel = con.read_parquet(files, hive_partitioning=True)
            ids[table] = {row[0] for row in rel.select("request_id").fetchall()}
    return ids


#: the spans' first start: 3 ms before midnight, so the LiteLLM request span falls on 20 November and its
#: child span (5 ms later) and the other calls on 21 November
MIDNIGHT = int(dt.datetime(2026, 11, 21, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
START = MIDNIGHT - 3_000_000


def test_a_build_rewrites_the_days_of_new_rows_and_the_day_of_a_span_whose_parent_arrived_and_refuses_a_plain_table(
    tmp_path: Path,
) -> None:
    """The first load: every span but the LiteLLM request span, and a proxy call of September 2025. The
    second: that request span alone, on 20 November; its child span, a call of its own until then, is on
    21 November, a day of no new row, which the build must rewrite without it. Then the request table is
    made a plain table, as an earlier release built it on Spark, and the next build must refuse it."""
    if shutil.which("java") is None:
        raise AssertionError("the Spark tests need a JRE (`java`): .ci/run installs openjdk-17-jre-headless")
    spans, _ = genai_spans(Markers("spark-days"), start=START)
    lines = write_forms(spans, tmp_path / "otel")["span_per_line"].read_text().splitlines()
    parent_line = next(line for line in lines if '"litellm_request"' in line)
    child_line = next(line for line in lines if '"raw_gen_ai_request"' in line)
    assert json.loads(child_line)["parentSpanId"] == json.loads(parent_line)["spanId"]
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    (first / "spans.jsonl").write_text("".join(line + "\n" for line in lines if line != parent_line))
    proxy_lines = (sample_data_dir() / "litellm" / "proxy" / "litellm-2025-09.jsonl").read_text().splitlines()
    (first / "older-day.jsonl").write_text(proxy_lines[0] + "\n")  # a call on a day no later load touches
    (later / "parent.jsonl").write_text(parent_line + "\n")
    home = Home(tmp_path / "home")
    env = {"PRODLENS_TARGET": "spark"}

    prodlens("load", "traces", str(first), home=home, env=env)
    _build(home)
    after_first = _request_ids(home)
    span_id, parent_id = json.loads(child_line)["spanId"], json.loads(parent_line)["spanId"]
    (child,) = [i for i in after_first["marts.sessions"] if span_id in i]  # a call of its own, for now
    files_first = {table: _files(home, table) for table in TABLES}
    for table, days in files_first.items():
        assert after_first[table] == after_first["marts.sessions"]
        assert len(after_first[table]) == 5, sorted(after_first[table])  # four calls and the older day's
        assert len(days) == 2 and max(days) == "event_date=2026-11-21", f"{table}: {sorted(days)}"

    prodlens("load", "traces", str(later), home=home, env=env)
    _build(home)
    after_later = _request_ids(home)
    for table, ids in after_later.items():
        (parent,) = [i for i in ids if parent_id in i]
        assert ids == after_first[table] - {child} | {parent}, f"{table} keeps the span whose parent arrived"
        days = _files(home, table)
        assert sorted(days) == [min(files_first[table]), "event_date=2026-11-20", "event_date=2026-11-21"]
        older = min(files_first[table])
        assert days[older] == files_first[table][older], f"{table}: the day without new rows was rewritten"
        child_day = "event_date=2026-11-21"
        assert days[child_day] != files_first[table][child_day], f"{table}: the child's day was not rewritten"

    # A table of an earlier release, built before these models were partitioned on Spark: overwriting the
    # new rows' days of a table not partitioned by day would replace all of it, so the build stops first and
    # names the one rebuild that fixes it (in this test, not one of its own: each Spark build costs a minute)
    made = _spark(home, UNPARTITION)
    assert made.returncode == 0, made.stderr[-4000:]
    assert _files(home, "staging.stg_litellm__requests") == {}  # no event_date partitions now
    rows = _request_ids(home)["staging.stg_litellm__requests"]
    one_more = tmp_path / "one-more.jsonl"
    one_more.write_text(proxy_lines[1] + "\n")  # another call of the proxy log
    prodlens("load", "traces", str(one_more), home=home, env=env)
    refused = _spark(home, SPARK_BUILD)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "is partitioned by ['nothing'], not by event_date" in output, output[-4000:]
    assert "prodlens build -- --full-refresh --select stg_litellm__requests sessions" in output
    assert _request_ids(home)["staging.stg_litellm__requests"] == rows  # nothing was overwritten
