"""Drift, data-quality and performance findings (analysis_results) as alert candidates.

Each alerting row of a model's latest analysis window becomes one alert, identified by model,
version, kind, metric, feature and slice; it stays active while the latest window keeps saying so
and resolves once a later window does not. Values in annotations are statistics (a PSI, an
accuracy), never feature values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from alerts.labels import Labels
from alerts.slo_alerts import AlertCandidate
from store.alert_reads import Finding

__all__ = ["ALERTNAMES", "DEFAULT_SEVERITY", "finding_candidates"]

ALERTNAMES = {"drift": "FeatureDrift", "quality": "DataQuality", "performance": "ModelPerformance"}
# Drift and data quality open tickets; a human decides whether to page on them by routing.
DEFAULT_SEVERITY = {"drift": "ticket", "quality": "ticket", "performance": "ticket"}


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def finding_candidates(findings: Iterable[Finding], teams: Mapping[str, str | None],
                       severity: Mapping[str, str] = DEFAULT_SEVERITY) -> list[AlertCandidate]:
    """One active candidate per finding of a known model (``teams``: model -> team)."""
    out: list[AlertCandidate] = []
    for f in findings:
        if f.model not in teams:
            continue
        where = f"{f.slice_key}={f.slice_value}" if f.slice_key else ""
        labels = Labels({
            "alertname": ALERTNAMES.get(f.kind, "AnalysisFinding"),
            "model": f.model,
            "version": "" if f.version == "*" else f.version,
            "kind": f.kind,
            "metric": f.metric,
            "feature": f.feature,
            "severity": severity.get(f.kind, "ticket"),
            "team": teams[f.model] or "",
            "slice": where,
        })
        subject = f.feature or f.model
        summary = f"{f.kind} on {subject}" + (f" ({where})" if where else "") + f": {f.metric} {_number(f.value)}"
        if f.threshold is not None:
            summary += f" vs threshold {_number(f.threshold)}"
        annotations = Labels({
            "summary": summary + f" over {f.n} rows",
            "window": f"{f.window_start.isoformat()}/{f.window_end.isoformat()}",
            "status": f.status,
            # Exact figures for machines (the retrain webhook); empty (absent) when unknown.
            "value": "" if f.value is None else repr(f.value),
            "threshold": "" if f.threshold is None else repr(f.threshold),
        })
        out.append(AlertCandidate(labels, annotations, True))
    return out
