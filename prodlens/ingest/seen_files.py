"""The trace files as the last successful `load traces` left them, so that a load where no file changed
skips dlt altogether (its extract, normalise and load of an empty package cost a second or more).

The record keeps each file's cursor as that load saved it in the dlt state, and a file counts as unchanged
by the loader's own rule (loaders.litellm.files.TraceFile.unchanged: size, mtime and first bytes). It also
holds the newest load id in the raw tables after that load (prodlens.build_state.newest_load): another
load, a dropped table or a new working file makes it differ, and then dlt runs as usual. The record is
deleted before every dlt run and written only after one succeeded, so a load that failed or was killed
midway (which may leave a pending dlt package) is always followed by a real one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loaders.litellm.files import Cursor, TraceFile
from prodlens.build_state import newest_load, write_json
from prodlens.home import Home


def record_path(home: Home) -> Path:
    return home.root / "state" / "trace_files.json"


def unchanged(home: Home, files: list[Path]) -> dict[str, Any] | None:
    """The record of the last load when every file of `files` is as that load left it and no other
    load happened since; None otherwise."""
    try:
        last = json.loads(record_path(home).read_text())
        cursors = last["cursors"]
        for path in files:
            if (
                str(path) not in cursors
                or not TraceFile(path, Cursor.from_state(cursors[str(path)])).unchanged()
            ):
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if last.get("newest_load") != newest_load(home):
        return None
    return dict(last)


def forget(home: Home) -> None:
    record_path(home).unlink(missing_ok=True)


def remember(home: Home, cursors: dict[str, dict], held_back: int) -> None:
    write_json(
        record_path(home), {"cursors": cursors, "newest_load": newest_load(home), "held_back": held_back}
    )
