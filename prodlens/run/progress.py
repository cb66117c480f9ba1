"""Progress for `prodlens run`: a live bar on a terminal, plain timestamped log lines otherwise.

On a TTY a background thread redraws one line (files, lines read, rows per second, elapsed) four
times a second. Without a TTY (cron, CI, a pipe) nothing is redrawn: a log line is written at most
every LOG_EVERY seconds, and at the end of each step.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime
from typing import Protocol, TextIO

LOG_EVERY = 10.0
BAR_WIDTH = 24


class LoadCounts(Protocol):
    read: int
    files: int


class Reporter:
    """Where `prodlens run` says what it is doing. `mode` is auto, bar, log or quiet."""

    def __init__(self, mode: str = "auto", stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = mode == "quiet"
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar = not self.quiet and (mode == "bar" or (mode == "auto" and tty))
        self._lock = threading.Lock()
        self._bar_shown = False

    def log(self, message: str) -> None:
        if self.quiet:
            return
        with self._lock:
            if self.bar:
                self._clear()
                self.stream.write(f"{message}\n")
            else:
                stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                self.stream.write(f"{stamp} prodlens run: {message}\n")
            self.stream.flush()

    def draw(self, line: str) -> None:
        with self._lock:
            self.stream.write("\r\x1b[K" + line)
            self.stream.flush()
            self._bar_shown = True

    def _clear(self) -> None:
        if self._bar_shown:
            self.stream.write("\r\x1b[K")
            self._bar_shown = False

    def end_bar(self) -> None:
        with self._lock:
            if self._bar_shown:
                self.stream.write("\n")
                self.stream.flush()
                self._bar_shown = False

    def load_progress(self, label: str, files_total: int) -> LoadProgress:
        return LoadProgress(self, label, files_total)


def format_progress(
    label: str, files_done: int, files_total: int, lines: int, elapsed: float, *, bar: bool
) -> str:
    rate = lines / elapsed if elapsed > 0 else 0.0
    clock = f"{int(elapsed // 60)}:{int(elapsed % 60):02d}"
    text = f"{files_done}/{files_total} files  {lines:,} lines  {rate:,.0f} rows/s  {clock}"
    if not bar:
        return f"{label}: {text}"
    filled = int(BAR_WIDTH * files_done / files_total) if files_total else BAR_WIDTH
    return f"{label} [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {text}"


class LoadProgress:
    """Progress of one load. `update(counts)` is called by the loader after each chunk of lines."""

    def __init__(self, reporter: Reporter, label: str, files_total: int) -> None:
        self.reporter = reporter
        self.label = label
        self.files_total = files_total
        self.files_done = 0
        self.lines = 0
        self.started = time.monotonic()
        self._last_log = self.started
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LoadProgress:
        if self.reporter.bar:
            self._thread = threading.Thread(target=self._redraw, name="prodlens-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.reporter.draw(self.line())
            self.reporter.end_bar()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        return format_progress(
            self.label, self.files_done, self.files_total, self.lines, elapsed, bar=self.reporter.bar
        )

    def update(self, counts: LoadCounts, files_total: int | None = None) -> None:
        self.files_done = counts.files
        self.lines = counts.read
        if files_total is not None:
            self.files_total = files_total
        now = time.monotonic()
        if not self.reporter.bar and now - self._last_log >= LOG_EVERY:
            self._last_log = now
            self.reporter.log(self.line())

    def _redraw(self) -> None:
        while not self._stop.wait(0.25):
            self.reporter.draw(self.line())
