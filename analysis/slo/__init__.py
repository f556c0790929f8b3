"""SLOs: typed declarations, burn-rate math and multiwindow multi-burn-rate evaluation (pure).

Everything here is a function of counts, specs and minute indexes: no database, clock or thread.
The scheduler reads per-minute counts from the store, builds ``SliCounts`` and calls
``evaluate_slo``; ``alerts.slo_alerts`` turns the result into alerts. Conventions: docs/slo.md.
"""

from analysis.slo.burn import (
    burn_rate,
    error_budget_remaining,
    error_ratio,
    max_possible_burn,
    time_to_exhaustion,
    wilson_lower_bound,
)
from analysis.slo.check import DetectionTime, check_slo, describe_detection, detection_time, detection_times
from analysis.slo.evaluate import (
    BudgetStatus,
    RuleEvaluation,
    RuleState,
    SloEvaluation,
    SloState,
    SloTimeline,
    WindowBurn,
    evaluate_slo,
    evaluate_timeline,
)
from analysis.slo.series import SliCounts
from config.slo import DEFAULT_ALERT_RULES, Budgeting, BurnRateRule, SloKind, SloSpec

__all__ = [
    "DEFAULT_ALERT_RULES",
    "BudgetStatus",
    "Budgeting",
    "BurnRateRule",
    "DetectionTime",
    "RuleEvaluation",
    "RuleState",
    "SliCounts",
    "SloEvaluation",
    "SloKind",
    "SloSpec",
    "SloState",
    "SloTimeline",
    "WindowBurn",
    "burn_rate",
    "check_slo",
    "describe_detection",
    "detection_time",
    "detection_times",
    "error_budget_remaining",
    "error_ratio",
    "evaluate_slo",
    "evaluate_timeline",
    "max_possible_burn",
    "time_to_exhaustion",
    "wilson_lower_bound",
]
