"""Config checks for SLOs: rules that can never fire, and how fast each rule detects a problem.

Detection time: from a clean history, an error rate with burn ``b`` fills a window of length
``W`` linearly, so that window's burn at time ``t`` is ``b * min(t, W) / W``. It reaches a
threshold ``T`` at ``t = W * T / b`` (never when ``b < T``). A rule needs both windows, and the
long one (``W_long > W_short``) is the later, so::

    detection_time = max(W_long, W_short) * T / b = W_long * T / b      (b >= T)

A full outage has ``b = 1 / (1 - objective)``; "2x budget" has ``b = 2``. The confidence bound
(page rules) adds a little on top at low traffic; ``min_events`` may add more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from analysis.slo.burn import max_possible_burn
from config.durations import format_duration
from config.slo import BurnRateRule, SloSpec

__all__ = ["DetectionTime", "check_slo", "describe_detection", "detection_time", "detection_times"]


@dataclass(frozen=True)
class DetectionTime:
    """How long each rule takes to fire, from a clean history, for two error rates."""

    rule: BurnRateRule
    full_outage: timedelta | None  # None: never fires
    twice_budget: timedelta | None


def detection_time(rule: BurnRateRule, burn: float) -> timedelta | None:
    """Return ``long_window * threshold / burn`` (both windows considered), None if burn < threshold."""
    if burn < rule.burn_rate:
        return None
    return max(rule.long_window, rule.short_window) * (rule.burn_rate / burn)


def detection_times(spec: SloSpec) -> tuple[DetectionTime, ...]:
    """Detection time per rule for a full outage and for an error rate at twice the budget."""
    outage = max_possible_burn(spec.objective)
    return tuple(DetectionTime(rule, detection_time(rule, outage), detection_time(rule, 2.0)) for rule in spec.alerts)


def _text(value: timedelta | None) -> str:
    return "never" if value is None else format_duration(timedelta(seconds=round(value.total_seconds())))


def describe_detection(spec: SloSpec) -> list[str]:
    """One line per rule, for ``modelwatch check`` to print."""
    return [
        f"slo {spec.name}: {d.rule.name}: full outage detected after {_text(d.full_outage)}, "
        f"2x budget after {_text(d.twice_budget)}"
        for d in detection_times(spec)
    ]


def check_slo(spec: SloSpec) -> list[str]:
    """Return the problems of an SLO's alerting (empty when fine); ``modelwatch check`` rejects any.

    - a rule threshold above the maximum possible burn ``1 / (1 - objective)`` can never fire;
    - a rule window longer than the SLO window measures more than the budget period;
    - duplicate rules; a rule at <= 1x with the confidence bound, which never fires at 1x.
    """
    problems: list[str] = []
    ceiling = max_possible_burn(spec.objective)
    seen: set[tuple] = set()
    for rule in spec.alerts:
        where = f"slo {spec.name}: rule {rule.name}"
        if rule.burn_rate > ceiling * (1 + 1e-9):
            problems.append(
                f"{where} can never fire: threshold {rule.burn_rate:g}x is above the maximum possible "
                f"burn {ceiling:g}x = 1/(1 - {spec.objective:g}) of a full outage; lower the threshold "
                f"to at most {ceiling:g}x or raise the objective"
            )
        if rule.long_window > spec.window:
            problems.append(
                f"{where}: long window {format_duration(rule.long_window)} is longer than the SLO window "
                f"{format_duration(spec.window)}"
            )
        if rule.burn_rate <= 1.0 and rule.confidence_bound and spec.confidence is not None:
            problems.append(
                f"{where}: a {rule.burn_rate:g}x rule deciding on the confidence lower bound never fires on a "
                f"burn of exactly {rule.burn_rate:g}x; set confidence_bound: false on it"
            )
        key = (rule.severity, rule.burn_rate, rule.long_window, rule.short_window)
        if key in seen:
            problems.append(f"{where} is declared twice")
        seen.add(key)
    return problems
