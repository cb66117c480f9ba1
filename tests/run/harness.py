"""Helpers for the `prodlens run` tests: input with a known answer, configs, runs that are killed at a
named point (SIGKILL from the harness), and checks of the published database and the Parquet exports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from prodlens.home import Home
from prodlens.publish import MANIFEST

REPO_ROOT = Path(__file__).resolve().parents[2]
KILLER = Path(__file__).resolve().parent / "killer.py"
# A build of just the marts the crash tests check, without dbt's tests (they test the models, not crash
# safety): it keeps a run short enough to kill and rerun many times.
SESSIONS_ONLY = [
    "--select",
    "+sessions",
    "+rejected_traces",
    "--exclude",
    "resource_type:test",
    "resource_type:unit_test",
]


@dataclass
class Book:
    """Trace files written so far and what the warehouse must hold for them."""

    folder: Path
    good: set[str] = field(default_factory=set)  # request ids that must be in marts.sessions once
    bad: set[tuple[str, int]] = field(default_factory=set)  # (file, line) that must be dead letters
    files: int = 0

    def add_file(self, good: int = 40, duplicates: int = 3, bad: int = 2, *, days_ago: float = 1.0) -> Path:
        """A new JSONL file: `good` new requests, `duplicates` re-sent earlier ones, `bad` broken lines."""
        self.files += 1
        path = self.folder / f"proxy-{self.files:03d}.jsonl"
        base = datetime.now(UTC) - timedelta(days=days_ago)
        lines: list[str] = []
        earlier = sorted(self.good)[:duplicates]
        for i in range(good):
            rid = f"req-{self.files:03d}-{i:05d}"
            lines.append(
                json.dumps(
                    record(rid, base + timedelta(seconds=37 * i), tenant="acme" if i % 3 else "globex")
                )
            )
            self.good.add(rid)
        for rid in earlier:
            # re-sent by the same tenant (dedup is per tenant: another tenant's copy would be its own row)
            lines.append(json.dumps(record(rid, base, tenant=_tenant_of(rid))))
        broken = [
            '{"id": "cut-off", "startTime": 17',
            '["not", "an", "object"]',
            '{"id": "no-time", "model": "gpt-4o"}',
        ]
        for j in range(bad):
            lines.append(broken[j % len(broken)])
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines))
        for n, line in enumerate(lines, start=1):
            if line in broken:
                self.bad.add((str(path.resolve()), n))
        return path


def _tenant_of(rid: str) -> str:
    """The tenant `add_file` gave request `rid`."""
    return "acme" if int(rid.rsplit("-", 1)[1]) % 3 else "globex"


def record(rid: str, when: datetime, *, tenant: str = "acme", repo: str = "acme/web") -> dict:
    start = when.timestamp()
    return {
        "id": rid,
        "call_type": "acompletion",
        "status": "success",
        "model": "claude-sonnet-4-20250514",
        "custom_llm_provider": "anthropic",
        "startTime": start,
        "endTime": start + 1.25,
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "total_tokens": 1500,
        "metadata": {"user_api_key_user_email": "dev@acme.dev", "repo": repo, "tenant_id": tenant},
        "messages": [{"role": "user", "content": "SECRET PROMPT TEXT"}],
        "response": {"choices": [{"message": {"content": "SECRET RESPONSE TEXT"}}]},
    }


def write_config(home: Home, text: str) -> Path:
    home.root.mkdir(parents=True, exist_ok=True)
    path = home.root.parent / "prodlens.toml"
    path.write_text(text)
    return path


def crash_config(home: Home, traces: Path, *, export: bool = True) -> Path:
    return write_config(
        home,
        f"""
[traces]
paths = ["{traces}"]

[build]
args = {json.dumps(SESSIONS_ONLY)}

[freshness]
enabled = false

