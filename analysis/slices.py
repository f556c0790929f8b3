"""Worst-slice discovery: which slice values contribute most to a window's errors or drift.

Performance. A slice s with weight share ``share_s`` and weighted mean loss ``L_s`` (error
rate 1 - correct for classifiers, absolute error for regression) against the rest of the
window ``L_rest`` adds ``excess_s = share_s (L_s - L_rest)`` to the window's mean loss over
what it would be if the slice performed like the rest. The slice is *worst* when the one-sided
test of ``L_s > L_rest`` (z on the weighted means with Kish effective sizes, unpooled
variances) survives Benjamini-Hochberg across every slice value of every key at ``alpha``, and
both sides have ``min_n`` effective rows. Ranked by excess.

Drift. For a feature that drifts in the whole window, a slice contributes ``share_s x
effect_s`` when the slice's own decision for that feature is drift (those decisions already
went through BH across features x slices in the drift engine). Ranked by contribution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.drift.engine import WHOLE_WINDOW, DriftReport
from analysis.stats.fdr import benjamini_hochberg
from analysis.stats.weights import effective_sample_size


@dataclass(frozen=True)
class SliceExcess:
    key: str
    value: str
    share: float
    loss: float  # the slice's weighted mean loss
    rest_loss: float
    excess: float  # share x (loss - rest_loss)
    p_value: float | None
    p_adjusted: float | None
    n: int
    n_eff: float
    worst: bool


@dataclass(frozen=True)
class DriftContribution:
    feature: str
    segment: str  # "key=value"
    method: str
    share: float
    effect_size: float
    contribution: float  # share x effect_size


def _mean_var(loss: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    total = float(w.sum())
    if total <= 0:
        return math.nan, math.nan, 0.0
    mean = float(np.dot(w, loss) / total)
    var = float(np.dot(w, (loss - mean) ** 2) / total)
    return mean, var, effective_sample_size(total, float(np.dot(w, w)))


def loss_excess(loss: np.ndarray, weights: np.ndarray, segments: Sequence[tuple[str, str, np.ndarray]], *,
                alpha: float = 0.05, min_n: float = 30) -> tuple[SliceExcess, ...]:
    """Excess loss of each segment (key, value, row indices) over the rest, worst first.

    ``loss`` and ``weights`` are per row of the labeled window. Raises ValueError when their
    lengths differ."""
    loss = np.asarray(loss, np.float64)
    w = np.asarray(weights, np.float64)
    if loss.shape != w.shape:
        raise ValueError(f"loss has {loss.shape[0]} rows, weights {w.shape[0]}")
    total = float(w.sum())
    found: list[tuple[str, str, float, float, float, float | None, int, float]] = []
    for key, value, rows in segments:
        inside = np.zeros(loss.shape[0], bool)
        inside[rows] = True
        m_in, v_in, n_in = _mean_var(loss[inside], w[inside])
        m_out, v_out, n_out = _mean_var(loss[~inside], w[~inside])
        share = float(w[inside].sum()) / total if total > 0 else math.nan
        p: float | None = None
        if n_in >= max(min_n, 2) and n_out >= max(min_n, 2):
            se = math.sqrt(v_in / n_in + v_out / n_out)
            diff = m_in - m_out
            p = float(stats.norm.sf(diff / se)) if se > 0 else (0.0 if diff > 0 else 1.0)
        found.append((key, value, share, m_in, m_out, p, int(rows.shape[0]), n_in))
    tested = [i for i, f in enumerate(found) if f[5] is not None]
    adjusted: dict[int, float] = {}
    if tested:
        fdr = benjamini_hochberg([found[i][5] for i in tested], alpha)  # type: ignore[misc]
        adjusted = dict(zip(tested, fdr.adjusted.tolist()))
    out = []
    for i, (key, value, share, m_in, m_out, p, n, n_eff) in enumerate(found):
        excess = share * (m_in - m_out) if math.isfinite(m_in) and math.isfinite(m_out) else math.nan
        p_adj = adjusted.get(i)
        worst = p_adj is not None and p_adj <= alpha and excess > 0
        out.append(SliceExcess(key, value, share, m_in, m_out, excess, p, p_adj, n, n_eff, worst))
    return tuple(sorted(out, key=lambda s: -s.excess if math.isfinite(s.excess) else math.inf))


def drift_contributions(report: DriftReport, shares: Mapping[str, float]) -> tuple[DriftContribution, ...]:
    """For each feature drifting in the whole window, the drifting slices by share x effect size
    (``shares``: segment name -> weight share of the window), largest first."""
    drifted = {f.feature for f in report.features if f.segment == WHOLE_WINDOW and f.drift}
    out = [
        DriftContribution(f.feature, f.segment, f.method, shares[f.segment], f.decision.effect_size,
                          shares[f.segment] * f.decision.effect_size)
        for f in report.features
        if f.segment != WHOLE_WINDOW and f.feature in drifted and f.drift and f.segment in shares
    ]
    return tuple(sorted(out, key=lambda c: (c.feature, -c.contribution)))
