"""At most one `prodlens run` per home: an exclusive flock on PRODLENS_HOME/run.lock.

The holder writes its PID into the file, so a second run can name it. The kernel drops the lock when
the holder exits, however it exits (SIGKILL included), so a crashed run never leaves the home locked.
A run that cannot get the lock touches nothing: it only opens the lock file and reads the PID.
"""

from __future__ import annotations

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
    """Another `prodlens run` holds this home."""

    exit_code = RUN_LOCKED_EXIT


def lock_path(home: Home) -> Path:
    return home.root / "run.lock"


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


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
def run_lock(home: Home, wait_seconds: float = 0.0, *, poll_seconds: float = 0.2) -> Iterator[None]:
    """Hold the run lock of `home` for the duration of the block, waiting up to `wait_seconds`."""
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
                    pid = _read_pid(fd)
                    holder = f"PID {pid}" if pid else "another process (PID not yet written)"
                    waited = f" after waiting {wait_seconds:g}s" if wait_seconds > 0 else ""
                    raise RunLocked(
                        f"another prodlens run ({holder}) is using {home.root}{waited}; nothing was changed. "
                        "Try again later, or pass --wait SECONDS to wait for it"
                    ) from None
                time.sleep(min(poll_seconds, remaining))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
