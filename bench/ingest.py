"""Ingest benchmark: `prodlens load traces` against DuckDB's own `read_json` on the same file.

    python bench/ingest.py                 # 1,000,000 lines (a few GB of JSONL)
    python bench/ingest.py --lines 100000  # quicker
    python bench/ingest.py --keep --workdir /tmp/plbench
    python bench/ingest.py --lines 20000 --files 4000   # many small files (an S3 bucket, one object
                                                        # per few requests): a directory of N files

It writes N LiteLLM StandardLoggingPayload lines with prompt/response content of realistic size
(about 1,500-2,000 characters per message) and 0.01% malformed lines, then times, each in its own
subprocess so wall time and peak RSS are the child's alone:

  (a) `prodlens load traces FILE` with a fresh PRODLENS_HOME;
  (b) DuckDB natively, its fastest path: `create table t as select * from read_json(FILE,
      format='newline_delimited', ignore_errors=true, columns={...})` with the payload's fields declared
      (NATIVE_COLUMNS: no auto-detection pass) into a fresh DuckDB file.

It prints both times, the ratio prodlens/native, both peak RSS values and the loader's summary line,
checks the summary against the generated counts, and writes the result as JSON to
bench/out/ingest-<timestamp>.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.synthetic import Synth

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "out"
POOL = 5_000  # distinct records; lines cycle through them with a fresh id and start time each
MALFORMED_RATE = 1e-4  # 0.01%
CONTENT_CHARS = (1500, 2000)
SPAN_SECONDS = 61 * 86400  # start times spread over two months
T0 = datetime(2025, 9, 1, tzinfo=UTC).timestamp()
WRITE_BATCH = 10_000

ID_MARK, START_MARK, END_MARK, FIRST_TOKEN_MARK = "@@ID@@", "@@START@@", "@@END@@", "@@TTFT@@"


# ---------------------------------------------------------------------------------------------- data
def _templates(seed: int, pool: int) -> list[tuple[bytes, float, float]]:
    """`pool` distinct StandardLoggingPayload records as bytes %-templates taking (line number, seed,
    pool index, start, end, completion start), each with its duration and time to first token, so
    lines are made by one formatting operation instead of json.dumps."""
    synth = Synth(seed=seed)
    sizes = random.Random(seed)
    out = []
    for _ in range(pool):
        synth.content_chars = sizes.randint(*CONTENT_CHARS)
        rec = synth.standard_logging_payload()
        start = rec["startTime"]
        duration = rec["endTime"] - start
        first_token = rec["completionStartTime"] - start
        rec.update(id=ID_MARK, startTime=START_MARK, endTime=END_MARK, completionStartTime=FIRST_TOKEN_MARK)
        text = (
            json.dumps(rec)
            .replace("%", "%%")
            .replace(f'"{ID_MARK}"', '"chatcmpl-%08x-%04x-4000-8000-%012x"')
            .replace(f'"{START_MARK}"', "%.6f")
            .replace(f'"{END_MARK}"', "%.6f")
            .replace(f'"{FIRST_TOKEN_MARK}"', "%.6f")
        )
        out.append((text.encode(), duration, first_token))
    return out


def _malformed(kind: int, line: bytes) -> bytes:
    """One bad line of four kinds, cycling: truncated JSON (a writer cut off mid-line), JSON that is
    not an object, no usable timestamp, a negative token count."""
    if kind == 0:
        return line[: len(line) // 2]
    if kind == 1:
        return b'["not", "an", "object"]'
    if kind == 2:
        return line.replace(b'"startTime": ', b'"startTime": "not a time", "_was": ', 1)
    return line.replace(b'"prompt_tokens": ', b'"prompt_tokens": -', 1)


def generate(path: Path, lines: int, seed: int = 7) -> dict:
    """Write `lines` JSONL lines to `path`; returns what was written (counts, bytes, seconds).
    Every line has its own id (so its own trace_hash) and start time."""
    started = time.perf_counter()
    pool = _templates(seed, min(POOL, max(lines, 1)))
    size = len(pool)
    step = SPAN_SECONDS / max(lines, 1)
    malformed = 0
    with open(path, "wb") as fh:
        for lo in range(0, lines, WRITE_BATCH):
            buf = []
            for i in range(lo, min(lo + WRITE_BATCH, lines)):
                template, duration, first_token = pool[i % size]
                start = T0 + i * step
                line = template % (i, seed, i % size, start, start + duration, start + first_token)
                if int((i + 1) * MALFORMED_RATE) > int(i * MALFORMED_RATE):
                    line = _malformed(malformed % 4, line)
                    malformed += 1
                buf.append(line)
            buf.append(b"")
            fh.write(b"\n".join(buf))
    return {
        "lines": lines,
        "malformed": malformed,
        "pool": size,
        "bytes": path.stat().st_size,
        "generate_s": round(time.perf_counter() - started, 2),
    }


def split_into(data: Path, folder: Path, files: int) -> Path:
    """The lines of `data` as `files` JSONL files of consecutive lines in `folder` (recreated)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    lines = data.read_bytes().splitlines(keepends=True)
    per_file = -(-len(lines) // files)
    for n, lo in enumerate(range(0, len(lines), per_file)):
        (folder / f"part-{n:07d}.jsonl").write_bytes(b"".join(lines[lo : lo + per_file]))
    return folder


# ---------------------------------------------------------------------------------------------- timing
def cpu_model() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, object]:
    """What a benchmark result records of the machine it ran on."""
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def timed(argv: list[str], *, env: dict | None = None, log: Path) -> dict:
    """Run argv; its wall time, peak RSS (of the child and its waited-for descendants), exit code and
    output. os.wait4 gives the rusage of this one child, so runs do not see each other's peaks."""
    load_before = os.getloadavg()[0]  # other work on the machine skews wall times
    with open(log.with_suffix(".out"), "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = log.with_suffix(".out").read_text(errors="replace")
    stderr = log.with_suffix(".err").read_text(errors="replace")
    return {
        "wall_s": round(wall, 2),
        "user_s": round(usage.ru_utime, 2),
        "sys_s": round(usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "exit_code": proc.returncode,
        "load_avg_before": round(load_before, 2),
        "stdout": stdout.strip(),
        "stderr_tail": stderr.strip()[-2000:],
    }


#: The payload's top-level fields with declared types: DuckDB's fastest reading of the same file (no
#: auto-detection pass); nested values are read as JSON.
NATIVE_COLUMNS = {
    "id": "VARCHAR",
    "trace_id": "VARCHAR",
    "call_type": "VARCHAR",
    "status": "VARCHAR",
    "model": "VARCHAR",
    "model_group": "VARCHAR",
    "custom_llm_provider": "VARCHAR",
    "api_base": "VARCHAR",
    "startTime": "DOUBLE",
    "endTime": "DOUBLE",
    "completionStartTime": "DOUBLE",
    "prompt_tokens": "BIGINT",
    "completion_tokens": "BIGINT",
    "total_tokens": "BIGINT",
    "response_cost": "DOUBLE",
    "cache_hit": "BOOLEAN",
    "request_tags": "JSON",
    "end_user": "VARCHAR",
    "metadata": "JSON",
    "hidden_params": "JSON",
    "error_information": "JSON",
    "messages": "JSON",
    "response": "JSON",
    "model_parameters": "JSON",
}

NATIVE = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute(
    "create table t as select * from read_json(?, format='newline_delimited', ignore_errors=true, "
    "columns=" + sys.argv[3] + ")",
    [sys.argv[2]],
)
print(con.execute("select count(*) from t").fetchone()[0], "rows")
"""


def _struct_literal(columns: dict[str, str]) -> str:
    """{'id': 'VARCHAR', ...} as a DuckDB struct literal for read_json's `columns`."""
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"


def run_prodlens(data: Path, work: Path) -> dict:
    home = work / "prodlens-home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "PRODLENS_HOME": str(home)}
    argv = [sys.executable, "-m", "prodlens.cli", "load", "traces", str(data)]
    result = timed(argv, env=env, log=work / "prodlens")
    found = re.search(r"traces: .*", result["stdout"])
    result["summary"] = found.group(0).strip() if found else ""
    wh = home / "warehouse.duckdb"
    result["warehouse_mb"] = round(wh.stat().st_size / 2**20, 1) if wh.exists() else None
    return result


def run_native(data: Path, work: Path) -> dict:
    db = work / "native.duckdb"
    for p in (db, db.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    pattern = str(data / "*.jsonl") if data.is_dir() else str(data)
    argv = [sys.executable, "-c", NATIVE, str(db), pattern, _struct_literal(NATIVE_COLUMNS)]
    result = timed(argv, log=work / "native")
    result["db_mb"] = round(db.stat().st_size / 2**20, 1) if db.exists() else None
    return result


def read_once(data: Path) -> None:
    """Read the input once before timing anything, so both timed commands find it in the page cache:
    prodlens runs first and alone would otherwise pay for a kept file that has left it (one run measured
    ratio 2.36 that way against 1.98-2.15 with the file cached)."""
    for path in sorted(data.rglob("*")) if data.is_dir() else [data]:
        if path.is_file():
            with path.open("rb", buffering=0) as fh:
                while fh.read(16 << 20):
                    pass


def reusable(data: Path, meta: Path, seed: int) -> dict | None:
    """The description of a data file an earlier `--keep` run left in the workdir, when it is intact."""
    try:
        gen = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    if gen.pop("seed", None) != seed or not data.exists() or data.stat().st_size != gen.get("bytes"):
        return None
    return gen


def expected_summary(gen: dict) -> str:
    bad = gen["malformed"]
    lines = gen["lines"]
    return f"traces: {lines} lines read, {lines - bad} loaded, 0 duplicates, {bad} dead-lettered"


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines to generate (default 1,000,000)")
    ap.add_argument("--keep", action="store_true", help="keep the generated file and databases")
    ap.add_argument("--workdir", type=Path, help="where to write the data (default: a new temp folder)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-native", action="store_true", help="time only prodlens (while iterating)")
    ap.add_argument(
        "--files",
        type=int,
        default=1,
        help="split the lines into this many files in one directory (default 1)",
    )
    args = ap.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="prodlens-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"litellm-{args.lines}.jsonl"
    meta = data.with_suffix(".meta.json")
    try:
        gen = reusable(data, meta, args.seed)
        if gen:
            print(f"reusing {data} (kept by an earlier --keep run)", flush=True)
        else:
            print(f"generating {args.lines:,} lines in {data} ...", flush=True)
            gen = generate(data, args.lines, args.seed)
            meta.write_text(json.dumps({**gen, "seed": args.seed}))
        gib = gen["bytes"] / 2**30
        print(f"  {gib:.2f} GiB, {gen['malformed']} malformed, {gen['generate_s']} s", flush=True)

        if args.files > 1:
            print(f"splitting into {args.files:,} files ...", flush=True)
            data = split_into(data, work / f"parts-{args.files}", args.files)
        read_once(data)
        print("timing prodlens load traces ...", flush=True)
        prodlens = run_prodlens(data, work)
        native = None
        if not args.skip_native:
            print("timing duckdb read_json ...", flush=True)
            native = run_native(data, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    ratio = round(prodlens["wall_s"] / native["wall_s"], 2) if native and native["wall_s"] else None
    expected = expected_summary(gen)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "data": {**gen, "files": args.files},
        "prodlens": prodlens,
        "native": native,
        "ratio": ratio,
        "summary_ok": prodlens["summary"].startswith(expected),
        "expected_summary": expected,
    }

    gib = gen["bytes"] / 2**30
    print()
    print(f"lines            {gen['lines']:>12,}   ({gen['malformed']} malformed) in {args.files:,} file(s)")
    print(f"file size        {gib:>12.2f} GiB ({gen['bytes'] / max(gen['lines'], 1):,.0f} bytes/line)")
    for name, run in (("prodlens", prodlens), ("duckdb read_json", native)):
        if run:
            cpu = run["user_s"] + run["sys_s"]
            print(
                f"{name:<16} {run['wall_s']:>12.2f} s     peak RSS {run['peak_rss_mb']:>8.0f} MiB"
                f"   cpu {cpu:.0f} s   load avg {run['load_avg_before']:.1f}   exit {run['exit_code']}"
            )
    if native:
        print(f"ratio            {ratio:>12.2f}       (prodlens / native; target <= 2, issue 13)")
    print(
        f"throughput       {gen['lines'] / prodlens['wall_s']:>12,.0f} lines/s, "
        f"{gib * 1024 / prodlens['wall_s']:.0f} MiB/s (prodlens)"
    )
    print(f"summary          {prodlens['summary'] or '(none)'}")
    if not result["summary_ok"]:
        print(f"  !! expected    {expected}")
    for name, run in (("prodlens", prodlens), ("native", native)):
        if run and run["exit_code"] != 0:
            print(f"  !! {name} failed:\n{run['stderr_tail']}")

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"ingest-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written          {out}")
    ok = prodlens["exit_code"] == 0 and result["summary_ok"] and (native is None or native["exit_code"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
