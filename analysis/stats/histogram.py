"""Latency percentiles from histogram bucket counts (pure), as Prometheus' histogram_quantile.

The counters store how many requests fell in each latency bucket; a percentile is found by
locating the bucket holding rank q * total and interpolating linearly inside it. The first
bucket starts at 0 ms; a rank in the open +Inf bucket answers the largest finite bound (the
true value is only known to be above it), as Prometheus does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["histogram_quantile"]


def histogram_quantile(q: float, bounds_ms: Sequence[float], counts: np.ndarray) -> np.ndarray:
    """The ``q``-quantile (0 < q < 1) of each row of ``counts`` (non-cumulative counts per
    bucket, ``len(bounds_ms) + 1`` columns, +Inf last); NaN for a row without requests.
    A 1-D ``counts`` gives a 0-d array. Raises ValueError for q outside (0, 1) or a shape mismatch.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q}")
    matrix = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    upper = np.asarray(bounds_ms, dtype=np.float64)
    if upper.shape[0] == 0:
        raise ValueError("a histogram needs at least one finite bound")
    if matrix.shape[1] != upper.shape[0] + 1:
        raise ValueError(f"{matrix.shape[1]} bucket columns for {upper.shape[0]} bounds (+Inf makes {upper.shape[0] + 1})")
    cumulative = np.cumsum(matrix, axis=1)
    total = cumulative[:, -1]
    rank = q * total
    # first bucket whose cumulative count reaches the rank
    index = np.minimum((cumulative < rank[:, None]).sum(axis=1), upper.shape[0])
    rows = np.arange(matrix.shape[0])
    lower = np.concatenate(([0.0], upper))[index]
    below = np.where(index > 0, cumulative[rows, np.maximum(index - 1, 0)], 0.0)
    inside = matrix[rows, index]
    finite = index < upper.shape[0]
    top = np.where(finite, upper[np.minimum(index, upper.shape[0] - 1)], lower)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(inside > 0, (rank - below) / inside, 1.0)
    value = np.where(finite, lower + (top - lower) * fraction, lower)
    value = np.where(total > 0, value, np.nan)
    return value.reshape(()) if np.ndim(counts) == 1 else value


def coarsen(bounds_ms: Sequence[float], counts: np.ndarray, onto: Sequence[float]) -> np.ndarray:
    """The same histogram on the coarser bounds ``onto`` (each a bound of ``bounds_ms``): a
    coarse bucket sums the fine buckets inside it, exactly. Two histograms on different bounds
    compare on the bounds they share. Raises ValueError for a bound of ``onto`` not in
    ``bounds_ms`` or a shape mismatch."""
    fine = [float(b) for b in bounds_ms]
    values = np.asarray(counts, dtype=np.float64).reshape(-1)
    if values.shape[0] != len(fine) + 1:
        raise ValueError(f"{values.shape[0]} bucket counts for {len(fine)} bounds (+Inf makes {len(fine) + 1})")
    missing = [b for b in onto if float(b) not in fine]
    if missing:
        raise ValueError(f"bounds {missing} are not bucket bounds of the histogram")
    # coarse bucket of each fine bucket: how many coarse bounds lie below its upper bound
    coarse = np.searchsorted(np.asarray(sorted(float(b) for b in onto)), np.asarray(fine + [np.inf]), side="left")
    return np.bincount(coarse, weights=values, minlength=len(onto) + 1)
