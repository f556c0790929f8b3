"""Load and fault tests: real processes on loopback only, bounded in time (the soak sends 3
minutes of traffic, MODELWATCH_SOAK_S overrides; the others well under 90 s), marked ``slow``
but run by default."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def paced(rate_per_s: float, seconds: float, step: Callable[[int], None], tick: float = 0.02) -> int:
    """Call ``step(i)`` ``rate_per_s`` times a second for ``seconds``, catching up after a slow
    tick (the load is a rate, not a best effort); returns how many calls were made."""
    start = time.monotonic()
    done = 0
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            return done
        due = int(elapsed * rate_per_s)
        while done < due:
            step(done)
            done += 1
        time.sleep(tick)
