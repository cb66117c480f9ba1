"""The run's steps: order, a failed step stops the run with its exit code, and every run is recorded."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

import prodlens.run.steps as steps
import prodlens.runlog as runlog
from prodlens import build_state
from prodlens.build import failed_among, failed_nodes
from prodlens.errors import DatabaseLocked, PendingPackageStuck, UserError
from prodlens.home import Home
from prodlens.run.config import FreshnessConfig, GithubConfig, RunConfig, TracesConfig
from prodlens.run.freshness import SourceFreshness
from prodlens.run.progress import Reporter
from prodlens.run.steps import EXIT_CODES, STEPS, Outcome, RunContext, execute

CONFIG = RunConfig(traces=TracesConfig(paths=("/logs",)), github=GithubConfig(repos=("acme/web",)))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace every step by a recorder that succeeds."""
    seen: list[str] = []
    for name in STEPS:
        monkeypatch.setitem(steps.STEP_FUNCTIONS, name, _ok(name, seen))
    return seen


def _ok(name: str, seen: list[str]) -> Callable[[RunContext], Outcome]:
    def step(ctx: RunContext) -> Outcome:
        seen.append(name)
        return Outcome(line=f"{name} done", details={"name": name}, rows=2 if name == "load" else 0)

    return step


def _fail(exc: BaseException) -> Callable[[RunContext], Outcome]:
    def step(ctx: RunContext) -> Outcome:
        raise exc

    return step


def runs_log(home: Home) -> list[dict]:
    return [json.loads(line) for line in home.runs_log.read_text().splitlines()]


def context(home: Home, config: RunConfig = CONFIG) -> RunContext:
    home.ensure()
    return RunContext(home, config, Reporter("quiet"))


def test_steps_run_in_order_and_the_run_is_recorded(home: Home, calls: list[str]) -> None:
    report = execute(context(home))
    assert calls == ["load", "retention", "build", "publish", "export", "freshness"]
    assert report.exit_code == 0 and report.status == "success" and report.rows == 2
    assert [step for step, _ in report.lines] == list(STEPS)
    entry = runs_log(home)[-1]
    assert entry["job"] == "run" and entry["status"] == "success" and entry["row_count"] == 2
    assert list(entry["details"]["steps"]) == list(STEPS)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        row = con.execute("select job, status, row_count, details from raw.etl_runs").fetchone()
    assert row[:3] == ("run", "success", 2)
    assert json.loads(row[3])["exit_code"] == 0


@pytest.mark.parametrize(
    ("step", "error", "code"),
    [
        ("load", UserError("no such file"), 10),
        ("retention", UserError("locked"), 12),
        ("build", UserError("dbt build failed"), 13),
        ("build", DatabaseLocked("database is locked by process 7"), 13),
        ("publish", OSError("disk full"), 14),
        ("export", ValueError("bad partition"), 15),
    ],
)
def test_a_failed_step_stops_the_run(
    home: Home, calls: list[str], monkeypatch: pytest.MonkeyPatch, step: str, error: BaseException, code: int
) -> None:
    monkeypatch.setitem(steps.STEP_FUNCTIONS, step, _fail(error))
    report = execute(context(home))
    assert report.exit_code == code == EXIT_CODES[step]
    assert report.failed_step == step and report.status == "failed"
    assert calls == list(STEPS[: STEPS.index(step)])  # nothing after the failed step ran
    entry = runs_log(home)[-1]
    assert entry["status"] == "failed"
    assert entry["details"]["failed_step"] == step and str(error) in entry["details"]["error"]
    if not isinstance(error, UserError):  # a bug: its traceback is kept
        assert "Traceback" in entry["details"]["steps"][step]["traceback"]


def test_load_tries_every_source_then_fails(
    home: Home, monkeypatch: pytest.MonkeyPatch, calls: list[str]
) -> None:
    loaded: list[str] = []

    def traces(ctx: RunContext, outcome: Outcome) -> list[str]:
        loaded.append("traces")
        return ["traces: 5 loaded"]

    def github(ctx: RunContext, outcome: Outcome) -> list[str]:
        loaded.append("github")
        raise UserError("github acme/web: repository not found (404)")

    monkeypatch.setitem(steps.STEP_FUNCTIONS, "load", steps.step_load)
    monkeypatch.setattr(steps, "_load_traces", traces)
    monkeypatch.setattr(steps, "_load_github", github)
    report = execute(context(home))
    assert loaded == ["traces", "github"] and calls == []
    assert report.exit_code == 10 and "404" in (report.error or "")
    assert runs_log(home)[-1]["details"]["steps"]["load"]["loaded"] == ["traces: 5 loaded"]


