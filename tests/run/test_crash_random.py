"""Crash safety at random moments: `prodlens run` with new input is killed with SIGKILL at a random
moment (seeded), whatever it is doing then, and run again; see test_crash.py for the checks."""

from __future__ import annotations

import random
from pathlib import Path

from tests.run.harness import kill_and_recover, start

RANDOM_KILLS = 4


def test_kill_at_random_moments(tmp_path: Path) -> None:
    """SIGKILL at random moments (seeded) of a run with new input, whatever the run is doing then; a rerun
    after each kill."""
    home, book, config = start(tmp_path, files=0)
    duration, _ = kill_and_recover(home, book, config)  # how long a run with new input takes here
    rng = random.Random(20250124)
    kills = 0
    for _ in range(RANDOM_KILLS):
        duration, killed = kill_and_recover(
            home, book, config, kill_after=[rng.uniform(0.05, 0.9) * duration]
        )
        kills += killed
    # a run can finish before its moment comes (the reruns that set `duration` have less to do)
    assert kills >= RANDOM_KILLS - 1, (
        f"only {kills} of {RANDOM_KILLS} runs were still running when their kill came"
    )
