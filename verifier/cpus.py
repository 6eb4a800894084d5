"""How many CPUs this process may actually use: what decode slots are counted from.

`os.cpu_count()` is the machine's count. A container or a systemd unit usually gets less: an
affinity mask (`taskset`, cpusets) or a CFS quota (`docker --cpus 1.5` writes `150000 100000` to
cgroup v2's `cpu.max`, or to v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us`). Counting slots from
the machine would run more CPU-bound decodes at once than the quota can serve, and every upload
would slow down together instead of queueing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["usable_cpus"]

_CGROUP_ROOT = Path("/sys/fs/cgroup")
_PROC_CGROUP = Path("/proc/self/cgroup")


def usable_cpus(cgroup_root: Path = _CGROUP_ROOT, proc_cgroup: Path = _PROC_CGROUP) -> int:
    """The affinity mask's size, capped by the tightest CPU quota on our cgroup path; at least 1."""
    count = len(os.sched_getaffinity(0))
    quota = _cgroup_quota(cgroup_root, proc_cgroup)
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)


def _cgroup_quota(root: Path, proc_cgroup: Path) -> float | None:
    """The smallest quota (in CPUs) set on our cgroup or any ancestor, v2 or v1; None when unlimited."""
    try:
        lines = proc_cgroup.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    quotas: list[float] = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            quotas += _along(root, path, _v2_quota)
        elif "cpu" in controllers.split(","):
            for mount in (root / controllers, root / "cpu", root / "cpu,cpuacct"):
                quotas += _along(mount, path, _v1_quota)
    return min(quotas, default=None)


def _along(mount: Path, path: str, read: Callable[[Path], float | None]) -> list[float]:
    """The quota read at our cgroup's folder and at each folder above it, up to the mount point."""
    parts = [part for part in path.split("/") if part]
    folders = [mount.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]
    return [quota for quota in map(read, folders) if quota is not None]


def _v2_quota(folder: Path) -> float | None:
    """``cpu.max``: "QUOTA PERIOD" in microseconds, or "max PERIOD"."""
    try:
        quota, period = (folder / "cpu.max").read_text(encoding="ascii").split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _v1_quota(folder: Path) -> float | None:
    """``cpu.cfs_quota_us`` (-1 when unlimited) over ``cpu.cfs_period_us``."""
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text(encoding="ascii"))
        period = int((folder / "cpu.cfs_period_us").read_text(encoding="ascii"))
        return None if quota <= 0 else quota / period
    except (OSError, ValueError, ZeroDivisionError):
        return None
