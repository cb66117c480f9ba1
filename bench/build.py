"""Build benchmark: the cron user's costs (ingest, full build, one more day, a run where nothing changed,
dashboard queries), each beside DuckDB's own typed read of the same files.

    python bench/build.py                   # 1,000,000 compact lines over 90 days (about 0.5 GB)
    python bench/build.py --rows 100000     # quicker; CI runs this once as a smoke test
    python bench/build.py --rows 10000000   # the 10M figure of docs/scale.md (about 5 GB, 40 GB free disk)
    python bench/build.py --keep --workdir /tmp/plbuild

Data: compact LiteLLM StandardLoggingPayload lines (no message content), `--tenants` tenants (default 3),
200 developers, 20 repositories, `--days` days (default 90) ending yesterday, one file per day, written by
DuckDB's own `COPY ... (format json)`. The last day is held back: it is the "one more day".

Every step runs as its own process (wall time, CPU and peak RSS from os.wait4), in this order:

  1. ingest:        `prodlens load traces DIR` of every day but the last;
  2. full build:    `prodlens build` (dbt build of the whole project, then publish);
  3. one more day:  after a first, untimed `prodlens run` (cron's first run after a `prodlens build`
                    builds and tests everything once), the last day's file is added and
                    `prodlens run` loads, builds and publishes it;
  4. no-op run:     `prodlens run` again, with nothing new;
  5. queries:       each `analyses/dashboard_*` query and the report's data gathering on the published
                    file, warm, `--repeat` times each: p50 and p95.

The DuckDB reference, timed in the same run: `read_json` of all the files with the columns declared
(no auto-detection) into a table, plus one daily aggregate (requests, tokens and cost per tenant and
day) — the least any tool must do to answer the first question. Each step prints its ratio to it.
The script exits 1 when a prodlens step fails or the row counts differ from what it generated; it
asserts no timing. Results go to bench/out/build-<timestamp>.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from bench.ingest import machine, timed

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
OUT_DIR = HERE / "out"
DEVELOPERS = 200
REPOS = 20
SESSION_REQUESTS = 25  # consecutive requests of one session

#: (provider, model, model group, $ per M input, $ per M output, share in percent)
MODELS = (
    ("anthropic", "claude-sonnet-4-20250514", "claude-sonnet", 3.0, 15.0, 45),
    ("anthropic", "claude-3-5-haiku-20241022", "claude-haiku", 0.8, 4.0, 25),
    ("openai", "gpt-4o", "gpt-4o", 2.5, 10.0, 15),
    ("openai", "gpt-4o-mini", "gpt-4o-mini", 0.15, 0.6, 15),
)

#: The compact payload's fields with declared types: DuckDB's fastest reading of the files.
NATIVE_COLUMNS = (
    "{'id': 'VARCHAR', 'trace_id': 'VARCHAR', 'call_type': 'VARCHAR', 'status': 'VARCHAR', "
    "'model': 'VARCHAR', 'model_group': 'VARCHAR', 'custom_llm_provider': 'VARCHAR', "
    "'startTime': 'DOUBLE', 'endTime': 'DOUBLE', 'completionStartTime': 'DOUBLE', "
    "'prompt_tokens': 'BIGINT', 'completion_tokens': 'BIGINT', 'total_tokens': 'BIGINT', "
    "'response_cost': 'DOUBLE', 'cache_hit': 'BOOLEAN', "
    "'metadata': 'STRUCT(user_api_key_user_email VARCHAR, user_api_key_team_id VARCHAR, "
    "tenant_id VARCHAR, session_id VARCHAR, repo VARCHAR)', "
    "'error_information': 'STRUCT(error_code VARCHAR, error_class VARCHAR)'}"
)

NATIVE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute(
    "create table requests as select * from read_json(?, format='newline_delimited', columns="
    + sys.argv[3] + ")",
    [sys.argv[2]],
)
con.execute(
    "create table daily as select metadata.tenant_id as tenant_id, "
    "cast(to_timestamp(startTime) at time zone 'UTC' as date) as event_date, count(*) as requests, "
    "sum(total_tokens) as tokens, sum(response_cost) as cost_usd from requests group by all"
)
print(con.execute("select count(*) from requests").fetchone()[0], "rows")
"""

