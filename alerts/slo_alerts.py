"""SLO evaluations as alerts: one alert per (SLO, severity), active while a rule of it fires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alerts.alert import Alert
from alerts.labels import Labels
from alerts.state import AlertRecord, AlertState
from analysis.slo.evaluate import SloEvaluation
from config.slo import SloSpec

__all__ = ["SLO_ALERTNAME", "AlertCandidate", "alert_for_record", "slo_alert_candidates", "slo_alert_labels"]

SLO_ALERTNAME = "SLOBurnRate"


@dataclass(frozen=True)
class AlertCandidate:
    """An alert identity with whether its condition holds in this cycle (input to state.step)."""

    labels: Labels
    annotations: Labels
    active: bool


def slo_alert_labels(spec: SloSpec, model: str, severity: str, version: str | None = None, slice: str | None = None,
                     model_team: str | None = None) -> Labels:
    """Labels: the SLO's extra labels, then alertname, model, version, slo, sli, kind=slo,
    severity, team, slice (the standard ones win, so an extra label cannot change identity).
    ``team`` is the SLO's, else its ``team`` label, else the model's (``model_team``), so a route
    on team matches SLO alerts of a model that declares its team once."""
    standard = {
        "alertname": SLO_ALERTNAME,
        "model": model,
        "version": version or "",
        "slo": spec.name,
        "sli": spec.kind.value,
        "kind": "slo",
        "severity": severity,
        "team": spec.team or spec.labels.get("team") or model_team or "",
        "slice": slice or "",
    }
    return Labels({**spec.labels, **standard})


def slo_alert_candidates(
    spec: SloSpec, evaluation: SloEvaluation, model: str, version: str | None = None, slice: str | None = None,
    model_team: str | None = None,
) -> tuple[AlertCandidate, ...]:
    """One candidate per severity of the SLO's rules; active when any rule of it fires."""
    annotations = Labels(
        {
            "summary": f"SLO {spec.name} of {model} is burning its error budget",
            "description": spec.description or "",
            "state": evaluation.state.value,
        }
    )
    return tuple(
        AlertCandidate(slo_alert_labels(spec, model, severity, version, slice, model_team), annotations, evaluation.is_firing(severity))
        for severity in spec.severities
    )


def alert_for_record(candidate: AlertCandidate, record: AlertRecord, generator_url: str | None = None) -> Alert | None:
    """The Alert to route for a candidate after ``state.step``: firing or resolved, else None."""
    if record.state is AlertState.firing and record.active_since is not None:
        return Alert(candidate.labels, record.active_since, candidate.annotations, None, generator_url)
    if record.state is AlertState.resolved and record.active_since is not None and record.resolved_at is not None:
        return Alert(candidate.labels, record.active_since, candidate.annotations, record.resolved_at, generator_url)
    return None