def test_a_stuck_dlt_package_has_its_own_exit_code(
    home: Home, monkeypatch: pytest.MonkeyPatch, calls: list[str]
) -> None:
    def traces(ctx: RunContext, outcome: Outcome) -> list[str]:
        raise PendingPackageStuck("package 123 violates the schema contract ... with: dlt --yes pipeline ...")

    monkeypatch.setitem(steps.STEP_FUNCTIONS, "load", steps.step_load)
    monkeypatch.setattr(steps, "_load_traces", traces)
    report = execute(context(home, RunConfig(traces=TracesConfig(paths=("/logs",)))))
    assert report.exit_code == 11 == EXIT_CODES["load-stuck"] and report.failed_step == "load"


def test_stale_sources_are_warnings_unless_fail_on_error(
    home: Home, monkeypatch: pytest.MonkeyPatch, calls: list[str]
) -> None:
    results = [
        SourceFreshness("litellm.litellm_requests", "error", 80.0, None, 24, 72),
        SourceFreshness("github.pull_requests", "pass", 1.0, None, 24, 72),
    ]
    monkeypatch.setattr("prodlens.run.freshness.check_freshness", lambda *a: results)
    monkeypatch.setitem(steps.STEP_FUNCTIONS, "freshness", steps.step_freshness)
    report = execute(context(home))
    assert report.exit_code == 0
    assert report.warnings == [
        "stale source litellm.litellm_requests: error (last load 80.0 h ago; warn 24 h, error 72 h)"
    ]
    strict = RunConfig(traces=CONFIG.traces, freshness=FreshnessConfig(fail_on_error=True))
    report = execute(context(home, strict))
    assert report.exit_code == 16 and report.status == "stale" and "litellm_requests" in (report.error or "")


def test_runs_log_is_written_even_when_etl_runs_cannot_be(
    home: Home, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*args: object, **kwargs: object) -> None:
        raise DatabaseLocked("database warehouse.duckdb is locked by process 42")

    monkeypatch.setattr(runlog, "connect", locked)
    report = execute(context(home))
    entry = runs_log(home)[-1]
    assert entry["job"] == "run" and "locked by process 42" in entry["details"]["etl_runs"]
    assert report.exit_code == 0 and any("run record incomplete" in w for w in report.warnings)


