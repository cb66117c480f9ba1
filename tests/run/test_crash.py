"""Crash safety: `prodlens run` is killed with SIGKILL at named points of extract, normalise, load, dbt
build, publish and export (tests/run/killer.py), then run again.

After every kill the published database opens and holds either the previous complete version or the
new complete one (its manifest matches every table). After every rerun each input record is in
marts.sessions exactly once, each bad line is exactly one dead letter, and the Parquet export agrees.

Kill points: the default run covers one point per phase (FAST: 5 points, as two series of successive
crashes, each followed by one rerun); the slow job (`pytest -m slow tests/run`) covers 17 more named points, each
followed by a rerun, and 5 kills at random moments: 27 kill points in all.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import duckdb
import pytest

from loaders.home import Home
from tests.run.harness import Book, Published, assert_exactly_once, crash_config, published, run

# Each tuple: successive runs killed at these points, then one rerun that must succeed and be exact.
FAST = [("extract-chunk:2", "normalize-done", "load-complete-package"), ("dbt-sql:12", "publish-swap")]
SLOW_GROUPS = {
    "extract": [("extract-chunk:1",), ("extract-finish",), ("extract-yield",), ("extract-commit",)],
    "normalise-load": [
        ("normalize-start",),
        ("load-job:1",),
        ("load-job:2",),
        ("load-package-done",),
        ("load-record",),
    ],
    "build": [("dbt-node:2",), ("dbt-sql:3",), ("dbt-sql:25",)],
    "publish": [
        ("publish-snapshot",),
        ("publish-drop:2",),
        ("publish-replaced",),
        ("export-sync",),
        ("export-replace:2",),
    ],
}


def _start(tmp_path: Path, *, files: int = 2) -> tuple[Home, Book, Path]:
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


def _parquet_readable(home: Home) -> None:
    """Every Parquet file under parquet/ is complete (a half-written file would not open)."""
    with duckdb.connect() as con:
        for path in home.parquet.rglob("*.parquet"):
            con.execute(f"select count(*) from read_parquet('{path}')").fetchone()


def _kill_and_recover(
    home: Home, book: Book, config: Path, points: tuple[str, ...] = (), kill_after: float | None = None
) -> tuple[float, int]:
    """Add input, run killed at each point in turn, then rerun; returns the rerun's duration and how
    many runs were killed."""
    kills = 0
    before = published(home)  # None before the first publish
    book.add_file(good=30, duplicates=4, bad=3)
    book.add_file(good=25, duplicates=2, bad=1)
    for point in points or (None,):
        killed = run(home, config, kill_at=point, kill_after=kill_after)
        kills += killed.killed
        if point:
            assert killed.killed, f"kill point {point} was never reached:\n{killed.describe()}"
        after_kill = published(home)  # raises when the file does not match its manifest
        if before is None and after_kill is None:
            continue  # nothing published yet, and still nothing: the old version
        assert after_kill is not None, f"the published database disappeared after {point}"
        old = (before.request_ids, before.dead) if before else None
        assert (after_kill.request_ids, after_kill.dead) in (old, (book.good, book.bad)), (
            f"half a version published after {point}"
        )
        _parquet_readable(home)
    started = time.monotonic()
    rerun = run(home, config)
    duration = time.monotonic() - started
    assert rerun.returncode == 0, f"rerun after a kill at {points or kill_after} failed:\n{rerun.describe()}"
    state: Published = assert_exactly_once(home, book)
    assert state.sessions == len(book.good) and state.rejected == len(book.bad)
    return duration, kills


def test_kill_points_fast(tmp_path: Path) -> None:
    home, book, config = _start(tmp_path, files=0)  # the first kills hit the very first run
    for points in FAST:
        _kill_and_recover(home, book, config, points)


@pytest.mark.slow
@pytest.mark.parametrize("group", sorted(SLOW_GROUPS))
def test_kill_points_slow(tmp_path: Path, group: str) -> None:
    home, book, config = _start(tmp_path)
    for points in SLOW_GROUPS[group]:
        _kill_and_recover(home, book, config, points)


@pytest.mark.slow
def test_kill_at_random_moments(tmp_path: Path) -> None:
    """SIGKILL at random moments of a run (seeded), whatever the run is doing then."""
    home, book, config = _start(tmp_path)
    rng = random.Random(20250124)
    duration, _ = _kill_and_recover(home, book, config)  # how long a run takes here
    kills = 0
    for _ in range(5):
        duration, killed = _kill_and_recover(
            home, book, config, kill_after=rng.uniform(0.05, 0.95) * duration
        )
        kills += killed
    assert kills >= 3, f"only {kills} of 5 runs were still running when their kill came"
