"""How many CPU cores this process may use: its CPU affinity (`taskset`, a cpuset), capped by the CPU quota
of its cgroup and the cgroups above it (a container's `--cpus`, a Kubernetes CPU limit).

The quota is read as the kernel writes it (Documentation/admin-guide/cgroup-v2.rst, cgroup-v1/cfs):

- cgroup v2: `cpu.max`, "$MAX $PERIOD" in microseconds, "max" for none;
- cgroup v1: `cpu.cfs_quota_us` (-1 for none) over `cpu.cfs_period_us`, under the `cpu` controller's mount.

A quota of 1.5 cores counts as one: what it allows is less than two processes running side by side.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def usable_cores(cgroup_root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """The cores this process may run on: its CPU affinity where the system has one, else every core,
    and no more than its cgroups' CPU quota (rounded down, at least one)."""
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = cpu_quota(cgroup_root, proc_cgroup)
    if quota is None:
        return allowed
    return max(1, min(allowed, math.floor(quota)))


def cpu_quota(cgroup_root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> float | None:
    """The smallest CPU quota, in cores, of this process's cgroup and its ancestors; None when none is set
    or the system has no cgroups to read."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    quotas: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":  # cgroup v2's unified hierarchy
            quotas += _quotas_up(cgroup_root, cgroup_root / path.lstrip("/"), _v2_quota)
        elif "cpu" in controllers.split(","):  # cgroup v1, mounted as cpu or cpu,cpuacct
            for mount in dict.fromkeys((controllers, "cpu")):
                if (cgroup_root / mount).is_dir():
                    quotas += _quotas_up(
                        cgroup_root / mount, cgroup_root / mount / path.lstrip("/"), _v1_quota
                    )
                    break
    return min(quotas, default=None)


def _quotas_up(top: Path, leaf: Path, read: Callable[[Path], float | None]) -> list[float]:
    """The quotas `read` finds in `leaf` and each folder above it up to `top`. A folder that does not exist
    is skipped: inside a container the cgroup path names the host's hierarchy, and the container's own
    cgroup is mounted at the top."""
    found: list[float] = []
    folder = leaf
    while True:
        try:
            quota = read(folder)
        except (OSError, ValueError):
            quota = None
        if quota is not None:
            found.append(quota)
        if folder == top or top not in folder.parents:
            return found
        folder = folder.parent


def _v2_quota(folder: Path) -> float | None:
    limit, period = (folder / "cpu.max").read_text().split()
    return None if limit == "max" else int(limit) / int(period)


def _v1_quota(folder: Path) -> float | None:
    limit = int((folder / "cpu.cfs_quota_us").read_text())
    return None if limit < 0 else limit / int((folder / "cpu.cfs_period_us").read_text())
