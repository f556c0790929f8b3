"""Prometheus recording and alerting rules equivalent to modelwatch's own SLO alerting.

For Prometheus users who alert from Prometheus: ``modelwatch rules export`` writes, per SLO, the
Sloth-style recording rules over the gauges modelwatch serves on /metrics (alerts.prom_names)
and one multiwindow multi-burn-rate alert per severity with the SLO's own rules:

    modelwatch_slo:sli_error:ratio_rate1h = max without (window) (modelwatch_slo_burn_rate{..., window="1h"}) * (1 - objective)
    alert SLOBurnRate: (ratio_rate1h > 14.4 * budget and ratio_rate5m > 14.4 * budget) or (...)

The alert carries the labels modelwatch's own SLO alerts carry (alertname, model, slo, sli,
kind, severity, team), so Alertmanager groups and deduplicates both the same way. One
difference: modelwatch decides page rules on the error ratio's confidence bound at low traffic
(docs/slo.md); these rules see the raw ratio only. Pure: a function of the monitors config.
"""

from __future__ import annotations

from typing import Any

from alerts.slo_alerts import SLO_ALERTNAME
from alerts.prom_names import METRIC_NAMES
from config.durations import format_duration
from config.monitors import Model, Monitors
from config.ownership import ownership_of
from config.slo import SloSpec

__all__ = ["prometheus_rules", "ratio_record"]


def _number(value: float) -> str:
    return f"{value:.12g}"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def ratio_record(window: str) -> str:
    """The recording rule name of the error ratio over ``window`` (Sloth's naming)."""
    return f"modelwatch_slo:sli_error:ratio_rate{window}"


def _slo_rules(model: Model, spec: SloSpec) -> list[dict[str, Any]]:
    selector = f'model="{_quote(model.name)}", slo="{_quote(spec.name)}"'
    budget = _number(1.0 - spec.objective)
    labels = {"model": model.name, "slo": spec.name}
    windows = sorted({w for rule in spec.alerts for w in (rule.long_window, rule.short_window)})
    rules: list[dict[str, Any]] = []
    for window in windows:
        name = format_duration(window)
        rules.append({
            "record": ratio_record(name),
            "expr": f'max without (window) ({METRIC_NAMES["burn"]}{{{selector}, window="{name}"}}) * {budget}',
            "labels": dict(labels),
        })
    fastest = format_duration(min(rule.long_window for rule in spec.alerts))
    rules += [
        {"record": "modelwatch_slo:objective:ratio", "expr": f"vector({_number(spec.objective)})", "labels": dict(labels)},
        {"record": "modelwatch_slo:error_budget:ratio", "expr": f"vector({budget})", "labels": dict(labels)},
        {"record": "modelwatch_slo:current_burn_rate:ratio", "expr": f"{ratio_record(fastest)}{{{selector}}} / {budget}",
         "labels": dict(labels)},
        {"record": "modelwatch_slo:period_error_budget_remaining:ratio",
         "expr": f'max without (kind) ({METRIC_NAMES["budget"]}{{{selector}}})', "labels": dict(labels)},
    ]
    return rules


def _slo_alerts(model: Model, spec: SloSpec) -> list[dict[str, Any]]:
    selector = f'model="{_quote(model.name)}", slo="{_quote(spec.name)}"'
    budget = _number(1.0 - spec.objective)
    alerts = []
    for severity in spec.severities:
        clauses = []
        for rule in (r for r in spec.alerts if r.severity == severity):
            threshold = f"({_number(rule.burn_rate)} * {budget})"
            long_name, short_name = format_duration(rule.long_window), format_duration(rule.short_window)
            clauses.append(f"(max({ratio_record(long_name)}{{{selector}}} > {threshold}) without (kind)"
                           f" and max({ratio_record(short_name)}{{{selector}}} > {threshold}) without (kind))")
        alert: dict[str, Any] = {
            "alert": SLO_ALERTNAME,
            "expr": "\n  or\n".join(clauses),
            "labels": {**spec.labels, "sli": spec.kind.value, "kind": "slo", "severity": severity,
                       **({"team": spec.team or model.team} if (spec.team or model.team) else {})},
            "annotations": {
                "summary": f"SLO {spec.name} of {model.name} is burning its error budget",
                "description": spec.description or f"{spec.kind.value} objective {_number(spec.objective)} over {format_duration(spec.window)}",
                **ownership_of(model, spec).annotations(),  # runbook_url, owner, team: as on modelwatch's own alerts
            },
        }
        if spec.for_.total_seconds() > 0:
            alert["for"] = format_duration(spec.for_)
        alerts.append(alert)
    return alerts


def prometheus_rules(monitors: Monitors) -> dict[str, Any]:
    """A Prometheus rule file (``groups:``) for every SLO of every model, plus drift tickets."""
    groups: list[dict[str, Any]] = []
    for model in monitors.models:
        for spec in model.slos:
            name = f"modelwatch-slo-{model.name}-{spec.name}"
            groups.append({"name": f"{name}-recordings", "rules": _slo_rules(model, spec)})
            groups.append({"name": f"{name}-alerts", "rules": _slo_alerts(model, spec)})
    if monitors.models:
        groups.append({"name": "modelwatch-drift", "rules": [_drift_alert(model) for model in monitors.models]})
    return {"groups": groups}


def _drift_alert(model: Model) -> dict[str, Any]:
    """A drift ticket per model, so each names its model's owner and runbook."""
    return {
        "alert": "FeatureDrift",
        "expr": f'max by (model, version, feature, metric, slice) ({METRIC_NAMES["drifted"]}{{model="{_quote(model.name)}"}}) == 1',
        # model (its value already) keeps the rules apart for promtool's duplicate-rule lint
        "labels": {"model": model.name, "kind": "drift", "severity": "ticket"},
        "annotations": {"summary": "Feature {{ $labels.feature }} of {{ $labels.model }} drifted ({{ $labels.metric }})",
                        **ownership_of(model).annotations()},
    }
