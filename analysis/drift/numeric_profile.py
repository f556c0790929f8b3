"""Numeric column summaries: a weighted histogram on a reference quantile grid, plus moments.

A reference profile and a window summary have the same shape: the window is binned on the
reference's grid, so window summaries add up (hour + hour = day, exactly), and every statistic
is a function of two summaries. The grid is a quantile sketch of the reference: ``sketch_size``
+ 1 quantiles (levels 0, 1/k, ..., 1; method ``inverted_cdf``, so grid points are data values,
min and max included), deduplicated. Cells are right-closed: cell 0 = (-inf, g_0], cell i =
(g_{i-1}, g_i], cell G = (g_{G-1}, +inf). The coarse (PSI) bins are ``bins`` quantile bins whose
edges are grid points, so they are unions of cells. Per cell we keep the weight and the weighted
sum of (x - shift) (shift = the grid's middle point, so sums of offset data keep their digits),
which makes Wasserstein-1 exact unless the two CDFs cross inside a cell (docs/statistics.md).
Non-finite values (NaN, +-inf) are missing: they go to the missing bin, nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from analysis.drift.grid import GridLocator
from analysis.stats.weights import check_weights, effective_sample_size

DEFAULT_BINS = 10
DEFAULT_SKETCH_SIZE = 200


class GridMismatchError(ValueError):
    """Two numeric summaries on different grids cannot be merged or compared."""


@dataclass(frozen=True, eq=False)
class NumericSummary:
    kind: ClassVar[str] = "numeric"

    grid: np.ndarray  # G sorted distinct reference values
    edges: np.ndarray  # positions in grid of the coarse bin edges, ascending
    counts: np.ndarray  # G + 1 cell weights
    sums: np.ndarray  # G + 1 cell sums of w * (x - shift)
    missing: float  # weight of missing (non-finite) rows
    rows: int
    rows_missing: int
    sum_w2: float  # over non-missing rows
    sum_w2_missing: float
    m2: float  # sum of w * (x - mean)^2 over non-missing rows
    min: float
    max: float

    # -- derived ---------------------------------------------------------------------------
    @cached_property
    def locator(self) -> GridLocator:
        return GridLocator(self.grid)

    @property
    def shift(self) -> float:
        return float(self.grid[self.grid.shape[0] // 2]) if self.grid.shape[0] else 0.0

    @cached_property
    def total(self) -> float:
        """Weight of non-missing rows."""
        return float(self.counts.sum())

    @property
    def rows_present(self) -> int:
        return self.rows - self.rows_missing

    @property
    def mean(self) -> float:
        return self.shift + float(self.sums.sum()) / self.total if self.total > 0 else math.nan

    @property
    def std(self) -> float:
        """Weighted population standard deviation sqrt(sum w (x - mean)^2 / sum w)."""
        return math.sqrt(max(self.m2, 0.0) / self.total) if self.total > 0 else math.nan

    @property
    def n_eff(self) -> float:
        """Effective size of the non-missing rows."""
        return effective_sample_size(self.total, self.sum_w2)

    @property
    def n_eff_all(self) -> float:
        """Effective size of all rows, missing included (the binned statistics use the NaN bin)."""
        return effective_sample_size(self.total + self.missing, self.sum_w2 + self.sum_w2_missing)

    @property
    def missing_rate(self) -> float:
        w = self.total + self.missing
        return self.missing / w if w > 0 else math.nan

    @cached_property
    def bin_counts(self) -> np.ndarray:
        """Weights of the coarse bins, then the missing bin (length len(edges) + 2)."""
        starts = np.concatenate(([0], self.edges + 1)).astype(np.intp)
        return np.append(np.add.reduceat(self.counts, starts), self.missing)

    def bin_labels(self) -> list[str]:
        """Human labels of ``bin_counts``: right-closed intervals, open outer bins, then NaN."""
        e = [f"{self.grid[i]:.6g}" for i in self.edges]
        lows, highs = ["-inf", *e], [*e, "+inf"]
        return [f"({lo}, {hi}]" if hi != "+inf" else f"({lo}, +inf)" for lo, hi in zip(lows, highs)] + ["missing"]

    # -- building --------------------------------------------------------------------------
    def summarise(self, values: np.ndarray, weights: np.ndarray | None = None) -> NumericSummary:
        """Summary of ``values`` (one window) on this summary's grid and bins.

        Touches each value a few times with no sort: locate (guide table), two bincounts,
        min/max and one dot product. Raises InvalidWeightsError for bad weights.
        """
        x = np.asarray(values, dtype=np.float64).reshape(-1)
        w = check_weights(weights, x.shape[0])
        finite = np.isfinite(x)
        rows_missing = x.shape[0] - int(np.count_nonzero(finite))
        missing = sum_w2_missing = 0.0
        if rows_missing:
            if w is None:
                missing = sum_w2_missing = float(rows_missing)
            else:
                wm = w[~finite]
                missing, sum_w2_missing = float(wm.sum()), float(np.einsum("i,i->", wm, wm))
                w = w[finite]
            x = x[finite]
        size = self.grid.shape[0] + 1
        if x.shape[0] == 0:
            return self._replace_counts(np.zeros(size), np.zeros(size), missing, rows_missing,
                                        rows_missing, 0.0, sum_w2_missing, 0.0, math.nan, math.nan)
        idx = self.locator.locate(x)
        d = np.subtract(x, self.shift)
        counts = np.bincount(idx, weights=w, minlength=size).astype(np.float64, copy=False)
        sums = np.bincount(idx, weights=d if w is None else w * d, minlength=size)
        del idx
        total = float(counts.sum())
        mean_d = float(sums.sum()) / total if total > 0 else 0.0
        # M2 about the mean from the shifted second moment (the shift keeps cancellation small);
        # einsum, not np.dot: a multithreaded BLAS call stalls on a busy 2-core machine
        second = np.einsum("i,i->", d, d) if w is None else np.einsum("i,i,i->", w, d, d)
        m2 = max(float(second) - total * mean_d * mean_d, 0.0)
        sum_w2 = float(x.shape[0]) if w is None else float(np.einsum("i,i->", w, w))
        return self._replace_counts(counts, sums, missing, x.shape[0] + rows_missing, rows_missing,
                                    sum_w2, sum_w2_missing, m2, float(x.min()), float(x.max()))

    def _replace_counts(self, counts: np.ndarray, sums: np.ndarray, missing: float, rows: int,
                        rows_missing: int, sum_w2: float, sum_w2_missing: float, m2: float,
                        lo: float, hi: float) -> NumericSummary:
        out = NumericSummary(self.grid, self.edges, counts, sums, missing, rows, rows_missing,
                             sum_w2, sum_w2_missing, m2, lo, hi)
        out.__dict__["locator"] = self.locator  # share the guide table; it only depends on the grid
        return out

    def merge(self, other: NumericSummary) -> NumericSummary:
        """Sum of two summaries on the same grid: counts, sums and weights add exactly; the
        moments combine with Chan et al.'s pairwise formula (exact up to rounding).

        Raises GridMismatchError when the grids differ.
        """
        self.check_same_bins(other)
        total = self.total + other.total
        if self.total == 0 or other.total == 0:
            m2 = self.m2 + other.m2
        else:
            delta = other.mean - self.mean
            m2 = self.m2 + other.m2 + delta * delta * self.total * other.total / total
        return self._replace_counts(
            self.counts + other.counts, self.sums + other.sums, self.missing + other.missing,
            self.rows + other.rows, self.rows_missing + other.rows_missing,
            self.sum_w2 + other.sum_w2, self.sum_w2_missing + other.sum_w2_missing, m2,
            float(np.fmin(self.min, other.min)), float(np.fmax(self.max, other.max)))

    def check_same_bins(self, other: NumericSummary) -> None:
        if self.grid is other.grid and self.edges is other.edges:
            return
        if not (np.array_equal(self.grid, other.grid) and np.array_equal(self.edges, other.edges)):
            raise GridMismatchError("numeric summaries were binned on different reference grids")

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return v if math.isfinite(v) else None
        return {
            "kind": "numeric", "grid": self.grid.tolist(), "edges": self.edges.tolist(),
            "counts": self.counts.tolist(), "sums": self.sums.tolist(), "missing": self.missing,
            "rows": self.rows, "rows_missing": self.rows_missing, "sum_w2": self.sum_w2,
            "sum_w2_missing": self.sum_w2_missing, "m2": self.m2,
            "min": num(self.min), "max": num(self.max),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericSummary:
        def arr(key: str, dtype: type = np.float64) -> np.ndarray:
            return np.asarray(data[key], dtype=dtype)
        return cls(arr("grid"), arr("edges", np.intp), arr("counts"), arr("sums"),
                   float(data["missing"]), int(data["rows"]), int(data["rows_missing"]),
                   float(data["sum_w2"]), float(data["sum_w2_missing"]), float(data["m2"]),
                   math.nan if data["min"] is None else float(data["min"]),
                   math.nan if data["max"] is None else float(data["max"]))


def fit_numeric(
    values: np.ndarray, weights: np.ndarray | None = None, *,
    bins: int = DEFAULT_BINS, sketch_size: int = DEFAULT_SKETCH_SIZE,
) -> NumericSummary:
    """Reference summary of one numeric column: quantile grid, quantile bins, counts.

    ``bins`` coarse bins at the reference quantiles k/bins (deduplicated: heavy ties give fewer,
    wider bins, e.g. a column that is 60% zeros gets one bin (-inf, 0]); outer bins are open.
    When the column has at most ``sketch_size`` + 1 distinct values the grid holds all of them
    (the exact-data case: KS is then exact, docs/statistics.md).
    Raises ValueError for bins < 1 or sketch_size < bins; InvalidWeightsError for bad weights.
    """
    if bins < 1 or sketch_size < bins:
        raise ValueError(f"need 1 <= bins <= sketch_size, got bins={bins}, sketch_size={sketch_size}")
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    w = check_weights(weights, x.shape[0])
    finite = np.isfinite(x)
    xf = x[finite]
    wf = None if w is None else w[finite]
    if wf is not None and xf.shape[0]:
        keep = wf > 0  # zero-weight rows must not place grid points
        xf, wf = xf[keep], wf[keep]
    if xf.shape[0] == 0:
        grid, edges = np.empty(0), np.empty(0, dtype=np.intp)
    else:
        distinct = np.unique(xf)
        if distinct.shape[0] <= sketch_size + 1:
            grid = distinct
        else:
            levels = np.arange(sketch_size + 1) / sketch_size
            grid = np.unique(np.quantile(xf, levels, method="inverted_cdf", weights=wf))
        cut = np.quantile(xf, np.arange(1, bins) / bins, method="inverted_cdf", weights=wf)
        grid = np.union1d(grid, cut)
        edges = np.searchsorted(grid, np.unique(cut)).astype(np.intp)
    empty = NumericSummary(grid, edges, np.zeros(grid.shape[0] + 1), np.zeros(grid.shape[0] + 1),
                           0.0, 0, 0, 0.0, 0.0, 0.0, math.nan, math.nan)
    return empty.summarise(x, w)
