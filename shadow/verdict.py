"""Promote / hold / reject, with the reasons in words and numbers. Pure: a comparison in, a
verdict out. The rules (docs/shadow.md):

reject when any of
  - the candidate fails on more rows than production by over ``max_error_rate_increase``;
  - it is significantly less accurate (McNemar p < alpha, accuracy lower), or for a regressor
    its absolute errors are significantly larger (Wilcoxon p < alpha, MAE higher);
  - its p99 latency exceeds the model's latency SLO threshold (``latency_budget_ms``).
otherwise hold when any of
  - fewer than ``min_rows`` rows were replayed, or fewer than ``min_labels`` have labels;
  - replaying production's own ONNX agrees with logged production on less than
    ``min_noise_floor_agreement`` (the replay does not reproduce production: fix the mapping);
  - a slice is significantly worse (Benjamini-Hochberg q < alpha across slices);
  - its would-be quality SLO burn is above 1 while production's is not;
  - it is neither significantly better nor better on latency while non-inferior.
otherwise promote: significantly better, or non-inferior (the interval's worst end within
``non_inferiority`` of production) with a p99 latency at least ``latency_gain`` below the
production ONNX replayed on the same machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from analysis.stats.wording import ms, p_value, pct, pp, signed
from config.monitors import Model, Task
from config.slo import SloKind
from shadow.compare_slices import SliceComparison
from shadow.comparison import Comparison, NoiseFloor

__all__ = ["Verdict", "VerdictPolicy", "decide", "policy_for"]

Decision = Literal["promote", "hold", "reject"]


@dataclass(frozen=True)
class VerdictPolicy:
    alpha: float = 0.05
    min_rows: int = 200
    min_labels: int = 200
    non_inferiority: float = 0.01  # classifiers: accuracy lower bound >= -1 pp
    non_inferiority_mae: float = 0.02  # regressors: MAE upper bound <= +2 % of production's MAE
    max_error_rate_increase: float = 0.001
    min_noise_floor_agreement: float = 0.99
    latency_gain: float = 0.10
    latency_budget_ms: float | None = None


def policy_for(model: Model, **overrides: Any) -> VerdictPolicy:
    """The default policy, with the model's latency SLO threshold as the latency budget."""
    budgets = [s.threshold_ms for s in model.slos if s.kind is SloKind.latency and s.threshold_ms is not None]
    values: dict[str, Any] = {"latency_budget_ms": min(budgets) if budgets else None}
    values.update(overrides)
    return VerdictPolicy(**values)


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    summary: str  # the headline numbers in one line
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "summary": self.summary, "reasons": list(self.reasons)}


def _summary(c: Comparison, noise: NoiseFloor | None) -> str:
    parts = [f"agreement {pct(c.agreement.agreement)}" + (f" (noise floor {pct(noise.agreement)})" if noise else "")]
    if c.accuracy is not None and c.accuracy.n:
        a = c.accuracy
        parts.append(f"accuracy {pp(a.difference)} (95% CI {pp(a.lower)} to {pp(a.upper)}), {p_value(a.test.p_value)}, "
                     f"n = {a.n}")
    if c.abs_error is not None and c.abs_error.n:
        e = c.abs_error
        parts.append(f"MAE {signed(e.difference)} ({e.candidate_mae:.4g} vs {e.production_mae:.4g}), "
                     f"{p_value(e.p_value)}, n = {e.n}")
    baseline = (f"{ms(noise.latency.p99)} production ONNX" if noise and noise.latency.n
                else f"{ms(c.latency_production.p99)} logged")
    parts.append(f"p99 latency {ms(c.latency_candidate.p99)} vs {baseline}")
    parts.append(f"errors {pct(c.errors_candidate.rate)} vs {pct(c.errors_production.rate)}")
    return "; ".join(parts)


def _rejections(c: Comparison, policy: VerdictPolicy) -> list[str]:
    out = []
    cand, prod = c.errors_candidate, c.errors_production
    if cand.events and cand.rate - (prod.rate if math.isfinite(prod.rate) else 0.0) > policy.max_error_rate_increase:
        out.append(f"error rate {pct(cand.rate)} ({cand.events} of {cand.n}) vs production {pct(prod.rate)}: more than "
                   f"{pp(policy.max_error_rate_increase)} higher")
    a = c.accuracy
    if a is not None and a.n and a.difference < 0 and a.test.p_value < policy.alpha:
        out.append(f"significantly less accurate: {pp(a.difference)} ({pct(a.candidate)} vs {pct(a.production)}), "
                   f"McNemar {p_value(a.test.p_value)}, {a.test.b} vs {a.test.c} discordant pairs")
    e = c.abs_error
    if e is not None and e.n and e.difference > 0 and e.p_value < policy.alpha:
        out.append(f"significantly larger errors: MAE {e.candidate_mae:.4g} vs {e.production_mae:.4g}, "
                   f"Wilcoxon {p_value(e.p_value)}")
    budget = policy.latency_budget_ms
    if budget is not None and c.latency_candidate.n and c.latency_candidate.p99 > budget:
        out.append(f"p99 latency {ms(c.latency_candidate.p99)} is over the latency SLO threshold {ms(budget)}")
    return out


