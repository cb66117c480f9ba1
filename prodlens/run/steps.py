"""The steps of `prodlens run`, their exit codes, and the run's record.

    load → retention → build → publish → export → freshness

A failed step stops the run: later steps do not start, so the published database stays as it was
(publish is the only step that changes it, atomically). The run exits with the failed step's code
and says which step failed in a log line, in runs.log and in raw.etl_runs.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from prodlens.errors import PendingPackageStuck, UserError, as_user_error
from prodlens.home import Home
from prodlens.run.config import RunConfig
from prodlens.run.progress import Reporter
from prodlens.runlog import now, record_run

if TYPE_CHECKING:
    from prodlens.dbt_process import DbtProcess

STEPS = ("load", "retention", "build", "publish", "export", "freshness")
EXIT_OK = 0
EXIT_CODES = {
    "load": 10,
    "load-stuck": 11,  # a pending dlt package fails on every retry: needs the recovery command
    "retention": 12,
    "build": 13,
    "publish": 14,
    "export": 15,
    "freshness": 16,  # only with [freshness] fail_on_error = true
    # GitHub's rate limit stopped the GitHub load: the run still built and published what it had, and
    # the next run resumes where this one stopped (the run lock's 75 means "not run at all").
    "rate-limited": 17,
}


class StepFailed(Exception):
    def __init__(
        self, step: str, message: str, exit_code: int | None = None, details: dict | None = None
    ) -> None:
        super().__init__(message)
        self.step = step
        self.message = message
        self.exit_code = exit_code or EXIT_CODES[step]
        self.details = details or {}


class NothingYet(Exception):
    """No source has loaded anything yet: the remaining steps have nothing to work on."""


@dataclass
class Outcome:
    """What one step did: `line` goes into the summary, `details` into runs.log."""

    line: str
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0


@dataclass
class RunContext:
    home: Home
    config: RunConfig
    reporter: Reporter
    horizon: datetime | None = None
    rate_limited: str | None = None  # why the GitHub load stopped early, when it did
    retention_deleted: bool = False  # retention deleted raw rows: the marts must be rebuilt
    build_fingerprint: dict[str, Any] | None = None  # what this run's build is made from
    up_to_date: bool = False  # nothing changed since the last build and publish: both are skipped
    dbt: DbtProcess | None = None  # dbt started ahead of the build step (prodlens.dbt_process), if it pays


@dataclass
class RunReport:
    started_at: datetime
    finished_at: datetime | None = None
    exit_code: int = EXIT_OK
    failed_step: str | None = None
    error: str | None = None
    lines: list[tuple[str, str]] = field(default_factory=list)  # (step, summary line)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0
    incomplete: str | None = None  # a run that succeeded on partial input (GitHub's rate limit)

    @property
    def status(self) -> str:
        if self.failed_step == "freshness":
            return "stale"
        if self.failed_step:
            return "failed"
        return "partial" if self.incomplete else "success"

    @property
    def seconds(self) -> float:
        return ((self.finished_at or now()) - self.started_at).total_seconds()

    def to_json(self, config: RunConfig) -> dict[str, Any]:
        return {
            "config": str(config.source) if config.source else None,
            "exit_code": self.exit_code,
            "failed_step": self.failed_step,
            "error": self.error,
            "incomplete": self.incomplete,
            "steps": self.steps,
            "warnings": self.warnings,
            "summary": [f"{step}: {line}" for step, line in self.lines],
        }


# ---------------------------------------------------------------------------------------------- steps
def step_load(ctx: RunContext) -> Outcome:
    """Load every configured source; a failing source does not stop the others, but fails the step."""
    outcome = Outcome(line="")
    lines: list[str] = []
    failures: list[str] = []
    stuck = False
    sources: list[tuple[str, Callable[[RunContext, Outcome], list[str]]]] = []
    if ctx.config.traces.paths:
        sources.append(("traces", _load_traces))
    if ctx.config.spendlogs.enabled:
        sources.append(("spendlogs", _load_spendlogs))
    if ctx.config.github.repos:
        sources.append(("github", _load_github))
    for name, loader in sources:
        try:
            lines += loader(ctx, outcome)
        except PendingPackageStuck as exc:
            stuck = True
            failures.append(f"{name}: {exc}")
        except UserError as exc:
            failures.append(f"{name}: {exc}")
    outcome.line = "; ".join(lines) or "nothing loaded"
    if failures:
        code = EXIT_CODES["load-stuck"] if stuck else EXIT_CODES["load"]
        raise StepFailed("load", " | ".join(failures), code, {**outcome.details, "loaded": lines})
    return outcome


def _load_spendlogs(ctx: RunContext, outcome: Outcome) -> list[str]:
    from datetime import timedelta

    from prodlens.ingest.spendlogs import load_spendlogs, summary_line

    spendlogs = ctx.config.spendlogs
    counts = load_spendlogs(
        ctx.home,
        lookback=timedelta(minutes=spendlogs.lookback_minutes),
        tenant=spendlogs.tenant,
        schema=spendlogs.schema,
    )
    outcome.details["spendlogs"] = vars(counts)
    outcome.rows += counts.loaded
    return [summary_line(counts)]


def _load_traces(ctx: RunContext, outcome: Outcome) -> list[str]:
    from loaders.litellm.files import TraceFileError, discover
    from prodlens.ingest.traces import load_traces, summary_line

    traces = ctx.config.traces
    with as_user_error(TraceFileError):
        files = discover(list(traces.paths))
    if not files:
        warning = f"traces: no trace files yet under {', '.join(traces.paths)}"
        outcome.warnings.append(warning)
        return [warning]
    with ctx.reporter.load_progress("traces", len(files)) as progress:
        counts = load_traces(
            ctx.home,
            list(traces.paths),
            repo=traces.repo,
            tenant=traces.tenant,
            expire_before=ctx.horizon,
            progress=progress.update,
        )
    outcome.details["traces"] = vars(counts)
    outcome.rows += counts.loaded
    return [summary_line(counts)]


def _load_github(ctx: RunContext, outcome: Outcome) -> list[str]:
    try:
        from loaders.github.client import utc_iso
        from prodlens.ingest.github import load_github
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("loaders.github"):
            raise UserError(
                "[github] repos are configured, but this installation has no GitHub loader"
            ) from None
        raise
    since = date.fromisoformat(ctx.config.github.since) if ctx.config.github.since else None
    result = load_github(ctx.home, list(ctx.config.github.repos), since)
    outcome.details["github"] = [repo.to_json() for repo in result.repos]
    outcome.rows += result.rows_loaded
    lines = [repo.line() for repo in result.repos]
    stopped = {"stopped", "skipped"}
    if result.stop is not None and all(repo.status in stopped for repo in result.failed):
        # Not a failure: what loaded is kept and the next run resumes; the run goes on with it.
        ctx.rate_limited = (
            f"GitHub's rate limit stopped the GitHub load until {utc_iso(result.stop.retry_at)}: "
            f"{', '.join(repo.repo for repo in result.failed)} "
            f"{'is' if len(result.failed) == 1 else 'are'} incomplete; the next run resumes there"
        )
        outcome.warnings.append(ctx.rate_limited)
    elif result.failed:
        raise UserError("; ".join(repo.line() for repo in result.failed))
    return lines


def step_retention(ctx: RunContext) -> Outcome:
    from prodlens.run.retention import purge

    if ctx.horizon is None:
        return Outcome(line="off (retention_days not set)")
    if not ctx.home.warehouse.exists():
        return Outcome(line="nothing to purge yet")
    deleted = purge(ctx.home, ctx.horizon)
    ctx.retention_deleted = any(deleted.values())
    text = ", ".join(f"{table} {n}" for table, n in deleted.items() if n) or "nothing"
    return Outcome(
        line=f"rows before {ctx.horizon:%Y-%m-%d} deleted: {text}",
        details={"horizon": ctx.horizon.isoformat(), "deleted": deleted},
    )


def dbt_vars_json(config: RunConfig) -> str:
    """Identical vars for build and freshness, so dbt's partial parsing stays valid between them."""
    return json.dumps(config.freshness.dbt_vars(), sort_keys=True)


