"""Multiwindow multi-burn-rate evaluation of one SLO over per-minute counts.

A rule fires when the decision burn rate is at least its threshold over BOTH its long window
(enough budget spent to matter) and its short window (still happening now, so the alert resets
within the short window after recovery). Window sums come from prefix sums, so any number of
windows and evaluation points cost O(1) each after one O(n) pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

import numpy as np

from analysis.slo.burn import time_to_exhaustion, wilson_lower_bound
from analysis.slo.series import SliCounts, timeslice_counts
from config.slo import Budgeting, BurnRateRule, SloKind, SloSpec

__all__ = [
    "BudgetStatus",
    "RuleEvaluation",
    "RuleState",
    "SloEvaluation",
    "SloState",
    "SloTimeline",
    "WindowBurn",
    "evaluate_slo",
    "evaluate_timeline",
    "short_window_min_events",
]

_MINUTE = timedelta(minutes=1)
# Burn thresholds are compared with this relative slack: (1 - 0.999) is not exactly 0.001 in
# floating point, and an exact 1x burn must reach a 1x threshold.
_REL_TOL = 1e-9


class RuleState(str, Enum):
    ok = "ok"
    firing = "firing"
    no_data = "no_data"  # no events in a window: never "met"
    low_traffic = "low_traffic"  # fewer events than min_events: too few to decide
    insufficient_labels = "insufficient_labels"  # quality: label coverage below the minimum


# Window / rule states as small ints for the vectorised timeline; precedence = lower code wins.
_NO_DATA, _INSUFFICIENT, _LOW, _OK, _FIRING = 0, 1, 2, 3, 4
_CODE_STATE = {
    _NO_DATA: RuleState.no_data,
    _INSUFFICIENT: RuleState.insufficient_labels,
    _LOW: RuleState.low_traffic,
    _OK: RuleState.ok,
    _FIRING: RuleState.firing,
}
SloState = RuleState  # an SLO's state takes the same values (see evaluate_slo)


@dataclass(frozen=True)
class WindowBurn:
    """One window of one rule: counts, raw ratio and burn, and the burn the decision used."""

    window: timedelta
    total: float
    bad: float
    error_ratio: float  # NaN without data
    burn_rate: float  # raw: error_ratio / (1 - objective)
    decision_burn: float  # Wilson lower bound burn, or raw when the rule does not use the bound
    coverage: float | None  # quality: labelled / predictions in the window
    state: RuleState  # ok, no_data, low_traffic or insufficient_labels


@dataclass(frozen=True)
class RuleEvaluation:
    rule: BurnRateRule
    long: WindowBurn
    short: WindowBurn
    state: RuleState

    @property
    def fired(self) -> bool:
        return self.state is RuleState.firing


@dataclass(frozen=True)
class BudgetStatus:
    """The SLO window so far: counts, ratio, budget left and when it runs out at the current burn."""

    window: timedelta
    total: float
    bad: float
    error_ratio: float
    remaining: float  # 1 - burn over the window; negative when overspent; NaN without data
    current_burn: float  # raw burn over the shortest long window of the rules
    time_to_exhaustion: timedelta | None


@dataclass(frozen=True)
class SloEvaluation:
    slo: str
    kind: SloKind
    objective: float
    end_minute: int  # epoch minute the evaluated windows end at (exclusive)
    state: SloState
    rules: tuple[RuleEvaluation, ...]
    budget: BudgetStatus

    @property
    def firing_severities(self) -> tuple[str, ...]:
        """Severities with at least one firing rule, in rule order."""
        return tuple(dict.fromkeys(r.rule.severity for r in self.rules if r.fired))

    def is_firing(self, severity: str) -> bool:
        return severity in self.firing_severities


@dataclass(frozen=True, eq=False)
class SloTimeline:
    """Rule states at every evaluation point: ``ends[j]`` minutes of data consumed."""

    spec: SloSpec
    ends: np.ndarray
    rule_codes: tuple[np.ndarray, ...]

    def rule_states(self, index: int) -> list[RuleState]:
        return [_CODE_STATE[int(code)] for code in self.rule_codes[index]]

    def rule_fired(self, index: int) -> np.ndarray:
        return self.rule_codes[index] == _FIRING

    def fired(self, severity: str) -> np.ndarray:
        """Boolean per evaluation point: any rule of ``severity`` fires."""
        result = np.zeros(self.ends.size, dtype=bool)
        for rule, codes in zip(self.spec.alerts, self.rule_codes):
            if rule.severity == severity:
                result |= codes == _FIRING
        return result


def short_window_min_events(spec: SloSpec, rule: BurnRateRule) -> int:
    """Events a rule's short window needs: ``max(1, ceil(min_events * short / long))``.

    The long window needs ``min_events``; the short one the same traffic rate's share of it, so
    a steady low-traffic endpoint is not held back by its 5 minute window alone.
    """
    return max(1, math.ceil(spec.min_events * (rule.short_window / rule.long_window)))


class _Prefix:
    """Prefix sums of the decision counts (and of the coverage counts for quality)."""

    def __init__(self, decision: SliCounts, coverage: SliCounts | None) -> None:
        self.total = _cumsum(decision.total)
        self.bad = _cumsum(decision.bad)
        self.labelled = None if coverage is None else _cumsum(coverage.total)
        self.expected = None if coverage is None or coverage.expected is None else _cumsum(coverage.expected)

    def window(self, cumulative: np.ndarray, ends: np.ndarray, minutes: int) -> np.ndarray:
        ends = np.clip(ends, 0, cumulative.size - 1)
        # Clip: differences of float prefix sums can come out a hair below zero.
        return np.maximum(cumulative[ends] - cumulative[np.maximum(ends - minutes, 0)], 0.0)


def _cumsum(values: np.ndarray) -> np.ndarray:
    return np.concatenate(([0.0], np.cumsum(values, dtype=np.float64)))


def _window_arrays(spec: SloSpec, prefix: _Prefix, ends: np.ndarray, window: timedelta, use_bound: bool, min_events: int) -> dict[str, np.ndarray]:
    minutes = int(window / _MINUTE)
    total = prefix.window(prefix.total, ends, minutes)
    bad = np.minimum(prefix.window(prefix.bad, ends, minutes), total)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 0, bad / total, np.nan)
    allowance = 1.0 - spec.objective
    decision = wilson_lower_bound(bad, total, spec.confidence) if use_bound and spec.confidence else ratio
    codes = np.where(total > 0, np.where(total >= min_events, _OK, _LOW), _NO_DATA)
    coverage = None
    if prefix.expected is not None and prefix.labelled is not None:
        expected = prefix.window(prefix.expected, ends, minutes)
        with np.errstate(divide="ignore", invalid="ignore"):
            coverage = np.where(expected > 0, prefix.window(prefix.labelled, ends, minutes) / expected, np.nan)
        # No predictions at all is no data; predictions whose labels are missing are not.
        codes = np.where(expected > 0, np.where(coverage < spec.min_label_coverage, _INSUFFICIENT, codes), _NO_DATA)
    return {
        "total": total,
        "bad": bad,
        "ratio": ratio,
        "burn": ratio / allowance,
        "decision_burn": decision / allowance,
        "coverage": coverage if coverage is not None else np.full(ends.shape, np.nan),
        "codes": codes,
    }


def _rule_codes(rule: BurnRateRule, long: dict[str, np.ndarray], short: dict[str, np.ndarray]) -> np.ndarray:
    threshold = rule.burn_rate * (1.0 - _REL_TOL)
    fired = (long["decision_burn"] >= threshold) & (short["decision_burn"] >= threshold)
    combined = np.minimum(long["codes"], short["codes"])
    # Long-window no data wins over everything: nothing to say about this rule at all.
    combined = np.where(long["codes"] == _NO_DATA, _NO_DATA, combined)
    return np.where(combined == _OK, np.where(fired, _FIRING, _OK), combined)


def _prepare(spec: SloSpec, counts: SliCounts) -> _Prefix:
    if spec.budgeting is Budgeting.timeslice and spec.kind is not SloKind.drift_free:
        decision = timeslice_counts(counts, int(spec.timeslice / _MINUTE), spec.slice_objective)
    else:
        decision = counts
    coverage = counts if counts.expected is not None else None
    return _Prefix(decision, coverage)


def _rule_windows(spec: SloSpec, prefix: _Prefix, ends: np.ndarray, rule: BurnRateRule) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    use_bound = rule.confidence_bound
    long = _window_arrays(spec, prefix, ends, rule.long_window, use_bound, spec.min_events)
    short = _window_arrays(spec, prefix, ends, rule.short_window, use_bound, short_window_min_events(spec, rule))
    return long, short


def evaluate_timeline(spec: SloSpec, counts: SliCounts) -> SloTimeline:
    """Evaluate every rule after each minute of ``counts`` (vectorised; for simulation/backfill)."""
    prefix = _prepare(spec, counts)
    delay = int(spec.evaluation_delay / _MINUTE)
    ends = np.arange(1, len(counts) + 1)
    codes = tuple(_rule_codes(rule, *_rule_windows(spec, prefix, ends - delay, rule)) for rule in spec.alerts)
    return SloTimeline(spec=spec, ends=ends, rule_codes=codes)


def _window_burn(window: timedelta, arrays: dict[str, np.ndarray]) -> WindowBurn:
    coverage = float(arrays["coverage"][0])
    return WindowBurn(
        window=window,
        total=float(arrays["total"][0]),
        bad=float(arrays["bad"][0]),
        error_ratio=float(arrays["ratio"][0]),
        burn_rate=float(arrays["burn"][0]),
        decision_burn=float(arrays["decision_burn"][0]),
        coverage=None if math.isnan(coverage) else coverage,
        state=_CODE_STATE[int(arrays["codes"][0])],
    )


def _overall_state(states: list[RuleState]) -> SloState:
    """Firing if any rule fires; otherwise the least conclusive rule state, so "ok" means every
    rule could decide (no data > insufficient labels > low traffic > ok)."""
    codes = {state: code for code, state in _CODE_STATE.items()}
    return min(states, key=lambda state: codes[state] if state is not RuleState.firing else -1)


def evaluate_slo(spec: SloSpec, counts: SliCounts, end: int | None = None) -> SloEvaluation:
    """Evaluate ``spec`` on ``counts[:end]`` (default: all of it) and return a typed result.

    Windows end at ``end - evaluation_delay`` minutes. Raises ValueError for an ``end`` outside
    the series.
    """
    n = len(counts)
    end = n if end is None else end
    if not 0 <= end <= n:
        raise ValueError(f"end {end} is outside 0..{n}")
    prefix = _prepare(spec, counts)
    at = np.array([end - int(spec.evaluation_delay / _MINUTE)])
    rules = []
    for rule in spec.alerts:
        long, short = _rule_windows(spec, prefix, at, rule)
        state = _CODE_STATE[int(_rule_codes(rule, long, short)[0])]
        rules.append(RuleEvaluation(rule, _window_burn(rule.long_window, long), _window_burn(rule.short_window, short), state))
    budget_window = _window_arrays(spec, prefix, at, spec.window, False, 1)
    fastest = min(rules, key=lambda r: r.rule.long_window)
    remaining = 1.0 - float(budget_window["burn"][0])
    budget = BudgetStatus(
        window=spec.window,
        total=float(budget_window["total"][0]),
        bad=float(budget_window["bad"][0]),
        error_ratio=float(budget_window["ratio"][0]),
        remaining=remaining,
        current_burn=fastest.long.burn_rate,
        time_to_exhaustion=time_to_exhaustion(remaining, fastest.long.burn_rate, spec.window),
    )
    return SloEvaluation(
        slo=spec.name,
        kind=spec.kind,
        objective=spec.objective,
        end_minute=counts.start_minute + end,
        state=_overall_state([r.state for r in rules]),
        rules=tuple(rules),
        budget=budget,
    )
