"""One writer per home: an exclusive flock on PRODLENS_HOME/run.lock, taken by every command that writes
the home (`run`, `load traces`, `load github`, `build`, `demo`), each with `--wait SECONDS`.

DuckDB allows one writing process per file, and dlt's working folders belong to one pipeline run at a
time: two writers at once would fail each other. The holder writes its PID and command into the file,
so a second writer can name it. The kernel drops the lock when
the holder exits, however it exits (SIGKILL included), so a crashed run never leaves the home locked.
A run that cannot get the lock touches nothing: it only opens the lock file and reads the PID.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from prodlens.errors import UserError
from prodlens.home import Home

RUN_LOCKED_EXIT = 75  # EX_TEMPFAIL: try again later


class RunLocked(UserError):
    """Another ProdLens writer holds this home."""

    exit_code = RUN_LOCKED_EXIT


def lock_path(home: Home) -> Path:
    return home.root / "run.lock"


def _read_holder(fd: int) -> tuple[int | None, str]:
    """(PID, command) the holder wrote: `<pid> <command>`."""
    try:
        text = os.pread(fd, 200, 0).decode("ascii", "replace").strip()
    except OSError:
        return None, ""
    pid, _, command = text.partition(" ")
    return (int(pid) if pid.isdigit() else None), command


def _read_pid(fd: int) -> int | None:
    return _read_holder(fd)[0]


def holder_pid(home: Home) -> int | None:
    """The PID of the run holding this home, or None. Never takes the lock (that could make a
    starting run fail); it reads the PID the holder wrote and checks that the process is alive."""
    try:
        fd = os.open(lock_path(home), os.O_RDONLY)
    except OSError:
        return None
    try:
        pid = _read_pid(fd)
    finally:
        os.close(fd)
    if pid is None:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


@contextlib.contextmanager
def run_lock(
    home: Home, wait_seconds: float = 0.0, *, poll_seconds: float = 0.2, command: str = "prodlens run"
) -> Iterator[int]:
    """Hold the writer lock of `home` for the duration of the block, waiting up to `wait_seconds`;
    `command` names the holder to a writer that finds the home locked. Yields the lock's file
    descriptor: a child process that inherits it holds the lock with this one until both have exited."""
    if wait_seconds < 0:
        raise UserError("--wait SECONDS must not be negative")
    home.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(home), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pid, holder_command = _read_holder(fd)
                    holder = f"PID {pid}" if pid else "another process (PID not yet written)"
                    waited = f" after waiting {wait_seconds:g}s" if wait_seconds > 0 else ""
                    raise RunLocked(
                        f"another {holder_command or 'prodlens writer'} ({holder}) is using {home.root}{waited}; "
                        "nothing was changed. Try again later, or pass --wait SECONDS to wait for it"
                    ) from None
                time.sleep(min(poll_seconds, remaining))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
        try:
            yield fd
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def add_wait_option(parser: argparse.ArgumentParser) -> None:
    """`--wait SECONDS`, the same for every writing command."""
    parser.add_argument(
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for another ProdLens writer of this home (run, load, build) to finish "
        "(default 0: exit 75 at once)",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("SECONDS must not be negative")
    return value