[export]
parquet = {"true" if export else "false"}
""",
    )


@dataclass
class Outcome:
    returncode: int
    killed: bool
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"exit {self.returncode} (killed={self.killed})\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def _env(home: Home, kill_at: str | None) -> dict[str, str]:
    env = {**os.environ, "PRODLENS_HOME": str(home.root)}
    env.pop("PRODLENS_KILL_AT", None)
    if kill_at:
        env["PRODLENS_KILL_AT"] = kill_at
    return env


def run(
    home: Home,
    config: Path,
    *,
    kill_at: str | None = None,
    kill_after: float | None = None,
    timeout: float = 900,
    extra: tuple[str, ...] = (),
) -> Outcome:
    """`prodlens run`; with `kill_at`, SIGKILL it when it stops at that kill point; with `kill_after`,
    SIGKILL it after that many seconds (if it is still running)."""
    logs = home.root.parent / "run-output"
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / "stdout", logs / "stderr"
    with open(out, "w") as fo, open(err, "w") as fe:
        proc = subprocess.Popen(
            [sys.executable, str(KILLER), "run", "--config", str(config), "--progress", "log", *extra],
            stdout=fo,
            stderr=fe,
            env=_env(home, kill_at),
            cwd=REPO_ROOT,
        )
        killed, code = _wait(proc, timeout, kill_after)
    return Outcome(code, killed, out.read_text(), err.read_text())


def _wait(proc: subprocess.Popen, timeout: float, kill_after: float | None) -> tuple[bool, int]:
    deadline = time.monotonic() + timeout
    kill_at = time.monotonic() + kill_after if kill_after is not None else None
    try:
        while True:
            pid, status = os.waitpid(proc.pid, os.WUNTRACED | os.WNOHANG)
            if pid == 0:
                now = time.monotonic()
                if kill_at is not None and now >= kill_at:
                    os.kill(proc.pid, signal.SIGKILL)
                    os.waitpid(proc.pid, 0)
                    return True, -9
                if now > deadline:
                    os.kill(proc.pid, signal.SIGKILL)
                    os.waitpid(proc.pid, 0)
                    raise AssertionError("prodlens run did not finish in time")
                time.sleep(0.02)
                continue
            if os.WIFSTOPPED(status):  # it reached its kill point: kill it there
                os.kill(proc.pid, signal.SIGKILL)
                os.waitpid(proc.pid, 0)
                return True, -9
            return False, os.waitstatus_to_exitcode(status)
    finally:
        proc.returncode = proc.returncode if proc.returncode is not None else -9


@dataclass
class Published:
    sessions: int
    rejected: int
    request_ids: set[str]
    dead: set[tuple[str, int]]
    relations: dict[str, int]


def published(home: Home) -> Published | None:
    """The published database's content, after checking that it is complete: every relation holds
    exactly the rows its manifest says (a half-written file could not pass)."""
    if not home.published.exists():
        return None
    con = duckdb.connect(str(home.published), read_only=True)
    try:
        manifest = dict(con.execute(f"select relation, row_count from {MANIFEST}").fetchall())
        actual = {
            f"marts.{t}": con.execute(f'select count(*) from marts."{t}"').fetchone()[0]
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        assert actual == manifest, f"published file does not match its manifest: {actual} != {manifest}"
        ids = [r[0] for r in con.execute("select request_id from marts.sessions").fetchall()]
        assert len(ids) == len(set(ids)), "a request appears twice in marts.sessions"
        dead = con.execute("select source_file, source_line from marts.rejected_traces").fetchall()
        assert len(dead) == len(set(dead)), "a dead letter appears twice"
        return Published(len(ids), len(dead), set(ids), set(dead), actual)
    finally:
        con.close()


def parquet_sessions(home: Home) -> int:
    files = list(home.parquet.glob("owner=*/repo=*/date=*/*.parquet"))
    if not files:
        return 0
    pattern = str(home.parquet / "owner=*" / "repo=*" / "date=*" / "*.parquet")
    with duckdb.connect() as con:
        return con.execute(
            f"select count(*) from read_parquet('{pattern}', hive_partitioning = true)"
        ).fetchone()[0]


def assert_exactly_once(home: Home, book: Book) -> Published:
    """Every good record is in marts.sessions once, every bad line is one dead letter, and the Parquet
    export agrees."""
    state = published(home)
    assert state is not None, "no published database"
    assert state.request_ids == book.good, (
        f"missing {sorted(book.good - state.request_ids)[:5]}, unexpected {sorted(state.request_ids - book.good)[:5]}"
    )
    assert state.dead == book.bad, f"dead letters differ: {sorted(state.dead ^ book.bad)[:5]}"
    if home.parquet.exists():
        assert parquet_sessions(home) == len(book.good)
    leftovers = [
        p.name for p in home.root.iterdir() if p.name.startswith((".prodlens.duckdb.", ".parquet-staging-"))
    ]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    assert_no_row_data_left(home)
    for entry in (json.loads(line) for line in home.runs_log.read_text().splitlines() if line.strip()):
        if entry["job"] == "load-traces":  # every recorded load reconciles its own lines
            d = entry["details"]
            assert d["read"] == d["loaded"] + d["duplicates"] + d["dead_lettered"] + d["expired"], d
    return state


def assert_no_row_data_left(home: Home) -> None:
    """Completed dlt load packages keep no job files (they hold row data), nothing is pending, and the
    staging dataset is empty after the merge."""
    job_folders = {"completed_jobs", "new_jobs", "started_jobs"}
    jobs = [p for p in home.dlt_dir.rglob("*") if p.is_file() and job_folders & set(p.parts)]
    assert not jobs, f"load package files left behind: {jobs[:3]}"
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        staged = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw_staging' "
            "and table_name in ('litellm_requests', 'litellm_rejects')"
        ).fetchall()
        for (table,) in staged:
            assert con.execute(f"select count(*) from raw_staging.{table}").fetchone()[0] == 0


# ---------------------------------------------------------------------------------- kill and recover
def start(tmp_path: Path, *, files: int = 2) -> tuple[Home, Book, Path]:
    """A home; with `files`, after a first successful run over that many trace files."""
    home = Home(tmp_path / "home")
    book = Book(tmp_path / "traces")
    config = crash_config(home, book.folder)
    if files:
        for _ in range(files):
            book.add_file()
        first = run(home, config)
        assert first.returncode == 0, first.describe()
        assert_exactly_once(home, book)
    return home, book, config


def parquet_readable(home: Home) -> None:
    """Every Parquet file under parquet/ is complete (a half-written file would not open)."""
    with duckdb.connect() as con:
        for path in home.parquet.rglob("*.parquet"):
            con.execute(f"select count(*) from read_parquet('{path}')").fetchone()


def kill_and_recover(
    home: Home, book: Book, config: Path, points: tuple[str, ...] = (), kill_after: list[float] | None = None
) -> tuple[float, int]:
    """Add input; run killed at each named point (or after each number of seconds) in turn; then rerun.
    Returns the rerun's duration and how many runs were killed."""
    kills = 0
    before = published(home)  # None before the first publish
    book.add_file(good=30, duplicates=4, bad=3)
    book.add_file(good=25, duplicates=2, bad=1)
    kills_at: list[tuple[str | None, float | None]] = [(p, None) for p in points] + [
        (None, seconds) for seconds in kill_after or []
    ]
    for point, seconds in kills_at:
        killed = run(home, config, kill_at=point, kill_after=seconds)
        kills += killed.killed
        if point:
            assert killed.killed, f"kill point {point} was never reached:\n{killed.describe()}"
        else:
            assert killed.killed or killed.returncode == 0, killed.describe()
        point = point or f"{seconds:.1f} s"
        after_kill = published(home)  # raises when the file does not match its manifest
        if before is None and after_kill is None:
            continue  # nothing published yet, and still nothing: the old version
        assert after_kill is not None, f"the published database disappeared after {point}"
        old = (before.request_ids, before.dead) if before else None
        assert (after_kill.request_ids, after_kill.dead) in (old, (book.good, book.bad)), (
            f"half a version published after {point}"
        )
        parquet_readable(home)
    started = time.monotonic()
    rerun = run(home, config)
    duration = time.monotonic() - started
    assert rerun.returncode == 0, f"rerun after kills at {kills_at} failed:\n{rerun.describe()}"
    state: Published = assert_exactly_once(home, book)
    assert state.sessions == len(book.good) and state.rejected == len(book.bad)
    return duration, kills
