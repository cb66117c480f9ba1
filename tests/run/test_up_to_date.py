"""A run where nothing changed skips dbt and publishing, and still records the run and checks freshness;
anything a build reads (a new load, the vars, the build arguments, a project file) makes the next run
build again (prodlens.build_state)."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest

from prodlens import build_state
from prodlens.dbt_runner import DbtRun
from prodlens.home import Home
from prodlens.run import freshness
from prodlens.run.config import RunConfig, TracesConfig
from prodlens.warehouse import connect
from tests.conftest import REPO_ROOT, prodlens

SAMPLE = REPO_ROOT / "sample_data" / "litellm" / "proxy" / "litellm-2025-09.jsonl"
# sessions only, no tests: this file checks the skipping, not the models
BUILD_ARGS = ("--select", "+sessions", "--exclude", "resource_type:test", "resource_type:unit_test")


def config(logs: Path) -> RunConfig:
    return RunConfig(traces=TracesConfig(paths=(str(logs),)), build_args=BUILD_ARGS)


def run(home: Home, logs: Path) -> dict[str, str]:
    """`prodlens run` in its own process, as cron runs it; the steps' lines of runs.log."""
    toml = logs.parent / "prodlens.toml"
    args = ", ".join(json.dumps(a) for a in BUILD_ARGS)
    toml.write_text(
        f'[traces]\npaths = ["{logs}"]\n\n[build]\nargs = [{args}]\n\n[export]\nparquet = false\n'
    )
    prodlens("run", "--config", str(toml), home=home)
    entry = json.loads(home.runs_log.read_text().splitlines()[-1])
    assert entry["job"] == "run" and entry["status"] == "success", entry
    return dict(line.split(": ", 1) for line in entry["details"]["summary"])


