"""The dbt process `prodlens run` starts ahead of its build step (prodlens.dbt_process): it answers what
an in-process dbt answers, says when it ended without an answer, is killed unused by a run without a
build, holds the run's lock while it lives, and ends with its run, a killed run included, in the middle
of its build: the next run finds the home unlocked and the data exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prodlens.dbt_process import DbtProcess
from prodlens.dbt_runner import run_dbt
from prodlens.home import Home
from prodlens.lock import RunLocked, run_lock
from tests.conftest import REPO_ROOT, prodlens
from tests.run.harness import Book, assert_exactly_once, published, write_config


def running(pid: int) -> bool:
    """True while a thread of process `pid` runs (a zombie whose parent died and was never reaped counts
    as ended; its main thread is a zombie while its other threads are still exiting, so each is read)."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return False
    for task in tasks:
        try:
            stat = (task / "stat").read_text()
        except FileNotFoundError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
            return True
    return False


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def test_it_answers_what_dbt_in_this_process_answers(home: Home) -> None:
    with DbtProcess.start() as process:
        answer = process.run(home, ["seed", "--select", "bot_logins"], quiet=True)
        with pytest.raises(RuntimeError, match="one dbt command"):
            process.run(home, ["parse"])
    assert process.returncode == 0
    assert answer.success and answer.error is None
    assert answer.statuses["seed.prodlens.bot_logins"] == "success"
    assert answer == run_dbt(home, ["seed", "--select", "bot_logins"], quiet=True)

    with DbtProcess.start() as process:
        broken = process.run(home, ["parse", "--vars", "{not yaml"], quiet=True)
    assert not broken.success
    assert broken.error is not None and "not valid YAML" in broken.error


def test_a_process_that_ends_without_an_answer_is_a_failed_run_that_says_so(home: Home) -> None:
    with DbtProcess([sys.executable, "-c", "import sys; sys.exit(3)"]) as process:
        answer = process.run(home, ["build"])
    assert not answer.success
    assert answer.statuses == {}
    assert answer.error == "the dbt process ended (exit code 3) before it reported a result"


def test_an_unused_process_is_killed_not_waited_for() -> None:
    process = DbtProcess.start()
    process.close()  # at once: a run with nothing new does not wait for dbt's import
    assert process.returncode == -signal.SIGKILL
    assert not running(process.pid)


def test_it_is_started_only_where_two_cores_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRODLENS_TARGET", raising=False)
    # in a fresh interpreter: this one may have imported dbt already, and then none is ever started
    decide = (
        "import os, sys; from prodlens.cores import usable_cores; from prodlens.dbt_process import DbtProcess\n"
        "if sys.argv[1] == 'one': os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "process = DbtProcess.ahead_of_need()\n"
        "print(usable_cores(), process is not None)\n"
        "if process is not None: process.close()\n"
    )
    answers = {
        cores: subprocess.run(
            [sys.executable, "-c", decide, cores], capture_output=True, text=True, check=True, cwd=REPO_ROOT
        ).stdout.split()
        for cores in ("one", "all")
    }
    assert answers["one"] == ["1", "False"]  # pinned to one core (taskset, a cpuset): dbt runs in-process
    allowed = len(os.sched_getaffinity(0))
    assert answers["all"] == [str(allowed), str(allowed >= 2)]


def test_a_build_is_handed_to_it_and_a_killed_run_ends_it_with_the_home_unlocked(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    book = Book(tmp_path / "traces")
    # the crash tests' selection with its generic data tests, on one thread: a build of some seconds, stopped
    # well inside it even on a busy machine
    build = ["--select", "+sessions", "+rejected_traces", "--exclude", "test_type:singular", "--threads", "1"]
    config = write_config(
        home,
        f'[traces]\npaths = ["{book.folder}"]\n\n[build]\nargs = {json.dumps(build)}\n\n'
        "[freshness]\nenabled = false\n\n[export]\nparquet = false\n",
    )
    book.add_file()
    first = prodlens("run", "--config", str(config), home=home)
    assert "dbt build passed" in first.stderr + first.stdout
    before = assert_exactly_once(home, book)

    book.add_file(good=30, duplicates=4, bad=3)
    log = home.dbt_logs / "dbt.log"
    offset = log.stat().st_size
    env = {**os.environ, "PRODLENS_HOME": str(home.root), "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.Popen(
        [sys.executable, "-m", "prodlens.cli", "run", "--config", str(config), "--progress", "log"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=REPO_ROOT,
    )
    worker = None
    try:
        deadline = time.monotonic() + 300
        while "Concurrency:" not in log.read_text()[offset:]:  # dbt has begun the build's nodes
            assert run.poll() is None, "the run ended before its build began"
            assert time.monotonic() < deadline, "the build never began"
            workers = children(run.pid)
            worker = workers[0] if workers else worker
            time.sleep(0.005)
        assert worker is not None and worker != run.pid, "the build did not run in a process of its own"
        os.kill(worker, signal.SIGSTOP)  # held mid-build while its run is killed
        run.kill()
    finally:
        run.kill()
        run.wait()
    with pytest.raises(RunLocked), run_lock(home):  # the dbt process holds the run's lock
        pass
    os.kill(worker, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while running(worker):  # the end of its command pipe ends it
        assert time.monotonic() < deadline, "the dbt process outlived its killed run"
        time.sleep(0.05)
    assert "Finished running" not in log.read_text()[offset:], "the killed run's build went on"
    # and then no process holds the home. Waited for, briefly: a thread's descriptors are released as it
    # finishes exiting, after its state has turned zombie
    with run_lock(home, wait_seconds=30, poll_seconds=0.05):
        pass
    after_kill = published(home)
    assert after_kill is not None and after_kill.request_ids == before.request_ids  # the old version

    prodlens("run", "--config", str(config), home=home)
    assert_exactly_once(home, book)


def test_a_build_stopped_by_dbt_itself_names_dbts_error(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    from prodlens import build
    from prodlens.dbt_runner import DbtRun

    answers = iter(
        [
            DbtRun(False, error="Compilation Error in model sessions\n  unexpected '}'"),
            DbtRun(False, {"test.prodlens.unique_sessions_id.1a": "fail"}, error="ignored: nodes failed"),
        ]
    )
    monkeypatch.setattr(build, "run_dbt", lambda home, args, **options: next(answers))
    monkeypatch.setattr(build, "has_loaded", lambda home: True)
    monkeypatch.setattr("prodlens.ingest.tables.ensure_raw_tables", lambda home: None)
    home.ensure()
    with pytest.raises(build.BuildFailed) as stopped:
        build.dbt_build(home, ["--vars", "{}"])
    assert str(stopped.value).startswith("dbt build failed: Compilation Error in model sessions; see ")
    with pytest.raises(build.BuildFailed) as failed:
        build.dbt_build(home, ["--vars", "{}"])
    assert str(failed.value).startswith("dbt build failed (test unique_sessions_id); see ")
    assert failed.value.failed_nodes == ["test unique_sessions_id"]
