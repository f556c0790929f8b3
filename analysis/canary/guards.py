"""The guarded metrics of a canary -- error rate, p99 latency, accuracy (or MAE) -- each with its
direction, its policy margin and its test, the tests adjusted together with Benjamini-Hochberg
so that watching three metrics does not triple the false rollbacks (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from analysis.canary.comparison import CanaryComparison
from analysis.stats.fdr import benjamini_hochberg
from analysis.stats.plain import plain
from analysis.stats.wording import ms, pct, pp, relative, signed
from config.deploys import CanaryPolicy

__all__ = ["Guard", "guards"]


@dataclass(frozen=True)
class Guard:
    """``worse``: the canary's estimate is worse than stable's; ``beyond_margin``: by more than
    the policy allows; ``q_value``: the test's p-value after BH across the guards (NaN when the
    metric could not be tested). ``evidence`` and ``margin`` are the numbers in words."""

    metric: str  # error_rate | latency_p99 | accuracy | mae
    worse: bool
    beyond_margin: bool
    p_value: float
    q_value: float
    evidence: str
    margin: str

    @property
    def tested(self) -> bool:
        return math.isfinite(self.q_value)

    def significant(self, alpha: float) -> bool:
        return self.tested and self.q_value < alpha

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


def _ci(confidence: float) -> str:
    return f"{100.0 * confidence:g}% CI"


def _error_rate(c: CanaryComparison, policy: CanaryPolicy) -> Guard:
    e, s, k = c.errors, c.stable, c.canary
    evidence = (f"error rate {pct(k.error_rate)} ({k.errors} of {k.requests} requests) vs stable "
                f"{pct(s.error_rate)} ({s.errors} of {s.requests}): {pp(e.difference)} "
                f"({_ci(e.confidence)} {pp(e.lower)} to {pp(e.upper)})")
    return Guard("error_rate", e.difference > 0, e.difference > policy.max_error_rate_increase, e.p_value, math.nan,
                 evidence, f"{pp(policy.max_error_rate_increase)} allowed")


def _latency(c: CanaryComparison, policy: CanaryPolicy) -> Guard:
    lat, change = c.latency, c.latency.p99_change
    evidence = f"p99 latency {ms(lat.canary.p99)} vs stable {ms(lat.stable.p99)} ({relative(change)})"
    tail = lat.tail
    if tail is None:
        return Guard("latency_p99", change > 0, change > policy.max_latency_p99_increase, math.nan, math.nan,
                     evidence + "; no latency histogram to test", f"{relative(policy.max_latency_p99_increase)} allowed")
    evidence += (f"; {pct(tail.b)} of canary requests slower than {lat.tail_bound_ms:g} ms vs {pct(tail.a)} "
                 f"of stable's")
    return Guard("latency_p99", change > 0 and tail.difference > 0, change > policy.max_latency_p99_increase,
                 tail.p_value, math.nan, evidence, f"{relative(policy.max_latency_p99_increase)} allowed")


def _quality(c: CanaryComparison, policy: CanaryPolicy) -> Guard | None:
    q = c.quality
    if q is None:
        return None
    on = f"on {q.labelled_canary} vs {q.labelled_stable} labelled predictions"
    if q.metric == "mae":
        margin = policy.max_mae_increase * q.stable if math.isfinite(q.stable) else math.nan
        evidence = (f"MAE {q.canary:.4g} vs stable {q.stable:.4g} {on}: {signed(q.difference)} "
                    f"({_ci(q.confidence)} {signed(q.lower)} to {signed(q.upper)})")
        return Guard("mae", q.difference > 0, q.difference > margin, q.p_value, math.nan, evidence,
                     f"{relative(policy.max_mae_increase)} ({signed(margin)}) allowed")
    evidence = (f"accuracy {pct(q.canary)} vs stable {pct(q.stable)} {on}: {pp(q.difference)} "
                f"({_ci(q.confidence)} {pp(q.lower)} to {pp(q.upper)})")
    return Guard("accuracy", q.difference < 0, -q.difference > policy.max_accuracy_drop, q.p_value, math.nan,
                 evidence, f"drop of {100.0 * policy.max_accuracy_drop:.1f} pp allowed")


def guards(c: CanaryComparison, policy: CanaryPolicy) -> tuple[Guard, ...]:
    """Every guarded metric the comparison has, with BH-adjusted q-values across those tested."""
    found = [g for g in (_error_rate(c, policy), _latency(c, policy), _quality(c, policy)) if g is not None]
    tested = [i for i, g in enumerate(found) if math.isfinite(g.p_value)]
    if tested:
        adjusted = benjamini_hochberg([found[i].p_value for i in tested], policy.alpha).adjusted
        for i, q in zip(tested, adjusted.tolist()):
            found[i] = replace(found[i], q_value=float(q))
    return tuple(found)
