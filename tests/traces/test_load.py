"""The trace loader end to end: files, re-runs, appends, dead letters, reconciliation, and the marts."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from prodlens.home import Home
from prodlens.processes import alive
from tests.conftest import BUILD_SESSIONS, prodlens, query, write_jsonl

SUMMARY = re.compile(r"(\d+) lines read, (\d+) loaded, (\d+) duplicates, (\d+) dead-lettered")


def rec(i: int, **extra: object) -> dict:
    return {
        "id": f"req-{i}",
        "startTime": 1760295600 + i,
        "model": "gpt-4o",
        "prompt_tokens": 10 * i,
        "completion_tokens": i,
        **extra,
    }


def load(home: Home, *paths: Path | str, extra: tuple[str, ...] = ()) -> tuple[int, int, int, int]:
    out = prodlens("load", "traces", *map(str, paths), *extra, home=home).stdout
    match = SUMMARY.search(out)
    assert match, out
    read, loaded, dups, dead = map(int, match.groups())
    assert read == loaded + dups + dead, out
    return read, loaded, dups, dead


def raw_count(home: Home, table: str = "litellm_requests") -> int:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from raw.{table}").fetchone()[0]


def test_rerun_loads_nothing_new_and_appended_lines_load_once(home: Home, tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "proxy.jsonl", [rec(1), rec(2), rec(3)])
    assert load(home, log) == (3, 3, 0, 0)
    assert load(home, log) == (0, 0, 0, 0)
    with log.open("a") as fh:  # the proxy appends
        fh.write(json.dumps(rec(4)) + "\n" + json.dumps(rec(5)) + "\n")
    assert load(home, log) == (2, 2, 0, 0)
    assert raw_count(home) == 5
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        lines = [
            r[0] for r in con.execute("select source_line from raw.litellm_requests order by 1").fetchall()
        ]
    assert lines == [1, 2, 3, 4, 5]


def test_unfinished_last_line_waits_for_the_writer(home: Home, tmp_path: Path) -> None:
    log = tmp_path / "proxy.jsonl"
    log.write_text(json.dumps(rec(1)) + "\n" + json.dumps(rec(2))[:20])
    out = prodlens("load", "traces", str(log), home=home).stdout
    assert "1 lines read, 1 loaded" in out and "unfinished last line" in out
    log.write_text(json.dumps(rec(1)) + "\n" + json.dumps(rec(2)) + "\n")
    assert load(home, log) == (1, 1, 0, 0)
    assert raw_count(home) == 2


def test_new_file_in_watched_directory_and_same_record_in_another_file(home: Home, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_jsonl(logs / "a.jsonl", [rec(1), rec(2)])
    assert load(home, logs) == (2, 2, 0, 0)
    write_jsonl(logs / "sub" / "b.ndjson", [rec(2), rec(3)])  # rec(2) again, from another file
    assert load(home, logs) == (2, 1, 1, 0)
    assert raw_count(home) == 3


def test_replaced_file_is_reread_without_doubling(home: Home, tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "proxy.jsonl", [rec(1), rec(2)])
    load(home, log)
    write_jsonl(log, [rec(9), rec(1), rec(2), rec(3)])  # rotated: a different file at the same path
    assert load(home, log) == (4, 2, 2, 0)
    assert raw_count(home) == 4


def test_gzip_json_object_json_array_and_glob(home: Home, tmp_path: Path) -> None:
    with gzip.open(tmp_path / "a.jsonl.gz", "wt") as fh:
        fh.write(json.dumps(rec(1)) + "\n" + json.dumps(rec(2)) + "\n")
    day = tmp_path / "bucket" / "2025-10-12"
    day.mkdir(parents=True)
    (day / "one.json").write_text(json.dumps(rec(3), indent=2))
    (tmp_path / "bucket" / "many.json").write_text(json.dumps([rec(4), rec(5), {"bad": "no time"}]))
    (tmp_path / "bucket" / "notes.txt").write_text("ignored: not a trace file")
    assert load(home, tmp_path / "a.jsonl.gz", str(tmp_path / "bucket" / "**" / "*.json")) == (6, 5, 0, 1)
    assert load(home, tmp_path / "a.jsonl.gz", tmp_path / "bucket") == (0, 0, 0, 0)


def test_dead_letters_reasons_and_reconciliation_in_marts(home: Home, tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            rec(1),
            '{"id": "x", "startTime": 17602956',
            "[1, 2, 3]",
            '"just a string"',
            json.dumps({"id": "nt", "model": "gpt-4o"}),
            json.dumps({"id": "bt", "timestamp": "not a time"}),
            json.dumps(rec(2, prompt_tokens=-1)),
            json.dumps(rec(3, completion_tokens="lots")),
            rec(1),
        ],
    )
    assert load(home, log) == (9, 1, 1, 7)
    prodlens("build", *BUILD_SESSIONS, home=home)
    reasons = {r["source_line"]: r["reason"] for r in query(home, "select * from marts.rejected_traces")}
    assert reasons == {
        2: "invalid JSON",
        3: "JSON is not an object (array)",
        4: "JSON is not an object (varchar)",
        5: "no usable timestamp",
        6: "no usable timestamp",
        7: "negative token count in prompt_tokens",
        8: "non-numeric token count in completion_tokens",
    }
    rows = query(home, "select count(*) as n from marts.sessions")
    assert rows == [{"n": 1}]
    texts = query(home, "select source_file, raw_text from marts.rejected_traces where source_line = 6")
    assert texts[0]["source_file"] == str(log.resolve())
    assert json.loads(texts[0]["raw_text"]) == {"id": "bt", "timestamp": "not a time"}


def test_load_twice_never_doubles_rows_in_marts(home: Home, tmp_path: Path) -> None:
    a = write_jsonl(tmp_path / "a.jsonl", [rec(1), rec(2)])
    b = write_jsonl(tmp_path / "b.jsonl", [rec(2), rec(1, latency_ms=5)])
    load(home, a)
    load(home, b)
    prodlens("build", *BUILD_SESSIONS, home=home)
    rows = query(home, "select request_id, count(*) as n from marts.sessions group by 1 order by 1")
    assert rows == [{"request_id": "req-1", "n": 1}, {"request_id": "req-2", "n": 1}]


def test_defaults_for_repo_and_tenant(home: Home, tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "a.jsonl", [rec(1), rec(2, metadata={"repo": "acme/own", "tenant_id": "t2"})]
    )
    load(home, log, extra=("--repo", "Acme/Default", "--tenant", "t1"))
    prodlens("build", *BUILD_SESSIONS, home=home)
    rows = query(home, "select request_id, repo_slug, tenant_id from marts.sessions order by 1")
    assert rows == [
        {"request_id": "req-1", "repo_slug": "acme/default", "tenant_id": "t1"},
        {"request_id": "req-2", "repo_slug": "acme/own", "tenant_id": "t2"},
    ]


# --------------------------------------------------------------------------- CLI errors
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("load", "traces", "/nonexistent/logs.jsonl"), "/nonexistent/logs.jsonl: no such file or directory"),
        (("load", "traces", "/nonexistent/*.jsonl"), "no files match '/nonexistent/*.jsonl'"),
        (("load", "traces", "pyproject.toml"), "pyproject.toml: not a trace file"),
        (
            ("load", "traces", "sample_data/litellm", "--repo", "../etc"),
            "--repo '../etc' is not an OWNER/NAME repository slug",
        ),
        (("load", "traces", "--bogus", "x"), "unrecognized arguments: --bogus"),
        (("query", "select 1"), "no ProdLens database at"),
        (("build",), "nothing to build"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_cli_errors_are_one_clear_line(home: Home, args: tuple[str, ...], needle: str) -> None:
    proc = prodlens(*args, home=home, check=False)
    assert proc.returncode != 0
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(proc.stderr.strip().splitlines()) <= 3  # argparse adds a usage line


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # CI runs as root, where chmod 0 does not stop reads: simulate the permission check instead.
    from loaders.litellm import files
    from loaders.litellm.files import TraceFileError

    log = write_jsonl(tmp_path / "secret.jsonl", [rec(1)])
    monkeypatch.setattr(files.os, "access", lambda path, mode: False)
    with pytest.raises(TraceFileError, match=r"secret.jsonl: cannot read this file \(permission denied\)"):
        files.discover([str(log)])


def test_locked_database_gives_a_clear_error(home: Home, tmp_path: Path) -> None:
    load(home, write_jsonl(tmp_path / "a.jsonl", [rec(1)]))
    b = write_jsonl(tmp_path / "b.jsonl", [rec(2)])
    holder = duckdb.connect(str(home.warehouse))  # this test process holds the write lock
    try:
        proc = prodlens("load", "traces", str(b), home=home, check=False)
    finally:
        holder.close()
    assert proc.returncode == 3, proc.stderr
    assert "is locked by process" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert load(home, b) == (1, 1, 0, 0)  # nothing was consumed by the failed run


def test_spill_folders_of_dead_loaders_are_removed(home: Home, tmp_path: Path) -> None:
    """A killed load leaves DuckDB spill files in PRODLENS_HOME/tmp/<pid>; the next load removes the
    folders of dead processes (and its own), never those of a loader still running."""
    dead_pid = max(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()) + 1000
    assert not alive(dead_pid)
    dead = home.spill_root / str(dead_pid)
    running = home.spill_root / str(os.getpid())  # this test's process stands for a running loader
    for folder in (dead, running):
        folder.mkdir(parents=True)
        (folder / "duckdb_temp_storage-0.tmp").write_bytes(b"\0" * 1024)
    log = write_jsonl(tmp_path / "proxy.jsonl", [rec(1)])
    assert load(home, log) == (1, 1, 0, 0)
    assert sorted(p.name for p in home.spill_root.iterdir()) == [running.name]


def test_rows_of_an_aborted_load_do_not_make_the_reload_count_duplicates(home: Home, tmp_path: Path) -> None:
    """After a package loaded partly and was aborted (`dlt ... abort-packages`, docs/operations.md), its
    rows stay in raw.litellm_requests under a load id that never completed: staging hides them, so the
    reload must load those records again (its merge replaces the stale rows), not call them duplicates."""
    first = write_jsonl(tmp_path / "first.jsonl", [rec(1)])
    assert load(home, first) == (1, 1, 0, 0)
    with duckdb.connect(str(home.warehouse)) as con:
        # what the partial package left behind: rows under a load id that is not in _dlt_loads
        con.execute(
            "insert into raw.litellm_requests by name "
            "select * replace ('1760000000.123' as _dlt_load_id, 'req-2' as request_id, "
            "sha1('default' || chr(31) || 'req-2') as trace_hash) from raw.litellm_requests"
        )
        assert con.execute("select count(*) from raw.litellm_requests").fetchone() == (2,)
    again = write_jsonl(tmp_path / "again.jsonl", [rec(1), rec(2)])
    assert load(home, again) == (2, 1, 1, 0)  # req-1 was completed: a duplicate; req-2 was not
    prodlens("build", *BUILD_SESSIONS, home=home)
    rows = query(home, "select request_id, tokens_in from marts.sessions order by request_id")
    assert rows == [{"request_id": "req-1", "tokens_in": 10}, {"request_id": "req-2", "tokens_in": 20}]
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from raw.litellm_requests where request_id = 'req-2'"
        ).fetchone() == (1,)


def test_a_bad_tenant_option_is_refused_in_one_line(home: Home, tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "a.jsonl", [rec(1)])
    proc = prodlens("load", "traces", str(log), "--tenant", "../../etc", home=home, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "prodlens: error: --tenant '../../etc' is not a tenant id (1-64 letters, digits, '.', '_' or '-', starting "
        "with a letter or digit)"
    ]
    assert not home.warehouse.exists()


def test_a_file_rewritten_with_the_same_size_and_mtime_is_read_again(home: Home, tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "a.jsonl", [rec(1), rec(2)])
    stat = log.stat()
    assert load(home, log) == (2, 2, 0, 0)
    # same length, same mtime, other records (req-3 and req-4 replace req-1 and req-2)
    text = log.read_text().replace("req-1", "req-3").replace("req-2", "req-4")
    assert len(text) == stat.st_size
    log.write_text(text)
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert log.stat().st_size == stat.st_size and log.stat().st_mtime_ns == stat.st_mtime_ns
    assert load(home, log) == (2, 2, 0, 0)
    assert load(home, log) == (0, 0, 0, 0)  # and now it is unchanged


def test_a_truncated_gzip_keeps_its_lines_and_is_read_again_when_it_grows(home: Home, tmp_path: Path) -> None:
    """A `.jsonl.gz` still being written (cut short) and one that is not gzip at all: each is one dead
    letter for the file, the complete lines of the cut one are loaded, the good file beside them loads,
    and once the cut file is whole the next run loads the rest, with nothing doubled."""
    records = [rec(i, padding="x" * 200) for i in range(1, 201)]
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode())
    cut = tmp_path / "logs" / "growing.jsonl.gz"
    cut.parent.mkdir()
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    (tmp_path / "logs" / "not-gzip.jsonl.gz").write_text(json.dumps(rec(999)) + "\n")
    write_jsonl(tmp_path / "logs" / "good.jsonl", [rec(500)])
    out = prodlens("load", "traces", str(tmp_path / "logs"), home=home).stdout
    _, loaded, dups, dead = map(int, SUMMARY.search(out).groups())  # type: ignore[union-attr]
    assert dead == 2 and dups == 0, out
    assert 1 < loaded - 1 < len(records), out  # some, not all, of the cut file's lines, and good.jsonl
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        reasons = con.execute(
            "select source_file, source_line, reason from raw.litellm_rejects order by source_file"
        ).fetchall()
        first_rows = con.execute("select count(*) from raw.litellm_requests").fetchone()[0]
    assert [(Path(f).name, n) for f, n, _ in reasons] == [("growing.jsonl.gz", 0), ("not-gzip.jsonl.gz", 0)]
    assert all(r.startswith("unreadable gzip (") for _, _, r in reasons)
    assert first_rows == loaded
    cut.write_bytes(whole)  # the writer finished the file
    _, loaded2, dups2, dead2 = load(home, cut)
    assert (dups2, dead2) == (0, 0) and loaded + loaded2 == len(records) + 1
    prodlens("build", *BUILD_SESSIONS, home=home)
    rows = query(home, "select count(*) as n, count(distinct request_id) as ids from marts.sessions")
    assert rows == [{"n": len(records) + 1, "ids": len(records) + 1}]


def test_a_csv_that_is_not_a_spendlogs_export_is_one_dead_letter(home: Home, tmp_path: Path) -> None:
    """CSV files are read as LiteLLM_SpendLogs exports; one without request_id and startTime columns is a
    dead letter naming what is missing, and the trace file beside it loads."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "budget.csv").write_text("team,monthly_usd\ncore,500\n")
    write_jsonl(logs / "good.jsonl", [rec(1)])
    out = prodlens("load", "traces", str(logs), home=home).stdout
    _, loaded, dups, dead = map(int, SUMMARY.search(out).groups())  # type: ignore[union-attr]
    assert (loaded, dups, dead) == (1, 0, 1), out
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        reasons = con.execute("select source_file, source_line, reason from raw.litellm_rejects").fetchall()
    assert reasons == [
        (
            str((logs / "budget.csv").resolve()),
            0,
            "a CSV file without LiteLLM_SpendLogs' request_id, startTime column(s): only SpendLogs exports "
            "with LiteLLM's column names are read as CSV",
        )
    ]