def step_build(ctx: RunContext) -> Outcome:
    """dbt build, or nothing when no load, retention, setting or model changed since the last build and
    publish (prodlens.build_state): the published file is then already what a build would make."""
    from prodlens import build_state

    started = time.monotonic()
    current = build_state.fingerprint(ctx.home, dbt_vars_json(ctx.config), ctx.config.build_args)
    if not ctx.retention_deleted and build_state.unchanged(ctx.home, current):
        ctx.up_to_date = True
        return Outcome(
            line=f"skipped: nothing changed since the last build (newest load {current['newest_load']})",
            details={"skipped": True, "newest_load": current["newest_load"]},
        )
    ctx.build_fingerprint = current
    from prodlens.build import SELECTION_FLAGS, BuildFailed, NothingToBuild, dbt_build  # dbt loads only here
    from prodlens.dbt_runner import NewRows

    args = ["--vars", dbt_vars_json(ctx.config), *ctx.config.build_args]
    chosen = any(arg.split("=")[0] in SELECTION_FLAGS for arg in ctx.config.build_args)
    selectors = None if chosen or ctx.retention_deleted else build_state.changed_sources(ctx.home, current)
    if selectors:
        args += ["--select", *selectors]
    # tests on the new rows only after a successful build of the same project, vars and arguments
    new_rows = (
        NewRows(loads_after=build_state.complete_through_built(ctx.home))
        if not ctx.retention_deleted and build_state.loads_changed(ctx.home, current) is not None
        else None
    )
    # dbt's manifest.json would come out as the one that build wrote: leave it and run_results.json as they are
    artifacts = not (selectors and build_state.manifest_is_current(ctx.home))
    try:
        unit_tests_skipped = dbt_build(
            ctx.home,
            args,
            quiet=True,
            skip_passed_unit_tests=True,
            new_rows=new_rows,
            artifacts=artifacts,
            process=ctx.dbt,
        )
    except NothingToBuild as nothing:
        raise NothingYet(
            f"no source has loaded data into {ctx.home.root} yet: nothing to build or publish"
        ) from nothing
    except BuildFailed as failed:
        raise StepFailed("build", str(failed), details={"failed_nodes": failed.failed_nodes}) from None
    passed = f"dbt build passed in {time.monotonic() - started:.1f}s"
    notes: list[str] = []
    details: dict[str, Any] = {}
    if selectors:
        notes.append("only what reads " + ", ".join(s.removeprefix("source:").rstrip("+") for s in selectors))
        details["selected"] = selectors
    if new_rows is not None:
        notes.append("incremental models tested on the rows it wrote")
        details["new_rows_tests"] = True
    if unit_tests_skipped:
        notes.append("unit tests left out: all passed on this project before")
        details["unit_tests_skipped"] = True
    return Outcome(line=f"{passed} ({'; '.join(notes)})" if notes else passed, details=details)


