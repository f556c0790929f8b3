"""Sample weights: validation and the effective sample size.

Every row carries a weight (1 / sampling rate, see DESIGN.md "SDK"); a statistic that counts rows
counts weights, and a statistic that needs a sample size for its p-value or interval uses Kish's
effective sample size, so that a few heavy rows do not pass for many observations.
"""

from __future__ import annotations

import numpy as np


class InvalidWeightsError(ValueError):
    """Weights that are not a finite, non-negative vector of the data's length."""


def check_weights(weights: np.ndarray | None, n: int) -> np.ndarray | None:
    """Return ``weights`` as a float64 vector of length ``n``, or None for unit weights.

    Raises InvalidWeightsError for a wrong length, a negative, NaN or infinite weight.
    """
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != n:
        raise InvalidWeightsError(f"weights have length {w.shape[0]}, the data has {n} rows")
    if n and not (np.isfinite(w).all() and w.min() >= 0.0):
        bad = w[~(np.isfinite(w) & (w >= 0.0))][0]
        raise InvalidWeightsError(f"weights must be finite and >= 0, got {bad!r}")
    return w


def effective_sample_size(sum_w: float, sum_w2: float) -> float:
    """Kish's effective sample size n_eff = (sum w)^2 / sum w^2 (0 when there is no weight).

    Equals the row count when all weights are equal.
    """
    if sum_w2 <= 0.0:
        return 0.0
    return float(sum_w * sum_w / sum_w2)