def test_summary_rendering(home: Home, calls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from prodlens.cli.run import render

    monkeypatch.setitem(steps.STEP_FUNCTIONS, "build", _fail(UserError("dbt build failed (test unique_x)")))
    text = render(execute(context(home)))
    assert text.splitlines()[0].startswith("prodlens run: FAILED at step build (exit 13)")
    assert (
        "  load       load done" in text and "  build      FAILED: dbt build failed (test unique_x)" in text
    )


def test_dbt_failures_are_named(home: Home) -> None:
    home.dbt_target.mkdir(parents=True)
    (home.dbt_target / "run_results.json").write_text(
        json.dumps(
            {
                "results": [
                    {"unique_id": "model.prodlens.sessions", "status": "error"},
                    {"unique_id": "test.prodlens.unique_sessions_trace_hash.678061e1e2", "status": "fail"},
                    {"unique_id": "model.prodlens.rejected_traces", "status": "success"},
                ]
            }
        )
    )
    assert failed_nodes(home) == ["model sessions", "test unique_sessions_trace_hash"]
    # the same from an invocation's own statuses, when dbt wrote no run_results.json
    assert failed_among(
        {
            "model.prodlens.sessions": "error",
            "unit_test.prodlens.sessions.hand_computed": "fail",
            "seed.prodlens.bot_logins": "success",
            "test.prodlens.dq_unpriced_request_share": "warn",
        }
    ) == ["model sessions", "unit_test sessions"]


def test_the_manifest_is_current_until_another_dbt_command_writes_one(home: Home) -> None:
    manifest = home.dbt_target / "manifest.json"
    assert not build_state.manifest_is_current(home)  # neither file yet
    home.dbt_target.mkdir(parents=True)
    manifest.write_text("{}")
    assert not build_state.manifest_is_current(home)  # no successful build recorded
    build_state.remember(home, {"newest_load": "1"})
    os.utime(manifest, ns=(1, build_state.state_path(home).stat().st_mtime_ns - 1))
    assert build_state.manifest_is_current(home)
    os.utime(manifest, ns=(1, build_state.state_path(home).stat().st_mtime_ns + 1))  # a later dbt compile
    assert not build_state.manifest_is_current(home)


def test_no_trace_files_yet_is_a_warning(home: Home, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    ctx = context(home, RunConfig(traces=TracesConfig(paths=(str(empty),))))
    outcome = steps.step_load(ctx)
    assert outcome.warnings == [f"traces: no trace files yet under {empty}"]


def test_nothing_loaded_yet_skips_the_rest(home: Home, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    report = execute(context(home, RunConfig(traces=TracesConfig(paths=(str(empty),)))))
    assert report.exit_code == 0 and report.failed_step is None
    assert [step for step, _ in report.lines] == ["load", "retention", "build"]
    assert report.lines[-1][1].startswith("skipped: no source has loaded data")
    assert not home.published.exists()
    again = execute(context(home, RunConfig(traces=TracesConfig(paths=(str(empty),)))))  # etl_runs exists now
    assert again.exit_code == 0 and again.lines[-1][0] == "build"


@pytest.fixture
def full_disk(home: Home, monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """A disk with no free space for runs.log until the space reserve is deleted: appends to runs.log fail
    with ENOSPC while the reserve exists, as they would on a full file system whose only slack is that
    reserve. Call it with False to give the space back."""
    import errno
    import os

    home.ensure()
    runlog.keep_reserve(home)  # made by an earlier run, while there was space
    reserve = home.root / runlog.RESERVE_FILE
    state = {"full": True}
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        target = os.readlink(f"/proc/self/fd/{fd}")
        if state["full"] and target == str(home.runs_log) and reserve.exists():
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)

    def set_full(full: bool) -> None:
        state["full"] = full

    return set_full


def test_a_full_disk_keeps_the_run_line_and_the_steps_exit_code(
    home: Home, calls: list[str], monkeypatch: pytest.MonkeyPatch, full_disk: Callable[[bool], None]
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise duckdb.IOException(
            "IO Error: Could not write file warehouse.duckdb.wal: No space left on device"
        )

    monkeypatch.setitem(steps.STEP_FUNCTIONS, "load", _fail(OSError(28, "No space left on device")))
    monkeypatch.setattr(runlog, "connect", disk_full)
    report = execute(context(home))
    assert report.exit_code == EXIT_CODES["load"] and report.failed_step == "load"
    entry = runs_log(home)[-1]
    assert entry["status"] == report.status and "No space left" in entry["details"]["etl_runs"]
    assert "No space left on device" in entry["details"]["steps"]["load"]["error"]
    # the reserve paid for the line; the next run, with space back, has one again
    full_disk(False)
    execute(context(home))
    assert len(runs_log(home)) == 2
    reserve = home.root / runlog.RESERVE_FILE
    assert reserve.exists() and reserve.stat().st_size == runlog.RESERVE_BYTES


def test_a_full_disk_without_reserve_still_ends_with_the_steps_exit_code(
    home: Home, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(steps.STEP_FUNCTIONS, "build", _fail(UserError("dbt build failed")))
    monkeypatch.setattr(runlog, "connect", no_space)
    monkeypatch.setattr(runlog, "_append", no_space)
    report = execute(context(home))
    assert report.exit_code == EXIT_CODES["build"]
    assert any("run record incomplete" in w and "No space left" in w for w in report.warnings)


def test_a_line_cut_short_by_a_full_disk_is_removed(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    home.ensure()
    home.runs_log.write_text('{"job": "earlier"}\n')
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:10]))
    with pytest.raises(OSError):
        runlog._append(home.runs_log, b'{"job": "run", "long": "line"}\n')
    monkeypatch.undo()
    assert home.runs_log.read_text() == '{"job": "earlier"}\n'
