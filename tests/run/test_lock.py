"""One writer per home: a second `prodlens run`, `load traces`, `load github`, `build` or `demo` exits 75
naming the holder and touches nothing; --wait waits; a killed holder never leaves the home locked."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from prodlens.home import Home
from prodlens.lock import RUN_LOCKED_EXIT, RunLocked, holder_pid, run_lock
from tests.conftest import prodlens
from tests.run.harness import REPO_ROOT, write_config

HOLD = """
import sys, time
from prodlens.home import Home
from prodlens.lock import run_lock
from pathlib import Path
with run_lock(Home(Path(sys.argv[1]))):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def holder(home: Home) -> Iterator[subprocess.Popen]:
    """A process holding the run lock of `home` for up to 60 s."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home.root), "60"], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield proc
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    return {
        str(p.relative_to(root)): (
            p.stat().st_size,
            p.stat().st_mtime_ns,
            hashlib.sha1(p.read_bytes()).hexdigest(),
        )
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_second_run_exits_75_naming_the_holder_and_touches_nothing(
    home: Home, holder: subprocess.Popen
) -> None:
    traces = home.root.parent / "traces"
    traces.mkdir()
    (traces / "a.jsonl").write_text('{"id": "x", "startTime": 1760000000, "model": "gpt-4o"}\n')
    config = write_config(home, f'[traces]\npaths = ["{traces}"]\n')
    (home.root / "runs.log").write_text('{"job": "run"}\n')
    before = snapshot(home.root)
    result = prodlens("run", "--config", str(config), home=home, check=False)
    assert result.returncode == RUN_LOCKED_EXIT == 75
    assert f"PID {holder.pid}" in result.stderr
    assert "nothing was changed" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(home.root) == before


def test_wait_gives_up_after_the_given_seconds(home: Home, holder: subprocess.Popen) -> None:
    started = time.monotonic()
    with pytest.raises(RunLocked, match=rf"PID {holder.pid}.*after waiting 1.5s"), run_lock(home, 1.5):
        pass
    assert 1.4 <= time.monotonic() - started < 10


def test_wait_takes_the_lock_when_the_holder_finishes(home: Home) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home.root), "1.5"], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with run_lock(home, wait_seconds=60):
        assert holder_pid(home) == os.getpid()
        assert time.monotonic() - started >= 1.0  # it had to wait for the holder to let go
    proc.wait(timeout=60)
    assert holder_pid(home) is None


def test_a_killed_holder_leaves_no_lock(home: Home, holder: subprocess.Popen) -> None:
    assert holder_pid(home) == holder.pid
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert holder_pid(home) is None  # its PID is still in the file, but the process is gone
    with run_lock(home):  # the kernel released the flock with the process
        assert holder_pid(home) == os.getpid()


def test_bad_wait_value(home: Home) -> None:
    result = prodlens("run", "--wait", "-1", home=home, check=False)
    assert result.returncode == 2 and "--wait" in result.stderr


def test_status_names_the_running_holder(home: Home, holder: subprocess.Popen) -> None:
    status = prodlens("status", home=home)
    assert f"running     yes, PID {holder.pid}" in status.stdout
    assert "last run    none recorded" in status.stdout and "no published database yet" in status.stdout


WRITERS = {
    "load traces": ["load", "traces", "{traces}"],
    "load github": ["load", "github", "--repo", "acme/web"],
    "load spendlogs": ["load", "spendlogs"],
    "build": ["build"],
    "demo": ["demo"],
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_every_writer_takes_the_one_lock(home: Home, holder: subprocess.Popen, writer: str) -> None:
    traces = home.root.parent / "traces"
    traces.mkdir()
    (traces / "a.jsonl").write_text('{"id": "x", "startTime": 1760000000, "model": "gpt-4o"}\n')
    before = snapshot(home.root)
    args = [a.format(traces=traces) for a in WRITERS[writer]]
    env = {
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "PRODLENS_LITELLM_DATABASE_URL": "postgresql://u:p@127.0.0.1:9/x",
    }
    result = prodlens(*args, home=home, check=False, env=env)
    assert result.returncode == RUN_LOCKED_EXIT, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"prodlens: error: another prodlens run (PID {holder.pid}) is using {home.root}; nothing was changed. "
        "Try again later, or pass --wait SECONDS to wait for it"
    ]
    assert snapshot(home.root) == before


def test_two_loads_at_once_one_waits_for_the_other(home: Home, tmp_path: Path) -> None:
    """Two `load traces` of one home at the same time both succeed: the second waits (--wait) for the
    first instead of breaking its dlt working folders, and each record is loaded once."""
    files = []
    for k in range(2):
        path = tmp_path / f"t{k}.jsonl"
        path.write_text(
            "".join(
                f'{{"id": "r{k}-{i}", "startTime": {1760000000 + i}, "model": "gpt-4o"}}\n'
                for i in range(2000)
            )
        )
        files.append(path)
    env = {**os.environ, "PRODLENS_HOME": str(home.root), "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "prodlens.cli", "load", "traces", str(f), "--wait", "120"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO_ROOT,
        )
        for f in files
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all("2000 loaded" in out for out, _ in outs), outs