def step_publish(ctx: RunContext) -> Outcome:
    from prodlens import build_state
    from prodlens.publish import publish_marts

    if ctx.up_to_date:
        return Outcome(line=f"skipped: {ctx.home.published} is current", details={"skipped": True})
    result = publish_marts(ctx.home)
    if ctx.build_fingerprint is not None:
        build_state.remember(ctx.home, ctx.build_fingerprint)
    shown = ", ".join(f"{name.split('.')[-1]} {n}" for name, n in list(result.rows.items())[:6])
    more = ", ..." if result.relations > 6 else ""
    return Outcome(
        line=f"{result.relations} marts → {result.path} in {result.seconds:.1f}s ({shown}{more} rows)",
        details={
            "path": str(result.path),
            "published_at": result.published_at.isoformat(),
            "rows": result.rows,
        },
    )


def step_export(ctx: RunContext) -> Outcome:
    from prodlens.run.export import export_parquet

    if not ctx.config.export_parquet:
        return Outcome(line="off ([export] parquet = false)")
    result = export_parquet(ctx.home)
    warnings = [
        f"export: refused partition {r}: it would not stay inside {ctx.home.parquet}" for r in result.refused
    ]
    return Outcome(
        line=f"{result.summary()} → {ctx.home.parquet} in {result.seconds:.1f}s",
        details={
            "session_rows": result.session_rows,
            "tenants": result.tenants,
            "aggregates": result.aggregates,
            "refused": result.refused,
            "files": {"written": result.written, "unchanged": result.unchanged, "removed": result.removed},
        },
        warnings=warnings,
    )


