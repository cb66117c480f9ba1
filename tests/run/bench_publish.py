"""Publishing benchmark: copy the marts into a new DuckDB file vs. views over Parquet exports.

    python tests/run/bench_publish.py --rows 10000000 [--dir /tmp/bench]

It builds a working file with a `marts.sessions` table of the real column layout (synthetic values:
3 tenants, 10 repos, 90 days) plus a small daily aggregate, then times:

- copy:  prodlens.publish.publish_marts (checkpoint, byte copy of the working file, drop what is
         not a mart, fsync, os.replace) -- what ProdLens does;
- table copy: `create table ... as select` of each mart into a new attached file (the alternative way
         to copy the marts);
- views: the Hive-partitioned Parquet export of sessions that views would read (repo=/date=), plus
         writing a small database of views over it;
- the full export (`prodlens.run.export.export_parquet`: global tree + tenant trees + aggregates);
- one typical reader query against each published form.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from prodlens.home import Home
from prodlens.publish import publish_marts
from prodlens.run.export import export_parquet

SESSIONS_SQL = """
create schema if not exists marts;
create or replace table marts.sessions as
select
    hash(i) // 2 as id,
    'sess-' || (i // 25) as session_id,
    'dev' || (i % 60) || '@acme.dev' as developer_id,
    timestamptz '2025-01-01 00:00:00+00' + to_microseconds((i * 777600000000 // $rows)::bigint) as "timestamp",
    ['anthropic/claude-sonnet-4-20250514', 'openai/gpt-4o', 'anthropic/claude-3-5-haiku-20241022'][1 + i % 3] as model,
    (500 + i % 4000)::bigint as tokens_in,
    (50 + i % 700)::bigint as tokens_out,
    (300 + (i % 5000))::double as latency_ms,
    case when i % 50 = 0 then 500 else 200 end::integer as status_code,
    (i % 3 = 0)::integer as accepted_flag,
    'acme/repo-' || (i % 10) as repo_slug,
    ("timestamp")::date as event_date,
    (550 + i % 4000 + i % 700)::bigint as total_tokens,
    (i % 1000) / 10000.0 as cost_usd,
    case when i % 4 = 0 then (i % 100) / 100.0 end as diff_ratio,
    case when i % 4 = 0 then i % 80 end::bigint as accepted_lines,
    md5(i::varchar) || '00000000' as trace_hash,
    'req-' || i as request_id,
    ['acme', 'globex', 'initech'][1 + i % 3] as tenant_id,
    'team-' || (i % 7) as team_id,
    'key-' || (i % 20) as api_key_alias,
    md5((i % 20)::varchar) as api_key_hash,
    'org-' || (i % 3) as org_id,
    split_part(model, '/', 1) as provider,
    split_part(model, '/', 2) as model_group,
    'acompletion' as call_type,
    case when i % 50 = 0 then 'error' else 'success' end as status,
    case when i % 50 = 0 then '500' end as error_code,
    case when i % 50 = 0 then 'APIError' end as error_class,
    case when i % 2 = 0 then 120.0 + i % 900 end as ttft_ms,
    (i % 300)::bigint as cache_read_tokens,
    (i % 30)::bigint as cache_write_tokens,
    i % 97 = 0 as cache_hit,
    (i % 300) * 2.7e-6 as cache_savings_usd,
    'catalog' as pricing_status,
    3.0 as input_usd_per_mtok, 15.0 as output_usd_per_mtok,
    0.3 as cache_read_usd_per_mtok, 3.75 as cache_write_usd_per_mtok,
    (i % 1000) / 10000.0 as proxy_cost_usd,
    null::varchar as prompt_id, null::varchar as prompt_version,
    null::varchar as experiment_id, null::varchar as variant,
    md5((i // 3)::varchar) as trace_id,
    '/var/log/litellm/proxy-' || ("timestamp")::date || '.jsonl' as source_file,
    (i % 100000)::bigint as source_line,
    "timestamp" + interval 5 minute as ingested_at,
    '1735689600.0' as load_id
from range($rows) as t(i);
create or replace table marts.daily_session_metrics as
select tenant_id, event_date, developer_id, count(*) as request_count, sum(total_tokens) as total_tokens,
       sum(cost_usd) as cost_usd
from marts.sessions group by all;
"""
READER_QUERY = (
    "select model, count(*), sum(cost_usd) from {src} where event_date >= date '2025-03-01' group by 1"
)


def timed(label: str, fn) -> float:
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    print(f"{label:<58} {seconds:8.2f} s", flush=True)
    return seconds


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def views_only(home: Home, folder: Path) -> None:
    """What publishing as views needs: the Hive-partitioned sessions export and a database of views."""
    con = duckdb.connect(str(home.warehouse))
    con.execute(
        f"copy (select *, replace(repo_slug, '/', '-') as repo, strftime(event_date, '%Y-%m-%d') as date "
        f"from marts.sessions) to '{folder}' (format parquet, partition_by (repo, date), overwrite_or_ignore)"
    )
    con.close()
    views = home.root / "views.duckdb"
    views.unlink(missing_ok=True)
    con = duckdb.connect(str(views))
    con.execute("create schema marts")
    con.execute(
        f"create view marts.sessions as select * from read_parquet('{folder}/repo=*/date=*/*.parquet', "
        "hive_partitioning = true)"
    )
    con.close()


def table_copy(home: Home) -> None:
    """Copy the marts table by table into a new file (CTAS through ATTACH), checkpointed and fsynced."""
    out = home.root / "table-copy.duckdb"
    out.unlink(missing_ok=True)
    con = duckdb.connect(str(home.warehouse))
    con.execute("set enable_progress_bar = false")
    con.execute("checkpoint")
    con.execute(f"attach '{out}' as pub")
    con.execute("create schema pub.marts")
    for (table,) in con.execute(
        "select table_name from information_schema.tables where table_catalog = 'warehouse' and table_schema = 'marts'"
    ).fetchall():
        con.execute(f'create table pub.marts."{table}" as select * from marts."{table}"')
    con.execute("checkpoint pub")
    con.execute("detach pub")
    con.close()
    fd = os.open(out, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="prodlens-bench-publish-"))
    home = Home(root)
    home.ensure()
    print(f"{args.rows:,} session rows in {root}; DuckDB {duckdb.__version__}", flush=True)
    con = duckdb.connect(str(home.warehouse))
    sql = SESSIONS_SQL.replace("$rows", str(args.rows))
    timed("generate the working file", lambda: con.execute(sql))
    con.execute("checkpoint")
    con.close()
    print(f"{'working file size':<58} {size_mb(home.warehouse):8.0f} MB")

    copy_s = timed("publish = byte copy of the working file, trimmed to marts", lambda: publish_marts(home))
    print(f"{'published file size':<58} {size_mb(home.published):8.0f} MB")
    timed("(alternative) copy the marts table by table (CTAS)", lambda: table_copy(home))
    folder = root / "views-parquet"
    views_s = timed("publish = Parquet export (repo=/date=) + views file", lambda: views_only(home, folder))
    print(f"{'Parquet size (sessions, global tree)':<58} {size_mb(folder):8.0f} MB")
    timed("full export_parquet (global + tenant trees + aggregates)", lambda: export_parquet(home))
    timed("full export_parquet again (nothing changed)", lambda: export_parquet(home))
    print(f"{'parquet/ size':<58} {size_mb(home.parquet):8.0f} MB")

    con = duckdb.connect(str(home.published), read_only=True)
    timed(
        "reader query on the published copy",
        lambda: con.execute(READER_QUERY.format(src="marts.sessions")).fetchall(),
    )
    con.close()
    con = duckdb.connect(str(root / "views.duckdb"), read_only=True)
    timed(
        "reader query on the views over Parquet",
        lambda: con.execute(READER_QUERY.format(src="marts.sessions")).fetchall(),
    )
    con.close()
    print(f"copy / views publish time: {copy_s / views_s:.2f}")
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
