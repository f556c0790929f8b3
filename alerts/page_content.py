"""What a notification says, from values the cycle gathered: SLO pages get the full page
(burn per window, budget left, time to exhaustion, worst slices, recent deploys, dashboard
link); anything else the generic summary of its alerts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from alerts.alert import Alert, AlertStatus
from alerts.labels import Labels
from alerts.notification import PageContent
from alerts.render import Deploy, SliceBurn, page_context, render_alerts, render_page
from alerts.slo_alerts import SLO_ALERTNAME
from analysis.slo.evaluate import SloEvaluation
from config.ownership import Ownership
from config.slo import SloKind

__all__ = ["SLICE_METRICS", "PageExtras", "dashboard_link", "render_notification", "worst_slices"]

# Per SLO kind, the per-slice performance metric that shows where the budget burns, and how
# it turns into an error ratio.
SLICE_METRICS: dict[SloKind, tuple[str, bool]] = {
    SloKind.quality: ("accuracy", True),  # error ratio = 1 - accuracy
    SloKind.availability: ("error_rate", False),  # error ratio = the value
    SloKind.latency: ("slow_rate", False),  # share slower than the first latency SLO's threshold
}


@dataclass(frozen=True)
class PageExtras:
    """Context read from the store for one model's SLO page."""

    slices: Mapping[str, tuple[tuple[str, float, int], ...]] = field(default_factory=dict)  # metric -> (slice, value, n)
    deploys: tuple[Deploy, ...] = ()


def worst_slices(slices: Mapping[str, Sequence[tuple[str, float, int]]], kind: SloKind, objective: float,
                 limit: int = 3) -> tuple[SliceBurn, ...]:
    """The ``limit`` slices burning fastest: burn = slice error ratio / (1 - objective), from the
    per-slice metric of this SLO kind (``SLICE_METRICS``) in ``slices`` (metric -> rows)."""
    if kind not in SLICE_METRICS:
        return ()
    metric, complement = SLICE_METRICS[kind]
    rows = slices.get(metric, ())
    burns = [SliceBurn(name, ((1.0 - value) if complement else value) / (1.0 - objective), float(n)) for name, value, n in rows]
    return tuple(sorted(burns, key=lambda s: -s.burn_rate)[:limit])


def dashboard_link(base: str | None, model: str, slo: str | None = None) -> str | None:
    if not base:
        return None
    query = {"model": model, **({"slo": slo} if slo else {})}
    return f"{base.rstrip('/')}/?{urlencode(query)}"


def render_notification(
    alerts: Sequence[Alert],
    group_labels: Labels,
    evaluations: Mapping[tuple[str, str], SloEvaluation],
    extras: Mapping[str, PageExtras],
    dashboard_url: str | None,
    now: datetime,
) -> tuple[PageContent, str | None]:
    """The content and dashboard link of a notification about ``alerts``."""
    first = alerts[0].labels
    model, slo = first.get("model", ""), first.get("slo", "")
    same_slo = all(a.labels.get("alertname") == SLO_ALERTNAME and a.labels.get("model") == model and a.labels.get("slo") == slo for a in alerts)
    evaluation = evaluations.get((model, slo)) if same_slo else None
    if evaluation is None:
        return render_alerts(alerts, group_labels), dashboard_link(dashboard_url, model) if model else dashboard_url
    firing = [a for a in alerts if a.status is AlertStatus.firing]
    status = AlertStatus.firing if firing else AlertStatus.resolved
    severity = (firing or list(alerts))[0].labels.get("severity", "")
    extra = extras.get(model, PageExtras())
    link = dashboard_link(dashboard_url, model, slo)
    ownership = Ownership.from_annotations(alerts[0].annotations)  # alerts.ownership put them there
    context = page_context(
        evaluation, model, severity, status, now,
        worst_slices=worst_slices(extra.slices, evaluation.kind, evaluation.objective),
        recent_deploys=extra.deploys,
        dashboard_url=link,
        runbook_url=ownership.runbook_url or first.get("runbook_url") or None,
        owner=ownership.owner,
        team=ownership.team or first.get("team") or None,
        version=first.get("version") or None,
    )
    return render_page(context), link
