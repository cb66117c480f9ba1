"""loaders.litellm.files: how a trace file's kind is told, JSON Lines or JSON values printed over several
lines (the OpenTelemetry SDK's console exporter), from as few of its first bytes as settle it: every run
looks at every configured file, most of them unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loaders.litellm import files
from loaders.litellm.files import FIRST_VALUE_BYTES, PROBE_BYTES, Cursor, TraceFile

RECORD = {"id": "chatcmpl-1", "model": "gpt-4o", "metadata": {"repo": "acme/web"}}


def _kind(path: Path) -> str:
    return TraceFile(path, Cursor()).kind


class _Counting:
    """open() for loaders.litellm.files that counts the bytes read through it."""

    def __init__(self) -> None:
        self.read = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        handle = open(*args, **kwargs)  # noqa: SIM115 (closed by the caller's with)
        counter = self

        class Handle:
            def __enter__(self) -> Handle:
                return self

            def __exit__(self, *exc: object) -> None:
                handle.close()

            def read(self, size: int = -1) -> bytes:
                data: bytes = handle.read(size)
                counter.read += len(data)
                return data

        return Handle()


def test_a_jsonl_file_is_told_from_its_first_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.jsonl"
    line = json.dumps(RECORD) + "\n"
    path.write_text(line * (2 * FIRST_VALUE_BYTES // len(line)))
    counting = _Counting()
    monkeypatch.setattr(files, "open", counting, raising=False)
    assert _kind(path) == "lines"
    assert counting.read == PROBE_BYTES  # not the FIRST_VALUE_BYTES a pretty-printed value may take


def test_a_first_line_longer_than_the_probe_is_still_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    long_record = {**RECORD, "padding": "x" * (3 * PROBE_BYTES)}
    path.write_text(json.dumps(long_record) + "\n" + json.dumps(RECORD) + "\n")
    assert _kind(path) == "lines"


@pytest.mark.parametrize("blank", [0, PROBE_BYTES + 10])
def test_pretty_printed_values_are_json_even_after_a_probe_of_blank_lines(tmp_path: Path, blank: int) -> None:
    path = tmp_path / "console.jsonl"
    path.write_text("\n" * blank + json.dumps(RECORD, indent=4) + "\n" + json.dumps(RECORD, indent=4) + "\n")
    assert _kind(path) == "json"


def test_a_lone_brace_followed_by_jsonl_is_read_line_by_line(tmp_path: Path) -> None:
    """A broken first value (a `{` line, then JSON Lines): each line is read and accounted for."""
    path = tmp_path / "broken.jsonl"
    path.write_text("{\n" + (json.dumps(RECORD) + "\n") * 3)
    assert _kind(path) == "lines"