def step_freshness(ctx: RunContext) -> Outcome:
    from prodlens.run.freshness import check_freshness

    fresh = ctx.config.freshness
    if not fresh.enabled:
        return Outcome(line="off ([freshness] enabled = false)")
    sources = (["litellm"] if ctx.config.traces.paths else []) + (
        ["github"] if ctx.config.github.repos else []
    )
    results = check_freshness(ctx.home, sources, fresh.dbt_vars())
    stale = [r for r in results if r.stale]
    outcome = Outcome(
        line="; ".join(r.describe() for r in results) or "no sources to check",
        details={"sources": [r.to_json() for r in results]},
        warnings=[f"stale source {r.describe()}" for r in stale],
    )
    errors = [r for r in results if r.status == "error"]
    if fresh.fail_on_error and errors:
        raise StepFailed(
            "freshness",
            "sources past their error threshold: " + "; ".join(r.describe() for r in errors),
            details=outcome.details,
        )
    return outcome


STEP_FUNCTIONS: dict[str, Callable[[RunContext], Outcome]] = {
    "load": step_load,
    "retention": step_retention,
    "build": step_build,
    "publish": step_publish,
    "export": step_export,
    "freshness": step_freshness,
}


# ---------------------------------------------------------------------------------------------- the run
def execute(ctx: RunContext) -> RunReport:
    """Run every step in order; stop at the first failure. Records the run either way."""
    report = RunReport(started_at=now())
    try:
        for name in STEPS:
            ctx.reporter.log(f"{name}: started")
            started = time.monotonic()
            try:
                outcome = STEP_FUNCTIONS[name](ctx)
            except NothingYet as nothing:
                report.lines.append((name, f"skipped: {nothing}"))
                report.warnings.append(str(nothing))
                ctx.reporter.log(f"{name}: skipped: {nothing}")
                break
            except StepFailed:
                raise
            except UserError as exc:
                raise StepFailed(name, str(exc)) from None
            except Exception as exc:  # a bug: keep the traceback in the log, fail the step
                trace = traceback.format_exc()
                raise StepFailed(name, f"{type(exc).__name__}: {exc}", details={"traceback": trace}) from exc
            outcome.details["seconds"] = round(time.monotonic() - started, 3)
            report.steps[name] = outcome.details
            report.lines.append((name, outcome.line))
            report.warnings += outcome.warnings
            report.rows += outcome.rows
            ctx.reporter.log(f"{name}: {outcome.line}")
    except StepFailed as failed:
        report.failed_step = failed.step
        report.exit_code = failed.exit_code
        report.error = failed.message
        report.steps[failed.step] = {**failed.details, "error": failed.message}
    else:
        if ctx.rate_limited:
            report.incomplete = ctx.rate_limited
            report.exit_code = EXIT_CODES["rate-limited"]
    report.finished_at = now()
    _record(ctx, report)
    return report


def _record(ctx: RunContext, report: RunReport) -> None:
    """One row in raw.etl_runs and one JSON line in runs.log; runs.log alone (saying why) when the
    working database cannot be written, for example when it is locked or the disk is full. A run whose
    record cannot be written at all keeps its exit code and says so in its summary."""
    try:
        record_run(
            ctx.home,
            job="run",
            started_at=report.started_at,
            finished_at=report.finished_at,
            row_count=report.rows,
            details=report.to_json(ctx.config),
            status=report.status,
        )
    except Exception as exc:
        report.warnings.append(f"run record incomplete: {type(exc).__name__}: {exc}")
