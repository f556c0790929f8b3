"""Drift decisions that stay quiet at large n.

A statistic drifts only when all three hold:
  1. its effect size reaches the threshold (a size that matters, whatever n is);
  2. it is significant where a test applies: p-value (BH-adjusted across the family of
     features x slices when the caller passes ``p_adjusted``) <= alpha;
  3. both samples are large enough: effective sizes n_eff >= min_n.
At n = 1,000,000 every p-value is tiny, so (1) keeps tiny, harmless shifts quiet; at n = 50 a
large effect size is mostly noise, so (2) and (3) keep it quiet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from analysis.drift.registry import StatResult
from analysis.stats.rule import DEFAULT_ALPHA, DEFAULT_MIN_N, DecisionRule

__all__ = ["DEFAULT_ALPHA", "DEFAULT_MIN_N", "Decision", "DecisionRule", "DecisionStatus", "decide"]


class DecisionStatus(str, Enum):
    drift = "drift"
    no_drift = "no_drift"
    insufficient_data = "insufficient_data"  # not computable, or n_eff < min_n
    not_evaluated = "not_evaluated"  # no threshold: the statistic is informational


@dataclass(frozen=True)
class Decision:
    statistic: str
    status: DecisionStatus
    effect_size: float
    threshold: float | None
    p_value: float | None
    p_adjusted: float | None
    alpha: float
    n_eff: float  # the smaller of the two samples' effective sizes
    min_n: float
    reason: str

    @property
    def drift(self) -> bool:
        return self.status is DecisionStatus.drift


def decide(result: StatResult, rule: DecisionRule, p_adjusted: float | None = None) -> Decision:
    """Decision for one statistic (see module docstring). ``p_adjusted`` is the BH-adjusted
    p-value of this result within its family; without it the raw p-value is used."""
    n_eff = min(result.n_eff_reference, result.n_eff_current)
    p = result.p_value if p_adjusted is None else p_adjusted

    def made(status: DecisionStatus, reason: str) -> Decision:
        return Decision(result.name, status, result.effect_size, rule.threshold, result.p_value,
                        p_adjusted, rule.alpha, n_eff, rule.min_n, reason)

    if not result.ok or math.isnan(result.effect_size):
        return made(DecisionStatus.insufficient_data, str(result.details.get("reason", "not computable")))
    if n_eff < rule.min_n:
        return made(DecisionStatus.insufficient_data, f"n_eff {n_eff:.0f} < min_n {rule.min_n:g}")
    if rule.threshold is None:
        return made(DecisionStatus.not_evaluated, "no threshold set")
    big = result.effect_size >= rule.threshold
    size = f"{result.name} {result.effect_size:.4g} {'>=' if big else '<'} {rule.threshold:g}"
    if p is None:  # no test goes with this statistic: the effect size and min_n decide
        return made(DecisionStatus.drift if big else DecisionStatus.no_drift, f"{size}, no test")
    significant = p <= rule.alpha
    label = "p_adj" if p_adjusted is not None else "p"
    test = f"{label} {p:.3g} {'<=' if significant else '>'} {rule.alpha:g}"
    status = DecisionStatus.drift if big and significant else DecisionStatus.no_drift
    return made(status, f"{size}, {test}")