QUERIES = r"""
import json, statistics, sys, time
from pathlib import Path
import duckdb
published, repeat, repo, tenant, since = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
queries = json.loads(Path(sys.argv[6]).read_text())
out = {}
con = duckdb.connect(published, read_only=True)
for name, sql in queries.items():
    con.execute(sql).fetchall()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); con.execute(sql).fetchall(); times.append(time.perf_counter() - t)
    out[name] = times
con.close()
import re
from datetime import date
from prodlens.home import Home
from prodlens.report import data
from prodlens.report.request import ReportRequest
request = ReportRequest(repo=repo, since=date.fromisoformat(since), output=Path("report.json"), tenant=tenant)
home = Home(Path(published).parent)
# each query of the report, by its place in one gather() and the first mart it reads
rows, calls, per_query = data._rows, [0], {}
def timed_rows(con, sql, params=None):
    t = time.perf_counter(); result = rows(con, sql, params); took = time.perf_counter() - t
    calls[0] += 1
    mart = re.search(r"\bfrom\s+(?:marts\.)?(\w+)", sql)
    name = f"report query {calls[0]:02d} ({mart.group(1) if mart else '?'})"
    per_query.setdefault(name, []).append(took)
    return result
data._rows = timed_rows
metrics = data.report_metrics
def timed_metrics(*args, **kwargs):
    t = time.perf_counter(); result = metrics(*args, **kwargs)
    per_query.setdefault("report metrics (report_metrics definition)", []).append(time.perf_counter() - t)
    return result
data.report_metrics = timed_metrics
data.gather(home, request)  # warm
per_query.clear()
times = []
for _ in range(repeat):
    calls[0] = 0
    t = time.perf_counter(); data.gather(home, request); times.append(time.perf_counter() - t)
out.update(per_query)
out[sys.argv[7]] = times
print(json.dumps(out))
"""


WHOLE_REPORT = "report: all its queries together"


# ---------------------------------------------------------------------------------------------- data
def _by_share(column: str, index: int) -> str:
    """A SQL CASE choosing MODELS[k][index] from a percentile `column` (0-99) by the models' shares."""
    parts, bound = [], 0
    for model in MODELS:
        bound += model[5]
        parts.append(f"when {column} < {bound} then {model[index]!r}")
    return "case " + " ".join(parts) + " end"


def _day_sql(rows: int, days: int, day: int, first_day: date, tenants: int) -> str:
    """The SELECT of one day's lines: rows lo..hi of the whole set, spread evenly over the day."""
    lo, hi = rows * day // days, rows * (day + 1) // days
    t0 = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC).timestamp()
    step = days * 86400 / rows
    return f"""
        with base as (
            select
                i,
                i // {SESSION_REQUESTS} as session,
                hash(i // {SESSION_REQUESTS}) % {DEVELOPERS} as developer,
                hash(i) % 100 as pct,
                hash(i * 31 + 7) % 1000 as noise,
                {t0} + (i + 0.5) * {step} as start_s
            from range({lo}, {hi}) as r(i)
        ),
        shaped as (
            select
                *,
                {_by_share("pct", 0)} as provider,
                {_by_share("pct", 1)} as model,
                {_by_share("pct", 2)} as model_group,
                {_by_share("pct", 3)} as input_usd_per_mtok,
                {_by_share("pct", 4)} as output_usd_per_mtok,
                400 + noise * 9 as prompt_tokens,
                20 + noise % 400 as completion_tokens,
                noise < 20 as failed,
                noise between 20 and 29 as cached
            from base
        )
        select
            printf('chatcmpl-bench-%010d', i) as id,
            printf('bench-session-%08d', session) as trace_id,
            'acompletion' as call_type,
            case when failed then 'failure' else 'success' end as status,
            model,
            model_group,
            provider as custom_llm_provider,
            start_s as startTime,
            start_s + 0.6 + noise / 250.0 as endTime,
            start_s + 0.2 + noise / 2000.0 as completionStartTime,
            prompt_tokens,
            case when failed then 0 else completion_tokens end as completion_tokens,
            prompt_tokens + case when failed then 0 else completion_tokens end as total_tokens,
            case when failed or cached then 0.0 else round(
                (prompt_tokens * input_usd_per_mtok + completion_tokens * output_usd_per_mtok) / 1e6, 8
            ) end as response_cost,
            cached as cache_hit,
            {{
                'user_api_key_user_email': printf('dev-%03d@bench.dev', developer),
                'user_api_key_team_id': printf('team-%d', developer % 10),
                'tenant_id': printf('tenant-%d', developer % {tenants}),
                'session_id': printf('bench-session-%08d', session),
                'repo': printf('bench/repo-%02d', hash(session * 7 + 3) % {REPOS})
            }} as metadata,
            case when failed then {{'error_code': '429', 'error_class': 'RateLimitError'}} end
                as error_information
        from shaped
        order by i
    """


