"""The candidate's would-be quality SLO burn on the traffic it replayed, beside production's.

Counted as modelwatch counts the quality SLO (store/slo_reads.py, docs/slo.md): over labelled
rows with an output, weighted by the sampling weight; a row is bad when its label differs from
the prediction, or, with a tolerance, when ``|label - value| > tolerance``. The burn is
``error ratio / (1 - objective)`` (analysis.slo.burn). As in the SLO, a row without an output
is not judged here (it counts against availability): the caller passes rows where both sides
have one, so both burns are over the same events.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from analysis.slo.burn import burn_rate, error_ratio
from config.slo import SloSpec

__all__ = ["WouldBeBurn", "quality_bad", "would_be_burn"]


@dataclass(frozen=True)
class WouldBeBurn:
    slo: str
    objective: float
    events: float  # weighted labelled rows
    bad_production: float
    bad_candidate: float
    burn_production: float
    burn_candidate: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in asdict(self).items()}


def quality_bad(spec: SloSpec, regression: bool, true_label: np.ndarray, true_value: np.ndarray,
                label: np.ndarray, value: np.ndarray) -> np.ndarray | None:
    """Per row: the output is wrong under ``spec``; None for a regressor's SLO without a
    tolerance (the SLO would compare the value's text with the label's: not a useful count)."""
    if spec.tolerance is not None:
        return ~(np.abs(true_value - value) <= spec.tolerance)
    if regression:
        return None
    return np.array([t != p for t, p in zip(true_label.tolist(), label.tolist())], dtype=bool)


def would_be_burn(spec: SloSpec, weight: np.ndarray, bad_production: np.ndarray, bad_candidate: np.ndarray) -> WouldBeBurn:
    """Weighted bad ratios of both over the same labelled rows, as burn rates of ``spec``."""
    total = float(weight.sum())
    prod = float(weight[bad_production].sum())
    cand = float(weight[bad_candidate].sum())
    return WouldBeBurn(spec.name, spec.objective, total, prod, cand,
                       burn_rate(error_ratio(prod, total), spec.objective),
                       burn_rate(error_ratio(cand, total), spec.objective))
