"""Per-minute SLI counts for one SLO, built from the stored counters of each SLO kind.

Every kind reduces to the same shape: per minute, ``total`` events and ``bad`` events (plus, for
quality, the ``expected`` predictions that could be labelled, for label coverage). Counts, never
ratios, so any window's ratio is ``sum(bad) / sum(total)``: traffic weighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SliCounts",
    "availability_counts",
    "drift_free_counts",
    "label_freshness_counts",
    "latency_counts",
    "quality_counts",
    "timeslice_counts",
]

ArrayLike = Sequence[float] | np.ndarray


def _vector(name: str, values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one count per minute, got shape {array.shape}")
    if array.size and (not np.all(np.isfinite(array)) or array.min() < 0):
        raise ValueError(f"{name} must be finite, non-negative counts")
    return array


@dataclass(frozen=True, eq=False)
class SliCounts:
    """Per-minute counts: index ``i`` is epoch minute ``start_minute + i``.

    ``expected`` (quality SLOs only) counts predictions that could get a label; label coverage
    of a window is ``sum(total) / sum(expected)``.
    """

    total: np.ndarray
    bad: np.ndarray
    expected: np.ndarray | None = None
    start_minute: int = 0

    def __post_init__(self) -> None:
        total, bad = _vector("total", self.total), _vector("bad", self.bad)
        if total.shape != bad.shape:
            raise ValueError(f"total and bad differ in length: {total.size} vs {bad.size}")
        if np.any(bad > total):
            first = int(np.argmax(bad > total))
            raise ValueError(f"bad > total at minute index {first}: {bad[first]} > {total[first]}")
        object.__setattr__(self, "total", total)
        object.__setattr__(self, "bad", bad)
        if self.expected is not None:
            expected = _vector("expected", self.expected)
            if expected.shape != total.shape:
                raise ValueError(f"expected and total differ in length: {expected.size} vs {total.size}")
            object.__setattr__(self, "expected", expected)

    def __len__(self) -> int:
        return int(self.total.size)

    @classmethod
    def from_good_bad(cls, good: ArrayLike, bad: ArrayLike, start_minute: int = 0) -> SliCounts:
        """Counts from (good, bad) per minute: ``total = good + bad``."""
        good_arr, bad_arr = _vector("good", good), _vector("bad", bad)
        return cls(total=good_arr + bad_arr, bad=bad_arr, start_minute=start_minute)

    @classmethod
    def from_total_bad(cls, total: ArrayLike, bad: ArrayLike, start_minute: int = 0) -> SliCounts:
        """Counts from (total, bad) per minute."""
        return cls(total=_vector("total", total), bad=_vector("bad", bad), start_minute=start_minute)


def availability_counts(requests: ArrayLike, errors: ArrayLike, start_minute: int = 0) -> SliCounts:
    """Availability: every request is an event, an error is bad (the SDK's exact counters)."""
    return SliCounts.from_total_bad(requests, errors, start_minute)


def latency_counts(buckets: np.ndarray | Sequence[Sequence[float]], threshold_bucket: int, start_minute: int = 0) -> SliCounts:
    """Latency: rows are minutes, columns the non-cumulative histogram buckets (``len(bounds)+1``).

    Good = requests in buckets ``0..threshold_bucket`` (latency <= threshold, Prometheus ``le``);
    bad = the rest, including the overflow bucket. Errors are not in the histogram: the latency
    SLI is over successful requests, errors count against availability.
    """
    matrix = np.asarray(buckets, dtype=np.float64)
    if matrix.ndim != 2 or not 0 <= threshold_bucket < matrix.shape[1] - 1:
        raise ValueError(f"need a minutes x buckets matrix and a bucket below the overflow, got {matrix.shape}, {threshold_bucket}")
    total = matrix.sum(axis=1)
    return SliCounts.from_total_bad(total, matrix[:, threshold_bucket + 1 :].sum(axis=1), start_minute)


def quality_counts(predictions: ArrayLike, labelled: ArrayLike, incorrect: ArrayLike, start_minute: int = 0) -> SliCounts:
    """Quality, by prediction minute: labelled predictions are events, wrong ones are bad.

    "Wrong" is a class mismatch, or ``|error| > tolerance`` for regression; counts for a past
    minute grow as its labels arrive, and coverage = labelled / predictions says how far.
    """
    expected = _vector("predictions", predictions)
    counts = SliCounts(total=_vector("labelled", labelled), bad=_vector("incorrect", incorrect), expected=expected, start_minute=start_minute)
    if np.any(counts.total > expected):
        raise ValueError("labelled exceeds predictions in some minute")
    return counts


def label_freshness_counts(labels: ArrayLike, late: ArrayLike, start_minute: int = 0) -> SliCounts:
    """Label freshness: each arrived label is an event, one later than ``max_lag`` is bad."""
    return SliCounts.from_total_bad(labels, late, start_minute)


def drift_free_counts(window_end_indexes: Sequence[int], drifted: Sequence[bool], n_minutes: int, start_minute: int = 0) -> SliCounts:
    """Drift-free windows: each analysis window is one event at the minute it ended; drift is bad."""
    if len(window_end_indexes) != len(drifted):
        raise ValueError("one drifted flag per window end is needed")
    total, bad = np.zeros(n_minutes), np.zeros(n_minutes)
    for index, is_drift in zip(window_end_indexes, drifted):
        if not 0 <= index < n_minutes:
            raise ValueError(f"window end index {index} is outside 0..{n_minutes - 1}")
        total[index] += 1
        bad[index] += bool(is_drift)
    return SliCounts(total=total, bad=bad, start_minute=start_minute)


def timeslice_counts(counts: SliCounts, slice_minutes: int, slice_objective: float) -> SliCounts:
    """Time-slice budgeting: each completed slice with events is one event, bad when its good
    ratio ``1 - bad/total`` is below ``slice_objective``; slices without events do not count.

    Slices are aligned to epoch minutes (``minute // slice_minutes``) and the slice's event sits at
    its last minute, so windows over the result count whole slices only.
    """
    if slice_minutes < 1:
        raise ValueError(f"slice_minutes must be >= 1, got {slice_minutes}")
    n = len(counts)
    minutes = counts.start_minute + np.arange(n)
    slice_ids = minutes // slice_minutes
    total, bad = np.zeros(n), np.zeros(n)
    if n == 0:
        return SliCounts(total=total, bad=bad, start_minute=counts.start_minute)
    # Sums per slice id, then one event at each complete slice's last minute.
    _, first = np.unique(slice_ids, return_index=True)
    slice_total = np.add.reduceat(counts.total, first)
    slice_bad = np.add.reduceat(counts.bad, first)
    last = np.append(first[1:], n) - 1
    complete = (minutes[last] + 1) % slice_minutes == 0
    has_events = slice_total > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        good_ratio = 1.0 - slice_bad / slice_total
    # Compare with a small tolerance so a slice exactly at the objective is good despite rounding.
    is_bad = good_ratio < slice_objective - 1e-12
    keep = complete & has_events
    total[last[keep]] = 1.0
    bad[last[keep & is_bad]] = 1.0
    return SliCounts(total=total, bad=bad, start_minute=counts.start_minute)