def generate(folder: Path, rows: int, days: int, tenants: int) -> dict:
    """One JSONL file per day under folder/days/ (the last day under folder/next/), via DuckDB's COPY."""
    started = time.perf_counter()
    first_day = datetime.now(UTC).date() - timedelta(days=days)  # the last day is yesterday
    for sub in ("days", "next"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    for day in range(days):
        sub = "next" if day == days - 1 else "days"
        path = folder / sub / f"litellm-{first_day + timedelta(days=day)}.jsonl"
        sql = _day_sql(rows, days, day, first_day, tenants)
        con.execute(f"copy ({sql}) to '{path}' (format json)")
    con.close()
    files = sorted((folder / "days").glob("*.jsonl")) + sorted((folder / "next").glob("*.jsonl"))
    last_day_rows = rows - rows * (days - 1) // days
    return {
        "rows": rows,
        "days": days,
        "tenants": tenants,
        "developers": DEVELOPERS,
        "repos": REPOS,
        "first_day": first_day.isoformat(),
        "last_day_rows": last_day_rows,
        "bytes": sum(p.stat().st_size for p in files),
        "generate_s": round(time.perf_counter() - started, 1),
    }


# ---------------------------------------------------------------------------------------------- steps
def prodlens(args: list[str], home: Path, work: Path, name: str) -> dict:
    env = {**os.environ, "PRODLENS_HOME": str(home)}
    result = timed([sys.executable, "-m", "prodlens.cli", *args], env=env, log=work / name)
    result["step"] = name
    return result


def native(files_glob: str, work: Path) -> dict:
    db = work / "native.duckdb"
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)
    return timed([sys.executable, "-c", NATIVE, str(db), files_glob, NATIVE_COLUMNS], log=work / "native")


def write_config(path: Path, traces: Path) -> None:
    path.write_text(
        f'[traces]\npaths = ["{traces}"]\n\n[freshness]\nenabled = true\n\n[export]\nparquet = false\n'
    )