def test_a_run_with_nothing_new_skips_build_and_publish(home: Home, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(SAMPLE, logs / SAMPLE.name)

    first = run(home, logs)
    assert first["build"].startswith("dbt build passed")
    published_inode = home.published.stat().st_ino
    remembered = json.loads(build_state.state_path(home).read_text())
    assert remembered["newest_load"] == build_state.newest_load(home) is not None

    second = run(home, logs)
    assert second["load"].startswith("traces: 0 lines read")
    assert (
        second["build"]
        == f"skipped: nothing changed since the last build (newest load {remembered['newest_load']})"
    )
    assert second["publish"] == f"skipped: {home.published} is current"
    assert second["freshness"].startswith("litellm.")  # still checked, without starting dbt
    assert home.published.stat().st_ino == published_inode  # not replaced

    # a load between runs (not by the run itself) is seen in the raw tables' load ids
    vars_json = json.dumps(config(logs).freshness.dbt_vars(), sort_keys=True)
    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(REPO_ROOT / "sample_data" / "litellm" / "exports" / "otel-genai.jsonl", more / "otel.jsonl")
    prodlens("load", "traces", str(more), home=home)
    assert not build_state.unchanged(home, build_state.fingerprint(home, vars_json, list(BUILD_ARGS)))
    third = run(home, logs)
    assert third["build"].startswith("dbt build passed")
    assert home.published.stat().st_ino != published_inode
    con = connect(home.warehouse)
    try:
        runs = con.execute("select status from raw.etl_runs where job = 'run' order by started_at").fetchall()
    finally:
        con.close()
    assert runs == [("success",)] * 3  # the skipped run was recorded too

    # in this process last: the checks below open the working file here, and a `prodlens` subprocess
    # could not open it while they hold it
    nodes = freshness.manifest_sources(home, ["litellm"], vars_json)
    assert nodes is not None and {n["name"] for n in nodes} == {
        "litellm_requests",
        "litellm_rejects",
        "agent_events",
    }
    in_process = freshness.freshness_in_process(home, nodes)
    by_dbt = freshness.freshness_by_dbt(home, ["litellm"], json.loads(vars_json))
    assert [(r.source, r.status) for r in in_process] == [(r.source, r.status) for r in by_dbt]
    statuses = {r.source: r.status for r in in_process}
    assert statuses["litellm.litellm_requests"] == "pass"
    ours, theirs = in_process[-1], by_dbt[-1]
    assert ours.max_loaded_at and theirs.max_loaded_at
    assert datetime.fromisoformat(ours.max_loaded_at) == datetime.fromisoformat(theirs.max_loaded_at)
    assert (ours.warn_after_hours, ours.error_after_hours) == (
        theirs.warn_after_hours,
        theirs.error_after_hours,
    )
    assert ours.age_hours is not None and theirs.age_hours is not None
    assert abs(ours.age_hours - theirs.age_hours) <= 0.02  # dbt ran a few seconds later
    assert freshness._status(25 * 3600, nodes[0]["freshness"]) == "warn"
    assert freshness._status(73 * 3600, nodes[0]["freshness"]) == "error"
    assert freshness.manifest_sources(home, ["litellm"], '{"other": 1}') is None  # other vars: ask dbt


def test_a_run_after_a_trace_load_builds_only_what_reads_the_traces(home: Home, tmp_path: Path) -> None:
    """Without a selection of its own, a run after the last build's only change was a load into
    raw.litellm_requests selects `source:litellm.litellm_requests+`: the GitHub models are not run."""
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(SAMPLE, logs / SAMPLE.name)
    toml = tmp_path / "prodlens.toml"
    toml.write_text(
        f'[traces]\npaths = ["{logs}"]\n\n[build]\nargs = ["--exclude", "resource_type:unit_test"]\n\n'
        "[export]\nparquet = false\n"
    )

    def scheduled() -> tuple[str, set[str]]:
        """The run's build line and the nodes it ran: those whose SQL dbt wrote under target/run."""
        started = time.time_ns()
        prodlens("run", "--config", str(toml), home=home)
        entry = json.loads(home.runs_log.read_text().splitlines()[-1])
        build = dict(line.split(": ", 1) for line in entry["details"]["summary"])["build"]
        ran = {p.stem for p in (home.dbt_target / "run").rglob("*.sql") if p.stat().st_mtime_ns >= started}
        return build, ran

    def unique_test_sql(models_yml: str = "marts/_marts__models.yml", model: str = "sessions") -> str:
        folder = home.dbt_target / "compiled" / "prodlens" / "models" / models_yml
        return next(folder.glob(f"unique_{model}_trace_hash*.sql")).read_text()

    staging = "staging/litellm/_litellm__models.yml"
    first, built = scheduled()
    assert "created_at" not in unique_test_sql()  # the first build tests every row
    assert '"load_id" >' not in unique_test_sql(staging, "stg_litellm__requests")
    first_newest = build_state.complete_through_built(home)
    assert first_newest is not None and first_newest == build_state.newest_load(home)
    manifest = home.dbt_target / "manifest.json"
    assert (home.dbt_target / "run_results.json").is_file() and build_state.manifest_is_current(home)
    manifest_written = manifest.stat().st_mtime_ns
    # what reads only GitHub's or Claude Code's raw tables
    elsewhere = {"stg_github__pull_requests", "int_github__pull_requests", "daily_agent_activity"}
    assert "only what reads" not in first and {"sessions", *elsewhere} <= built
    sessions_before = query_count(home)
    shutil.copy(REPO_ROOT / "sample_data" / "litellm" / "exports" / "otel-genai.jsonl", logs / "otel.jsonl")
    second, built = scheduled()
    assert "(only what reads litellm.litellm_requests" in second, second
    assert {"stg_litellm__requests", "sessions", "int_analytics__requests"} <= built
    assert not elsewhere & built
    # the manifest would come out as the first build's: dbt writes neither it nor run_results.json
    assert manifest.stat().st_mtime_ns == manifest_written
    assert not (home.dbt_target / "run_results.json").exists()
    assert build_state.manifest_is_current(home)
    assert query_count(home) > sessions_before
    # the incremental models' tests read the rows this run wrote (macros/tests/get_where_subquery.sql)
    assert "incremental models tested on the rows it wrote" in second
    assert 'where "created_at" >= cast(' in unique_test_sql()
    # and so does the view over sessions, by the run that priced each row
    view_test = unique_test_sql(
        "intermediate/analytics/_int_analytics__models.yml", "int_analytics__requests"
    )
    assert 'where "priced_at" >= cast(' in view_test
    # the staging table and the raw view by the loads after those the first build read, all complete
    assert f"where \"load_id\" > '{first_newest}'" in unique_test_sql(staging, "stg_litellm__requests")
    folder = home.dbt_target / "compiled" / "prodlens" / "models" / staging
    raw_view = [
        sql
        for p in folder.glob("unique_combination_of_columns_*.sql")
        if '."base_litellm__requests"' in (sql := p.read_text())
    ]
    assert len(raw_view) == 1 and f"where \"_dlt_load_id\" > '{first_newest}'" in raw_view[0]
    assert build_state.complete_through_built(home) == build_state.newest_load(home) > first_newest


def query_count(home: Home) -> int:
    rows = json.loads(
        prodlens("query", "select count(*) as n from sessions", "--format", "json", home=home).stdout
    )
    return int(rows[0]["n"])


def test_the_fingerprint_covers_vars_arguments_and_project_files(home: Home, tmp_path: Path) -> None:
    home.ensure().published.write_bytes(b"")  # unchanged() also needs a published file
    current = build_state.fingerprint(home, '{"a": 1}', ["--select", "+sessions"])
    assert current["newest_load"] is None  # no working file yet
    assert not build_state.unchanged(home, current)  # nothing remembered
    build_state.remember(home, current)
    assert build_state.unchanged(home, current)
    # only new loads: the tables they went to (a scheduled run then tests only the new rows)
    assert build_state.loads_changed(home, current) == []
    assert build_state.loads_changed(home, {**current, "raw_loads": {"litellm_requests": "2"}}) == [
        "litellm_requests"
    ]
    assert build_state.loads_changed(home, {**current, "project": "edited"}) is None
    assert build_state.loads_changed(home, {**current, "dbt_vars": '{"a": 2}'}) is None
    assert not build_state.unchanged(home, {**current, "dbt_vars": '{"a": 2}'})
    assert not build_state.unchanged(home, {**current, "build_args": []})
    build_state.forget(home)
    assert not build_state.unchanged(home, current)
    build_state.remember(home, current)
    home.published.unlink()
    assert not build_state.unchanged(home, current)  # a deleted published file is rebuilt

    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\n")
    (project / "models" / "a.sql").write_text("select 1 as x\n")
    before = build_state.project_hash(project)
    assert build_state.project_hash(project) == before
    (project / "models" / "a.sql").write_text("select 2 as x\n")
    assert build_state.project_hash(project) != before
    (project / "models" / "a.sql").write_text("select 1 as x\n")
    assert build_state.project_hash(project) == before
    (project / "models" / "b.sql").write_text("select 1 as x\n")
    assert build_state.project_hash(project) != before

    # the statistics the dbt Python models run are part of what a build is made from
    code = tmp_path / "code"
    (code / "stats").mkdir(parents=True)
    (code / "stats" / "effects.py").write_text("Z = 1.96\n")
    (code / "python_models.py").write_text("X = 1\n")
    (code / "report.py").write_text("Y = 1\n")
    before = build_state.project_hash(project, code)
    (code / "stats" / "effects.py").write_text("Z = 1.959963984540054\n")
    assert build_state.project_hash(project, code) != before
    (code / "stats" / "effects.py").write_text("Z = 1.96\n")
    assert build_state.project_hash(project, code) == before
    (code / "python_models.py").write_text("X = 2\n")
    assert build_state.project_hash(project, code) != before
    (code / "python_models.py").write_text("X = 1\n")
    (code / "report.py").write_text("Y = 2\n")  # not read by any model
    assert build_state.project_hash(project, code) == before


def write_results(home: Home, unit_tests: list[str], passed: list[str]) -> None:
    home.dbt_target.mkdir(parents=True, exist_ok=True)
    (home.dbt_target / "manifest.json").write_text(json.dumps({"unit_tests": {u: {} for u in unit_tests}}))
    results = [{"unique_id": u, "status": "pass" if u in passed else "fail"} for u in unit_tests]
    results.append({"unique_id": "model.prodlens.sessions", "status": "success"})
    (home.dbt_target / "run_results.json").write_text(json.dumps({"results": results}))


def test_unit_tests_are_recorded_only_when_every_one_passed(home: Home) -> None:
    home.ensure()
    everything = ["unit_test.prodlens.a.x", "unit_test.prodlens.b.y"]
    write_results(home, everything, passed=everything[:1])  # one failed
    build_state.record_unit_tests(home)
    assert not build_state.unit_tests_passed(home)
    write_results(home, everything[:1], passed=everything[:1])  # all the manifest has
    (home.dbt_target / "run_results.json").write_text(json.dumps({"results": []}))  # a build without them
    build_state.record_unit_tests(home)
    assert not build_state.unit_tests_passed(home)
    write_results(home, everything, passed=everything)
    build_state.record_unit_tests(home)
    assert build_state.unit_tests_passed(home)
    recorded = json.loads(build_state.unit_tests_path(home).read_text())
    assert recorded == {"project": build_state.project_hash()}
    build_state.unit_tests_path(home).write_text(json.dumps({"project": "an older project"}))
    assert not build_state.unit_tests_passed(home)  # an edited model runs them again
    # a build's own statuses win over run_results.json (a scheduled run that left dbt's JSON unwritten)
    build_state.record_unit_tests(home, {everything[0]: "pass", everything[1]: "fail"})
    assert not build_state.unit_tests_passed(home)
    build_state.record_unit_tests(home, dict.fromkeys(everything, "pass"))
    assert build_state.unit_tests_passed(home)


def test_a_scheduled_build_leaves_out_unit_tests_that_passed_on_this_project(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prodlens import build

    calls: list[list[str]] = []

    def fake_dbt(home: Home, args: list[str], **options: bool) -> DbtRun:
        calls.append(list(args))
        return DbtRun(True)

    monkeypatch.setattr(build, "run_dbt", fake_dbt)
    monkeypatch.setattr(build, "has_loaded", lambda home: True)
    monkeypatch.setattr("prodlens.ingest.tables.ensure_raw_tables", lambda home: None)
    home.ensure()
    assert build.dbt_build(home, ["--vars", "{}"], skip_passed_unit_tests=True) is False  # none recorded
    assert calls[-1] == ["build", "--vars", "{}"]
    write_results(home, ["unit_test.prodlens.a.x"], passed=["unit_test.prodlens.a.x"])
    build_state.record_unit_tests(home)
    assert build.dbt_build(home, ["--vars", "{}"], skip_passed_unit_tests=True) is True
    assert calls[-1] == ["build", "--vars", "{}", "--exclude-resource-type", "unit_test"]
    assert build.dbt_build(home, ["--vars", "{}"]) is False  # `prodlens build` runs them all
    assert calls[-1] == ["build", "--vars", "{}"]
    chosen = ["--resource-type", "model"]
    assert build.dbt_build(home, chosen, skip_passed_unit_tests=True) is False  # the caller chose types
    assert calls[-1] == ["build", *chosen]
