"""The Mann-Whitney U test on grouped data: two histograms over the same ordered buckets.

Latency arrives as bucket counts (the SDK's histograms), never as raw values; every request in a
bucket ties with every other in it. The rank-sum statistic of grouped data is exact for that:
each bucket's requests share its mid-rank, and the tie-corrected normal approximation is what
``scipy.stats.mannwhitneyu(method="asymptotic")`` computes on the expanded values -- without
expanding millions of requests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from analysis.stats.plain import plain

__all__ = ["RankTest", "mann_whitney_grouped"]


@dataclass(frozen=True)
class RankTest:
    """``superiority``: P(B > A) + P(B = A) / 2 for a random request of each group (0.5: no
    shift; above 0.5: B tends to the higher buckets). ``u``: Mann-Whitney U of group B."""

    n_a: float
    n_b: float
    u: float
    superiority: float
    z: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


def mann_whitney_grouped(counts_a: np.ndarray, counts_b: np.ndarray, continuity: bool = True) -> RankTest:
    """Two-sided Mann-Whitney U test of groups A and B given as counts per ordered bucket.

    With t_j = a_j + b_j requests in bucket j and N = n_a + n_b, bucket j's mid-rank is
    ``r_j = sum_{i<j} t_i + (t_j + 1) / 2``; ``U_B = sum_j b_j r_j - n_b (n_b + 1) / 2``;
    ``var U = n_a n_b / 12 * (N + 1 - sum_j (t_j^3 - t_j) / (N (N - 1)))``;
    ``z = (|U_B - n_a n_b / 2| - 0.5) / sqrt(var U)`` (without the 0.5 when ``continuity`` is
    false) and ``p = 2 P(Z > z)``. Every request in one bucket (no variance): p = 1. An empty
    group: NaN. Raises ValueError for shapes that differ or negative counts."""
    a = np.asarray(counts_a, dtype=np.float64).reshape(-1)
    b = np.asarray(counts_b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"histograms have {a.shape[0]} and {b.shape[0]} buckets")
    if np.any(a < 0) or np.any(b < 0):
        raise ValueError("bucket counts must be >= 0")
    n_a, n_b = float(a.sum()), float(b.sum())
    if n_a <= 0 or n_b <= 0:
        return RankTest(n_a, n_b, math.nan, math.nan, math.nan, math.nan)
    t = a + b
    n = n_a + n_b
    ranks = np.cumsum(t) - t + (t + 1.0) / 2.0
    u = float(np.dot(b, ranks)) - n_b * (n_b + 1.0) / 2.0
    superiority = u / (n_a * n_b)
    variance = n_a * n_b / 12.0 * (n + 1.0 - float(np.sum(t ** 3 - t)) / (n * (n - 1.0)))
    if variance <= 0:
        return RankTest(n_a, n_b, u, superiority, 0.0, 1.0)
    shift = abs(u - n_a * n_b / 2.0) - (0.5 if continuity else 0.0)
    z = math.copysign(max(shift, 0.0), u - n_a * n_b / 2.0) / math.sqrt(variance)
    return RankTest(n_a, n_b, u, superiority, z, float(min(1.0, 2.0 * stats.norm.sf(abs(z)))))
