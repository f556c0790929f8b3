"""Cost alerts from each priced model's cost snapshot (analysis.cost_figures), pure.

- ``CostPer1kPredictionsHigh``, one per version: the version's cost per 1,000 predictions over
  the 24 complete UTC hours before the current one is above ``max_per_1k_predictions``. Per
  version, because versions are priced apart: a canary on a dearer fleet alerts while it still
  serves a few percent of the traffic, before the rollout hides nothing more.
- ``DailySpendHigh``, one per model: today's spend so far, or the last full UTC day's, is above
  ``max_per_day``. Spent money, not the projection: it fires the moment the day crosses the bound
  and resolves once a whole UTC day has ended under it (no flapping at every midnight).

Both resolve when the figure is back under (the candidate is kept, inactive, with the current
figure in its annotations). Severity comes from the model's ``cost_alerts``; docs/cost.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alerts.labels import Labels
from alerts.slo_alerts import AlertCandidate
from analysis.cost import VersionCost, money
from analysis.cost_figures import CostSnapshot
from config.deploys import CostThresholds
from config.monitors import Model

__all__ = ["DAILY_SPEND_ALERTNAME", "PER_1K_ALERTNAME", "cost_alert_candidates"]

PER_1K_ALERTNAME = "CostPer1kPredictionsHigh"
DAILY_SPEND_ALERTNAME = "DailySpendHigh"


def _labels(model: Model, alertname: str, metric: str, severity: str, version: str = "") -> Labels:
    return Labels({"alertname": alertname, "model": model.name, "version": version, "kind": "cost", "metric": metric,
                   "severity": severity, "team": model.team or ""})


def _per_1k(model: Model, limits: CostThresholds, snap: CostSnapshot, v: VersionCost) -> AlertCandidate | None:
    figure, bound = v.per_1k_predictions, limits.max_per_1k_predictions
    if figure is None or bound is None:
        return None
    window = snap.trailing
    summary = (f"cost per 1,000 predictions of {model.name} {v.version}: {money(figure, snap.currency)} vs threshold "
               f"{money(bound, snap.currency)} over the 24 h to {window.end:%Y-%m-%d %H:%M} UTC "
               f"({v.requests:,} requests, {v.active_hours} fleet hours)")
    annotations = Labels({"summary": summary, "value": repr(figure), "threshold": repr(bound),
                          "window": f"{window.start.isoformat()}/{window.end.isoformat()}"})
    labels = _labels(model, PER_1K_ALERTNAME, "per_1k_predictions", limits.severity, v.version)
    return AlertCandidate(labels, annotations, figure > bound)


def _daily(model: Model, bound: float, severity: str, snap: CostSnapshot) -> AlertCandidate:
    today, last = snap.today, snap.last_day
    over_today, over_last = today.spent > bound, last.cost > bound
    if over_today or not over_last:
        day, figure, which = today.day, today.spent, f"today so far, projected {money(today.projected, snap.currency)}"
    else:
        day, figure, which = last.day, last.cost, "the last full UTC day"
    summary = (f"spend of {model.name} on {day.isoformat()}: {money(figure, snap.currency)} vs max_per_day "
               f"{money(bound, snap.currency)} ({which})")
    annotations = Labels({"summary": summary, "value": repr(figure), "threshold": repr(bound), "day": day.isoformat(),
                          "last_full_day": repr(last.cost), "projected_today": repr(today.projected)})
    return AlertCandidate(_labels(model, DAILY_SPEND_ALERTNAME, "spend_per_day", severity), annotations,
                          over_today or over_last)


def cost_alert_candidates(models: Sequence[Model], snapshots: Mapping[str, CostSnapshot]) -> list[AlertCandidate]:
    """One candidate per priced version with a cost per 1,000 predictions and one per model with
    ``max_per_day``, for every model with ``cost_alerts`` and a snapshot; active when over."""
    out: list[AlertCandidate] = []
    for model in models:
        limits, snap = model.cost_alerts, snapshots.get(model.name)
        if limits is None or snap is None:
            continue
        if limits.max_per_1k_predictions is not None:
            out += [c for v in snap.trailing.priced if (c := _per_1k(model, limits, snap, v)) is not None]
        if limits.max_per_day is not None:
            out.append(_daily(model, limits.max_per_day, limits.severity, snap))
    return out
