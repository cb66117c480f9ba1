"""Crash safety: `prodlens run` is killed with SIGKILL at named points of extract, normalise, load, dbt
build, publish and export (tests/run/killer.py), and at random moments, then run again.

After every kill the published database opens and holds either the previous complete version or the
new complete one (its manifest matches every table), and every Parquet file opens. After every rerun
each input record is in marts.sessions exactly once, each bad line is exactly one dead letter, the
Parquet export agrees, and no load-package file (row data) is left behind.

Kill points: 23 named points in four series (each series adds input, then its runs are killed one
after another, each at its point, so later kills also meet the leftovers of earlier ones; then one
rerun must recover everything), and 4 kills at random moments of a run with new input, each followed
by a rerun (test_crash_random.py): 27 kills, all in the default test run.
"""

from __future__ import annotations

from pathlib import Path

from tests.run.harness import kill_and_recover, start

# Each series: successive runs killed at these points, then one rerun that must succeed and be exact.
SERIES = {
    "extract": ("extract-chunk:1", "extract-chunk:2", "extract-finish", "extract-yield", "extract-commit"),
    "normalise-load": (
        "normalize-start",
        "normalize-done",
        "load-requests-job",
        "load-job:1",
        "load-job:2",
        "load-complete-package",
        "load-package-done",
        "load-record",
    ),
    "build": ("dbt-node:2", "dbt-sql:3", "dbt-sql:12", "dbt-sql:25"),
    "publish-export": (
        "publish-snapshot",
        "publish-drop:2",
        "publish-swap",
        "publish-replaced",
        "export-sync",
        "export-replace:2",
    ),
}


def test_kill_points_then_rerun(tmp_path: Path) -> None:
    """The series run one after another in one home: the first one hits the very first run of the home
    (nothing published yet), the others a home with a published version and earlier crash history."""
    home, book, config = start(tmp_path, files=0)
    for points in SERIES.values():
        kill_and_recover(home, book, config, points)
