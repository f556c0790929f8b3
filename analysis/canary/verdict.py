"""Promote the canary / roll back / keep watching, with the reasons in words and numbers. Pure:
a comparison and the model's canary policy in, a verdict out. The rules (docs/canary.md):

roll back when a guarded metric (error rate, p99 latency, accuracy or MAE) is worse than the
  stable version's by more than its policy margin AND significantly so (BH-adjusted q < alpha
  across the guards). Traffic minimums do not apply: a clearly broken canary is rolled back as
  soon as the evidence is there.
keep watching when any of
  - either version served fewer than ``min_requests`` requests in the window;
  - labels have arrived but fewer than ``min_labels`` for either version;
  - a guarded metric is significantly worse, though within its margin (a person decides);
  - a guarded metric is worse by more than its margin but not significantly (inconclusive).
promote otherwise: enough traffic (and labels, when there are any) and nothing worse.

Prediction-distribution shifts and input drift are reported as notes: a canary may rightly
predict differently, so they inform the person reading the verdict but never decide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from analysis.canary.comparison import CanaryComparison, VersionSummary
from analysis.canary.guards import Guard, guards
from analysis.stats.wording import ms, p_value, pct
from config.deploys import CanaryPolicy

__all__ = ["HEADLINES", "CanaryVerdict", "Decision", "decide"]

Decision = Literal["promote", "rollback", "keep_watching"]
# How each decision is announced (CLI, dashboard).
HEADLINES: dict[str, str] = {"promote": "PROMOTE the canary", "rollback": "ROLL BACK the canary",
                             "keep_watching": "KEEP WATCHING"}


@dataclass(frozen=True)
class CanaryVerdict:
    decision: Decision
    summary: str  # the headline numbers in one line
    reasons: tuple[str, ...]  # why this decision
    notes: tuple[str, ...]  # what else a person should know; never changes the decision
    guards: tuple[Guard, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "summary": self.summary, "reasons": list(self.reasons),
                "notes": list(self.notes), "guards": [g.to_dict() for g in self.guards]}


def _summary(c: CanaryComparison) -> str:
    parts = [f"canary {c.canary.version} vs stable {c.stable.version}",
             f"errors {pct(c.canary.error_rate)} vs {pct(c.stable.error_rate)}",
             f"p99 {ms(c.latency.canary.p99)} vs {ms(c.latency.stable.p99)}"]
    q = c.quality
    if q is not None:
        value = (lambda x: f"{x:.4g}") if q.metric == "mae" else pct
        parts.append(f"{q.metric} {value(q.canary)} vs {value(q.stable)} ({q.labelled_canary} / {q.labelled_stable} "
                     f"labelled)")
    return "; ".join(parts)


def _q(g: Guard) -> str:
    return p_value(g.q_value, "q")


def _minimums(c: CanaryComparison, policy: CanaryPolicy) -> list[str]:
    out = []
    roles: tuple[tuple[str, VersionSummary], ...] = (("stable", c.stable), ("canary", c.canary))
    for role, v in roles:
        if v.requests < policy.min_requests:
            out.append(f"only {v.requests} requests from {role} {v.version} in the window (need {policy.min_requests})")
    if c.quality is not None:
        for role, v in roles:
            if v.labelled < policy.min_labels:
                out.append(f"only {v.labelled} labelled predictions from {role} {v.version} (need {policy.min_labels}): "
                           f"{c.quality.metric} not judged yet")
    return out


def _unsettled(found: tuple[Guard, ...], alpha: float) -> list[str]:
    out = []
    for g in found:
        if g.worse and g.significant(alpha) and not g.beyond_margin:
            out.append(f"{g.evidence}: significantly worse ({_q(g)}) though within the {g.margin}")
        elif g.worse and g.beyond_margin and not g.significant(alpha):
            out.append(f"inconclusive: {g.evidence}: beyond the {g.margin} but not significant ({_q(g)})")
    return out


def _notes(c: CanaryComparison) -> list[str]:
    out = []
    if c.quality is None:
        out.append("no labels for either version yet: accuracy not judged")
    if c.latency.tail is None:
        out.append("latency not judged: a version sent no latency histogram (log_prediction without latency_ms)")
    shifted = [s for s in c.predictions if s.drift]
    for s in shifted:
        out.append(f"canary predictions differ from stable's: {s.column} {s.method} {s.effect_size:.3g} "
                   f"(threshold {s.threshold:g}), q = {s.p_adjusted if s.p_adjusted is not None else s.p_value:.3g}")
    if c.predictions and not shifted:
        out.append("canary predictions are distributed as stable's ("
                   + ", ".join(f"{s.column} {s.method} {s.effect_size:.3g}" for s in c.predictions) + ")")
    if len(c.drift) == 2:
        stable, canary = c.drift
        out.append(f"inputs against the reference: {stable.n_drifted} of {stable.features} features drift for stable "
                   f"{stable.version}, {canary.n_drifted} for canary {canary.version}")
        only = sorted({d.column for d in canary.drifted} - {d.column for d in stable.drifted})
        if only:
            out.append(f"only the canary's inputs drift on {', '.join(only)}: is traffic split between versions at "
                       f"random? The comparison assumes both see the same traffic")
    return out


def decide(c: CanaryComparison, policy: CanaryPolicy | None = None) -> CanaryVerdict:
    """The verdict on ``c`` under ``policy`` (see the module docstring for the rules)."""
    policy = policy or CanaryPolicy()
    found = guards(c, policy)
    summary, notes = _summary(c), tuple(_notes(c))

    def verdict(decision: Decision, reasons: list[str]) -> CanaryVerdict:
        return CanaryVerdict(decision, summary, tuple(reasons), notes, found)

    rollbacks = [f"{g.evidence}, {_q(g)}: worse by more than the {g.margin}"
                 for g in found if g.worse and g.beyond_margin and g.significant(policy.alpha)]
    if rollbacks:
        return verdict("rollback", rollbacks)
    holds = _minimums(c, policy) + _unsettled(found, policy.alpha)
    if holds:
        return verdict("keep_watching", holds)
    return verdict("promote", [f"nothing worse than stable over {c.canary.requests} canary requests"]
                   + [f"{g.evidence}, {_q(g)}" for g in found])
