"""dbt in a process of its own, started ahead of need: `prodlens run` starts one before its load step.

Importing dbt costs ~2 s of one core whatever the data (dbt-core, its adapters and their schemas), and
a scheduled run after a day of new data lasts ~10 s. Started at the beginning of the run, that import
happens on a second core while the load reads and writes the new rows; the build step then hands its
dbt command to the ready process (`DbtProcess.run`) and gets back what `run_dbt` would have returned.

The process serves one command and exits. Its lifetime is the run's:

- it inherits the run lock's file descriptor, so the home stays locked until it has exited, however
  the run ends;
- it reads its command from a pipe and keeps reading: the end of that pipe (the run finished, failed or
  was killed, SIGKILL included) ends it at once, and with it any dbt command it was running; DuckDB
  then recovers the working file from its write-ahead log, as after a killed in-process build;
- a run that needs no build (nothing new) kills it while it is still importing.

It is used only where it pays: a DuckDB target, at least two cores this process may run on
(prodlens.cores: its CPU affinity, as `taskset` or a cpuset sets it, capped by a cgroup CPU quota, as a
container's `--cpus` sets it), and dbt not yet imported in this process (a caller that already imported
dbt runs it in-process, as `run_dbt` does).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from prodlens.cores import usable_cores
from prodlens.dbt_runner import DbtRun, NewRows
from prodlens.home import Home
from prodlens.interpreter import collect_less_often

#: how long close() waits for a process that has answered to exit before it kills it
EXIT_GRACE_SECONDS = 10.0


class DbtProcess:
    """A started `python -m prodlens.dbt_process`; `run` hands it one dbt command."""

    def __init__(self, command: Sequence[str], keep_fds: Iterable[int] = ()) -> None:
        read_end, write_end = os.pipe()
        try:
            self._proc: subprocess.Popen[bytes] = subprocess.Popen(
                [*command, str(write_end)],
                stdin=subprocess.PIPE,
                pass_fds=(write_end, *keep_fds),
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        self._results: IO[str] = os.fdopen(read_end, encoding="utf-8")
        self._used = False

    @classmethod
    def start(cls, keep_fds: Iterable[int] = ()) -> DbtProcess:
        """Start one now; `keep_fds` are inherited (the run lock's descriptor)."""
        return cls([sys.executable, "-m", "prodlens.dbt_process"], keep_fds)

    @classmethod
    def ahead_of_need(cls, keep_fds: Iterable[int] = ()) -> DbtProcess | None:
        """One started now where it pays (module docstring), else None: run dbt in-process."""
        from prodlens import target

        if target.uses_lake() or usable_cores() < 2 or "dbt.cli.main" in sys.modules:
            return None
        return cls.start(keep_fds)

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """Its exit code once it has ended (negative: the signal that ended it), else None."""
        return self._proc.returncode

    def run(
        self,
        home: Home,
        args: Sequence[str],
        *,
        quiet: bool = False,
        new_rows: NewRows | None = None,
        artifacts: bool = True,
    ) -> DbtRun:
        """`run_dbt(home, args, ...)` in the process; a process that ended without an answer is a failed
        run whose message says so (the caller names dbt.log)."""
        if self._used:
            raise RuntimeError("a DbtProcess runs one dbt command; start another")
        self._used = True
        request = {
            "home": str(home.root),
            "args": list(args),
            "quiet": quiet,
            "new_rows": None if new_rows is None else {"loads_after": new_rows.loads_after},
            "artifacts": artifacts,
        }
        stdin = self._proc.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it has ended: its exit code is reported below
            stdin.write((json.dumps(request) + "\n").encode())
            stdin.flush()
        answer = self._results.readline()
        if not answer:
            code = self._proc.wait()
            return DbtRun(
                False, error=f"the dbt process ended (exit code {code}) before it reported a result"
            )
        doc = json.loads(answer)
        return DbtRun(bool(doc["success"]), dict(doc["statuses"]), doc.get("error"))

    def close(self) -> None:
        """End the process: closing its pipe stops it at once, unless it has answered and is exiting."""
        stdin = self._proc.stdin
        if stdin is not None and not stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                stdin.close()
        if not self._used:
            self._proc.kill()  # still importing, or waiting for a command that will not come
        try:
            self._proc.wait(timeout=EXIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._results.close()

    def __enter__(self) -> DbtProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _exit_when_closed(fd: int, answered: threading.Event) -> None:
    """Read the command pipe to its end, then end this process at once: the run that started it is over.
    Raw reads: a thread blocked in a buffered read would hold the stream's lock at interpreter shutdown."""
    while os.read(fd, 65536):
        pass
    # EX_SOFTWARE when the run ended first (its command is cut short); 0 when it closed the pipe after the
    # answer, while this process was exiting anyway
    os._exit(0 if answered.is_set() else 70)


def main(argv: Sequence[str] | None = None) -> int:
    """The process: import dbt, read one command, run it, write the result as one JSON line."""
    args = list(sys.argv[1:] if argv is None else argv)
    results = os.fdopen(int(args[0]), "w", encoding="utf-8")
    # Ctrl-C on a terminal reaches the whole process group: the run decides, and its end ends this process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # what this process is for: the imports a build needs, made now rather than in the build step
    from dbt.adapters.duckdb import DuckDBAdapter  # noqa: F401
    from dbt.cli.main import dbtRunner  # noqa: F401

    import prodlens.stats  # noqa: F401  (pandas, for the Python models; scipy stays on first use)
    from prodlens.dbt_runner import run_dbt

    line = sys.stdin.buffer.readline()
    if not line:
        return 0  # the run needed no build
    answered = threading.Event()
    threading.Thread(target=_exit_when_closed, args=(sys.stdin.fileno(), answered), daemon=True).start()
    request: dict[str, Any] = json.loads(line)
    run = run_dbt(
        Home(Path(request["home"])),
        request["args"],
        quiet=bool(request["quiet"]),
        new_rows=None if request["new_rows"] is None else NewRows(**request["new_rows"]),
        artifacts=bool(request["artifacts"]),
    )
    answered.set()
    results.write(json.dumps({"success": run.success, "statuses": run.statuses, "error": run.error}) + "\n")
    results.flush()
    return 0


if __name__ == "__main__":
    collect_less_often()  # as the CLI does: dbt's execution allocates millions of short-lived objects
    code = main()
    gc.freeze()  # as the CLI does: the final collection skips dbt's objects
    sys.exit(code)
