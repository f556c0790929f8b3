"""SLO evaluations as ``slo_status`` / ``slo_status_history`` rows (pure; NaN becomes NULL)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from analysis.slo.evaluate import SloEvaluation
from config.durations import format_duration

__all__ = ["history_row", "status_row"]


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


def status_row(model: str, evaluation: SloEvaluation, now: datetime) -> dict:
    """The latest-status row: SLI and budget over the SLO window, burn per rule window."""
    burns: dict[str, float | None] = {}
    rules = []
    for rule in evaluation.rules:
        for window in (rule.long, rule.short):
            burns[format_duration(window.window)] = _finite(window.burn_rate)
        rules.append({
            "name": rule.rule.name, "severity": rule.rule.severity, "threshold": rule.rule.burn_rate,
            "state": rule.state.value, "long_burn": _finite(rule.long.burn_rate), "short_burn": _finite(rule.short.burn_rate),
            "long_decision_burn": _finite(rule.long.decision_burn), "short_decision_burn": _finite(rule.short.decision_burn),
        })
    budget = evaluation.budget
    fastest = min(evaluation.rules, key=lambda r: r.rule.long_window)
    ratio = _finite(budget.error_ratio)
    tte = budget.time_to_exhaustion
    return {
        "model": model, "slo": evaluation.slo, "kind": evaluation.kind.value, "objective": evaluation.objective,
        "state": evaluation.state.value, "sli": None if ratio is None else 1.0 - ratio,
        "events_total": budget.total, "events_bad": budget.bad, "budget_remaining": _finite(budget.remaining),
        "current_burn": _finite(budget.current_burn),
        "time_to_exhaustion_s": None if tte is None else tte.total_seconds(),
        "label_coverage": fastest.long.coverage, "burn_rates": burns, "rules": rules,
        "firing_severities": ",".join(evaluation.firing_severities),
        "window_end": datetime.fromtimestamp(evaluation.end_minute * 60, timezone.utc), "evaluated_at": now,
    }


def history_row(status: dict) -> dict:
    """The burndown point of the status's hour (the hour's last evaluation replaces earlier ones)."""
    hour = status["evaluated_at"].replace(minute=0, second=0, microsecond=0)
    keys = ("model", "slo", "state", "sli", "budget_remaining", "current_burn", "events_total", "events_bad", "evaluated_at")
    return {"hour": hour, **{k: status[k] for k in keys}}
