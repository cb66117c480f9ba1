"""prodlens.cores: the cores a run may use, its CPU affinity capped by its cgroups' CPU quota. The cgroup
files are written as the kernel's documentation shows them (admin-guide/cgroup-v2.rst `cpu.max`;
cgroup-v1 CFS bandwidth `cpu.cfs_quota_us`/`cpu.cfs_period_us`; `/proc/<pid>/cgroup` lines
`hierarchy-ID:controller-list:cgroup-path`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prodlens.cores import cpu_quota, usable_cores

AFFINITY = len(os.sched_getaffinity(0))


def tree(root: Path, proc_cgroup: str, files: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup mount at root/fs with `files` (path -> content) and a /proc/self/cgroup of `proc_cgroup`."""
    for name, content in files.items():
        path = root / "fs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content + "\n")
    (root / "cgroup").write_text(proc_cgroup + "\n")
    return root / "fs", root / "cgroup"


@pytest.mark.parametrize(
    ("proc_cgroup", "files", "quota"),
    [
        # cgroup v2: the default is no limit
        ("0::/app.slice/prodlens.service", {"app.slice/prodlens.service/cpu.max": "max 100000"}, None),
        # `docker run --cpus 1.5`: 150 ms of CPU per 100 ms period
        ("0::/", {"cpu.max": "150000 100000"}, 1.5),
        # the smallest quota on the way up counts: a parent's limit binds its children
        (
            "0::/kubepods/pod1/ctr",
            {
                "kubepods/cpu.max": "max 100000",
                "kubepods/pod1/cpu.max": "100000 100000",
                "kubepods/pod1/ctr/cpu.max": "400000 100000",
            },
            1.0,
        ),
        # cgroup v1, cpu and cpuacct mounted together; -1 is no limit
        (
            "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc",
            {
                "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "-1",
                "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000",
            },
            None,
        ),
        # cgroup v1 in a container: /proc names the host's path, the container's cgroup is the mount itself
        (
            "4:cpu,cpuacct:/docker/abc",
            {"cpu/cpu.cfs_quota_us": "250000", "cpu/cpu.cfs_period_us": "100000"},
            2.5,
        ),
        # no cgroup files to read
        ("0::/gone", {}, None),
    ],
)
def test_the_quota_is_the_smallest_of_the_cgroup_and_its_ancestors(
    tmp_path: Path, proc_cgroup: str, files: dict[str, str], quota: float | None
) -> None:
    root, proc = tree(tmp_path, proc_cgroup, files)
    assert cpu_quota(root, proc) == quota


def test_a_quota_caps_the_affinity_rounded_down(tmp_path: Path) -> None:
    one_and_a_half = tree(tmp_path / "a", "0::/", {"cpu.max": "150000 100000"})
    assert usable_cores(*one_and_a_half) == 1  # less than two processes side by side
    half = tree(tmp_path / "b", "0::/", {"cpu.max": "50000 100000"})
    assert usable_cores(*half) == 1  # at least one
    many = tree(tmp_path / "c", "0::/", {"cpu.max": f"{100000 * (AFFINITY + 8)} 100000"})
    assert usable_cores(*many) == AFFINITY  # a quota above the affinity does not add cores
    assert usable_cores(tmp_path / "none", tmp_path / "none" / "cgroup") == AFFINITY
