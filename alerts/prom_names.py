"""Names of the SLO and drift gauges modelwatch serves on /metrics, shared by the exporter
(collector.metrics_slo) and the Prometheus rules written from them (alerts.prom_rules)."""

from __future__ import annotations

__all__ = ["METRIC_NAMES"]

METRIC_NAMES = {
    "sli": "modelwatch_slo_sli_ratio",
    "objective": "modelwatch_slo_objective_ratio",
    "burn": "modelwatch_slo_burn_rate",
    "budget": "modelwatch_slo_error_budget_remaining_ratio",
    "exhaustion": "modelwatch_slo_time_to_exhaustion_seconds",
    "coverage": "modelwatch_slo_label_coverage_ratio",
    "firing": "modelwatch_slo_alert_firing",
    "evaluated": "modelwatch_slo_evaluated_timestamp_seconds",
    "drift": "modelwatch_drift_score",
    "drifted": "modelwatch_drift_detected",
}