def dlt_loads(home: Home) -> int:
    return raw_count(home, "_dlt_loads")


def last_load_details(home: Home) -> dict:
    entries = [json.loads(line) for line in home.runs_log.read_text().splitlines()]
    return [e for e in entries if e["job"] == "load-traces"][-1]["details"]


def test_a_load_where_no_file_changed_skips_dlt_and_is_still_recorded(home: Home, tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "logs" / "proxy.jsonl", [rec(1), rec(2)])
    write_jsonl(tmp_path / "logs" / "other.jsonl", [rec(3)])
    assert load(home, tmp_path / "logs") == (3, 3, 0, 0)
    loads = dlt_loads(home)
    assert load(home, tmp_path / "logs") == (0, 0, 0, 0)
    assert dlt_loads(home) == loads  # dlt did not run: not even a state-only load
    details = last_load_details(home)
    assert details["unchanged_files"] is True and details["files"] == 2 and details["files_changed"] == 0

    # one more file in the folder: dlt runs, and reads only that file
    write_jsonl(tmp_path / "logs" / "new.jsonl", [rec(4)])
    assert load(home, tmp_path / "logs") == (1, 1, 0, 0)
    assert "unchanged_files" not in last_load_details(home)
    # the same bytes written again (new mtime): dlt runs and finds the lines it already has
    log.write_text(log.read_text())
    os.utime(log, ns=(log.stat().st_atime_ns, log.stat().st_mtime_ns + 1_000_000_000))
    assert load(home, tmp_path / "logs") == (0, 0, 0, 0)
    assert "unchanged_files" not in last_load_details(home)
    assert raw_count(home) == 4

    # a new working file (the old one deleted): everything is read again, nothing is skipped
    for path in home.root.glob("warehouse.duckdb*"):
        path.unlink()
    assert load(home, tmp_path / "logs")[1] == 4
    assert raw_count(home) == 4


def test_the_unchanged_files_record_is_dropped_before_dlt_runs(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prodlens import pipeline

    # tables binds run_pipeline when first imported: import it before the patch, or it keeps the patch
    # for the rest of the process (a later load in the same pytest worker was "killed" too)
    from prodlens.ingest import seen_files, tables, traces  # noqa: F401

    log = write_jsonl(tmp_path / "proxy.jsonl", [rec(1)])
    assert load(home, log) == (1, 1, 0, 0)
    assert seen_files.record_path(home).exists()
    with log.open("a") as fh:
        fh.write(json.dumps(rec(2)) + "\n")

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # the load dies midway; dlt may have left a package pending

    monkeypatch.setattr(pipeline, "run_pipeline", killed)  # load_traces imports it when some file changed
    with pytest.raises(KeyboardInterrupt):
        traces.load_traces(home, [str(log)])
    assert not seen_files.record_path(home).exists()  # so the next load runs dlt and finishes it
    monkeypatch.undo()
    assert load(home, log) == (1, 1, 0, 0)
    assert raw_count(home) == 2
