"""Whether a process still runs: temporary files named after a dead process's PID can be removed."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True when a process with this PID exists (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