def compiled_dashboards(home: Path, work: Path) -> dict[str, str]:
    """The analyses/dashboard_* queries compiled by dbt against this home, pointed at the published
    file (whose catalog is its own name, not the working file's)."""
    env = {**os.environ, "PRODLENS_HOME": str(home)}
    code = (
        "import sys; from prodlens.dbt_runner import run_dbt; from prodlens.home import Home; "
        "sys.exit(0 if run_dbt(Home.from_env(), sys.argv[1:], quiet=True) else 1)"
    )
    subprocess.run(
        [sys.executable, "-c", code, "compile", "--select", "resource_type:analysis"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    folder = home / "dbt" / "target" / "compiled" / "prodlens" / "analyses"
    queries = {}
    for path in sorted(folder.glob("dashboard_*.sql")):
        queries[path.stem] = path.read_text().replace('"warehouse".', "")
    return queries


def time_queries(home: Path, work: Path, repeat: int, since: str) -> dict[str, dict]:
    queries = compiled_dashboards(home, work)
    spec = work / "queries.json"
    spec.write_text(json.dumps(queries))
    argv = [
        sys.executable,
        "-c",
        QUERIES,
        str(home / "prodlens.duckdb"),
        str(repeat),
        "bench/repo-00",
        "tenant-0",
    ]
    proc = subprocess.run([*argv, since, str(spec), WHOLE_REPORT], capture_output=True, text=True, check=True)
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        name: {
            "p50_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(statistics.quantiles(times, n=20)[-1] * 1000, 2),
        }
        for name, times in raw.items()
    }


def published_requests(home: Path) -> int:
    con = duckdb.connect(str(home / "prodlens.duckdb"), read_only=True)
    try:
        row = con.execute("select count(*) from marts.sessions").fetchone()
        return int(row[0] or 0) if row else 0
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="requests to generate (default 1,000,000)")
    ap.add_argument("--days", type=int, default=90, help="days they span, ending yesterday (default 90)")
    ap.add_argument("--tenants", type=int, default=3, help="tenants (default 3)")
    ap.add_argument("--repeat", type=int, default=20, help="timed repetitions of each query (default 20)")
    ap.add_argument("--keep", action="store_true", help="keep the data and the home")
    ap.add_argument("--workdir", type=Path, help="where to work (default: a new temp folder)")
    args = ap.parse_args(argv)
    if args.days < 2 or args.rows < args.days:
        ap.error("--days must be at least 2 and --rows at least --days")

    work = args.workdir or Path(tempfile.mkdtemp(prefix="prodlens-build-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data, home = work / "data", work / "home"
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    config = work / "prodlens.toml"
    steps: dict[str, dict] = {}
    try:
        print(f"generating {args.rows:,} requests over {args.days} days in {data} ...", flush=True)
        gen = generate(data, args.rows, args.days, args.tenants)
        print(f"  {gen['bytes'] / 2**20:,.0f} MiB in {gen['generate_s']} s", flush=True)
        write_config(config, data / "days")

        print("timing the DuckDB reference (typed read_json of every file plus a daily aggregate) ...")
        reference = native(f"{data}/*/*.jsonl", work)
        print("timing prodlens load traces (every day but the last) ...", flush=True)
        steps["ingest"] = prodlens(["load", "traces", str(data / "days")], home, work, "ingest")
        print("timing prodlens build (full) ...", flush=True)
        steps["full build"] = prodlens(["build"], home, work, "full-build")
        # untimed: the first scheduled run after a `prodlens build` builds and tests everything once (its
        # vars and arguments are the run's own), as cron's first run would; the timed one follows a run
        print("a first scheduled run (untimed) ...", flush=True)
        settle = prodlens(["run", "--config", str(config)], home, work, "first-run")
        if settle["exit_code"] != 0:
            steps["first run"] = settle
        print("timing prodlens run after one more day ...", flush=True)
        for path in (data / "next").glob("*.jsonl"):
            shutil.move(path, data / "days" / path.name)
        steps["one more day"] = prodlens(["run", "--config", str(config)], home, work, "one-more-day")
        print("timing prodlens run with nothing new ...", flush=True)
        steps["no-op run"] = prodlens(["run", "--config", str(config)], home, work, "no-op-run")
        failed = [name for name, step in steps.items() if step["exit_code"] != 0]
        queries: dict[str, dict] = {}
        published = 0
        if not failed:
            print(f"timing the dashboard queries ({args.repeat} warm runs each) ...", flush=True)
            queries = time_queries(home, work, args.repeat, gen["first_day"])
            published = published_requests(home)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    ok = not failed and reference["exit_code"] == 0 and published == args.rows
    print()
    print(
        f"data             {args.rows:>12,} requests, {args.days} days, {args.tenants} tenants, "
        f"{gen['bytes'] / 2**20:,.0f} MiB"
    )
    ref = reference["wall_s"]
    cpu = reference["user_s"] + reference["sys_s"]
    print(
        f"duckdb reference {ref:>10.2f} s   peak RSS {reference['peak_rss_mb']:>6.0f} MiB   cpu {cpu:.0f} s"
    )
    for name, step in steps.items():
        cpu = step["user_s"] + step["sys_s"]
        print(
            f"{name:<16} {step['wall_s']:>10.2f} s   peak RSS {step['peak_rss_mb']:>6.0f} MiB   cpu {cpu:.0f} s"
            f"   ratio {step['wall_s'] / ref:5.2f}   exit {step['exit_code']}"
        )
    single = {name: q for name, q in queries.items() if name != WHOLE_REPORT}
    worst = max(single, key=lambda name: single[name]["p95_ms"], default=None)
    for name, q in queries.items():
        print(f"  query {name:<44} p50 {q['p50_ms']:>8.2f} ms   p95 {q['p95_ms']:>8.2f} ms")
    if worst:
        print(
            f"queries          worst p95 {single[worst]['p95_ms']:.2f} ms ({worst}) over {len(single)} queries"
        )
    print(f"published        {published:,} requests in marts.sessions (generated {args.rows:,})")
    for name in failed:
        print(f"  !! {name} failed (exit {steps[name]['exit_code']}):\n{steps[name]['stderr_tail']}")

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "data": gen,
        "reference": reference,
        "steps": steps,
        "queries": queries,
        "published_requests": published,
        "ok": ok,
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"build-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written          {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