def _holds(c: Comparison, noise: NoiseFloor | None, slices: tuple[SliceComparison, ...], task: Task,
           policy: VerdictPolicy) -> list[str]:
    out = []
    if c.n < policy.min_rows:
        out.append(f"only {c.n} rows replayed (need {policy.min_rows})")
    if c.labelled < policy.min_labels:
        out.append(f"only {c.labelled} labelled rows (need {policy.min_labels}): accuracy not judged yet")
    if noise is not None and noise.n and noise.agreement < policy.min_noise_floor_agreement:
        out.append(f"replaying production's ONNX agrees with logged production on only {pct(noise.agreement)} "
                   f"(need {pct(policy.min_noise_floor_agreement)}): the replay does not reproduce production; check the mapping")
    worse = [s for s in slices if s.q_value < policy.alpha
             and (s.difference > 0 if task is Task.regression else s.difference < 0)]
    for s in worse[:3]:
        change = signed(s.difference) + " MAE" if task is Task.regression else pp(s.difference)
        out.append(f"significantly worse on slice {s.key}={s.value}: {change}, q = {s.q_value:.3f} (n = {s.labelled})")
    for b in c.burns:
        if b.burn_candidate > 1.0 >= b.burn_production:
            out.append(f"would burn SLO {b.slo} at {b.burn_candidate:.2f}x (production {b.burn_production:.2f}x)")
    return out


def _benefit(c: Comparison, noise: NoiseFloor | None, task: Task, policy: VerdictPolicy) -> tuple[bool, bool, str]:
    """(significantly better, non-inferior, words)."""
    if task is Task.regression and c.abs_error is not None:
        e = c.abs_error
        better = e.difference < 0 and e.p_value < policy.alpha
        margin = policy.non_inferiority_mae * e.production_mae
        words = f"MAE {signed(e.difference)} (95% CI {signed(e.lower)} to {signed(e.upper)}), Wilcoxon {p_value(e.p_value)}"
        return better, e.upper <= margin, words
    a = c.accuracy
    assert a is not None
    words = f"accuracy {pp(a.difference)} (95% CI {pp(a.lower)} to {pp(a.upper)}), McNemar {p_value(a.test.p_value)}"
    return a.difference > 0 and a.test.p_value < policy.alpha, a.lower >= -policy.non_inferiority, words


def decide(c: Comparison, task: Task, noise: NoiseFloor | None = None,
           slices: tuple[SliceComparison, ...] = (), policy: VerdictPolicy | None = None) -> Verdict:
    """The verdict on one candidate under ``policy`` (see the module docstring for the rules)."""
    policy = policy or VerdictPolicy()
    summary = _summary(c, noise)
    rejections = _rejections(c, policy)
    if rejections:
        return Verdict("reject", summary, tuple(rejections))
    holds = _holds(c, noise, slices, task, policy)
    if holds:
        return Verdict("hold", summary, tuple(holds))
    better, non_inferior, words = _benefit(c, noise, task, policy)
    if better:
        return Verdict("promote", summary, (f"significantly better: {words}",))
    faster = (noise is not None and noise.latency.n > 0 and c.latency_candidate.n > 0
              and c.latency_candidate.p99 <= (1.0 - policy.latency_gain) * noise.latency.p99)
    if non_inferior and faster:
        assert noise is not None
        return Verdict("promote", summary, (
            f"non-inferior: {words}", f"and faster: p99 {ms(c.latency_candidate.p99)} vs {ms(noise.latency.p99)} "
                                     f"for the production ONNX on the same runner"))
    if non_inferior:
        return Verdict("hold", summary, (f"non-inferior but not better: {words}; latency not "
                                         f"{pct(policy.latency_gain)} lower than production's ONNX"
                                         + ("" if noise else " (no production ONNX registered to compare)"),))
    return Verdict("hold", summary, (f"inconclusive: {words}",))
