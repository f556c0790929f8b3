"""The exact-data path: KS and Wasserstein-1 from raw reference and window values.

For when the raw reference is at hand (tests, backfills, small references): sorts both samples,
so it costs O(n log n) per call, where the profile path (distance.py) costs one pass and no
sort. Results carry the same names and conventions as the registered statistics, with
``details["exact"] = True``; missing (non-finite) values are dropped, as there.
"""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np

from analysis.drift.distance import ks_p_value
from analysis.drift.registry import StatResult, Status, insufficient
from analysis.stats.weights import check_weights, effective_sample_size


def _clean(values: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    w = check_weights(weights, x.shape[0])
    keep = np.isfinite(x)
    w = np.ones(int(keep.sum())) if w is None else w[keep]
    x = x[keep]
    order = np.argsort(x, kind="stable")
    return x[order], w[order]


def _ecdf(x: np.ndarray, w: np.ndarray, at: np.ndarray) -> np.ndarray:
    cum = np.concatenate(([0.0], np.cumsum(w)))
    return cum[np.searchsorted(x, at, side="right")] / cum[-1]


def _prepare(name: str, reference: np.ndarray, current: np.ndarray, w_ref: np.ndarray | None,
             w_cur: np.ndarray | None) -> tuple[StatResult | None, tuple]:
    xr, wr = _clean(reference, w_ref)
    xc, wc = _clean(current, w_cur)
    n_eff_r = effective_sample_size(float(wr.sum()), float(np.dot(wr, wr)))
    n_eff_c = effective_sample_size(float(wc.sum()), float(np.dot(wc, wc)))
    sizes = dict(n_reference=int(xr.shape[0]), n_current=int(xc.shape[0]),
                 n_eff_reference=n_eff_r, n_eff_current=n_eff_c)
    if wr.sum() <= 0:
        return insufficient(name, "numeric", "reference has no non-missing value", **sizes), ()
    if wc.sum() <= 0:
        return insufficient(name, "numeric", "window has no non-missing value", **sizes), ()
    return None, (xr, wr, xc, wc, sizes)


def ks_exact(reference: np.ndarray, current: np.ndarray, reference_weights: np.ndarray | None = None,
             current_weights: np.ndarray | None = None) -> StatResult:
    """Weighted two-sample KS: ``D = max over all sample points of |F_ref - F_cur|`` with
    weighted ECDFs; equals scipy.stats.ks_2samp(method="asymp") without weights."""
    bad, data = _prepare("ks", reference, current, reference_weights, current_weights)
    if bad is not None:
        return bad
    xr, wr, xc, wc, sizes = data
    at = np.concatenate((xr, xc))
    d = float(np.max(np.abs(_ecdf(xr, wr, at) - _ecdf(xc, wc, at))))
    p = ks_p_value(d, sizes["n_eff_reference"], sizes["n_eff_current"])
    return StatResult("ks", "numeric", d, d, p, Status.ok, **sizes, details=MappingProxyType({"exact": True}))


def wasserstein_1_exact(xr: np.ndarray, wr: np.ndarray, xc: np.ndarray, wc: np.ndarray) -> float:
    """``integral |F_ref - F_cur| dx`` over the merged sorted support (as scipy's
    wasserstein_distance with u_weights / v_weights)."""
    points = np.sort(np.concatenate((xr, xc)))
    deltas = np.diff(points)
    return float(np.sum(np.abs(_ecdf(xr, wr, points[:-1]) - _ecdf(xc, wc, points[:-1])) * deltas))


def wasserstein_exact(reference: np.ndarray, current: np.ndarray, reference_weights: np.ndarray | None = None,
                      current_weights: np.ndarray | None = None, *, normalised: bool = False) -> StatResult:
    """Wasserstein-1 from raw values; with ``normalised`` divided by the reference's weighted
    population standard deviation (0 / +inf for a constant reference, as the profile path)."""
    name = "wasserstein_norm" if normalised else "wasserstein"
    bad, data = _prepare(name, reference, current, reference_weights, current_weights)
    if bad is not None:
        return bad
    xr, wr, xc, wc, sizes = data
    w1 = wasserstein_1_exact(xr, wr, xc, wc)
    std = math.sqrt(float(np.average((xr - np.average(xr, weights=wr)) ** 2, weights=wr)))
    value = w1
    if normalised:
        value = w1 / std if std > 0 else (0.0 if w1 == 0 else math.inf)
    d = float(np.max(np.abs(_ecdf(xr, wr, np.concatenate((xr, xc))) - _ecdf(xc, wc, np.concatenate((xr, xc))))))
    p = ks_p_value(d, sizes["n_eff_reference"], sizes["n_eff_current"])
    return StatResult(name, "numeric", value, value, p, Status.ok, **sizes,
                      details=MappingProxyType({"exact": True, "wasserstein": w1, "reference_std": std}))
