"""Page content as a pure function of values: what the on-call engineer needs to act.

SLO and objective, burn per window against its threshold, budget left, time to exhaustion,
worst slices, recent deploys, and links (dashboard, runbook). The scheduler gathers the inputs
(evaluation, slice burns, model_versions) and passes them in; nothing here reads a database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.alert import Alert, AlertStatus
from alerts.labels import Labels
from alerts.notification import Link, PageContent
from alerts.ownership import ownership_details, runbook_links
from config.ownership import Ownership
from config.durations import format_duration
from analysis.slo.evaluate import SloEvaluation

__all__ = ["Deploy", "PageContext", "SliceBurn", "WindowBurnView", "page_context", "render_alerts", "render_page"]


@dataclass(frozen=True)
class WindowBurnView:
    window: timedelta
    burn_rate: float
    threshold: float | None = None


@dataclass(frozen=True)
class SliceBurn:
    slice: str  # e.g. "country=BR"
    burn_rate: float
    events: float


@dataclass(frozen=True)
class Deploy:
    version: str
    deployed_at: datetime
    description: str | None = None
    source: str | None = None  # api | cli | sdk (inferred from first traffic)
    artifact_sha256: str | None = None


def _deploy_line(d: Deploy, now: datetime) -> str:
    """``2.5.0 2h ago via api, artifact 5891b5b522d5 (note)``: enough of the sha to tell builds apart."""
    how = ", ".join(part for part in (f"via {d.source}" if d.source else "",
                                      f"artifact {d.artifact_sha256[:12]}" if d.artifact_sha256 else "") if part)
    return (f"{d.version} {_ago(d.deployed_at, now)}" + (f" {how}" if how else "")
            + (f" ({d.description})" if d.description else ""))


@dataclass(frozen=True)
class PageContext:
    model: str
    slo: str
    sli: str
    severity: str
    objective: float
    status: AlertStatus
    now: datetime
    burns: tuple[WindowBurnView, ...] = ()
    budget_remaining: float | None = None
    time_to_exhaustion: timedelta | None = None
    worst_slices: tuple[SliceBurn, ...] = ()
    recent_deploys: tuple[Deploy, ...] = ()
    dashboard_url: str | None = None
    runbook_url: str | None = None
    version: str | None = None
    owner: str | None = None  # who owns the SLO (config.ownership): shown with the team on the page
    team: str | None = None


def _burn(value: float) -> str:
    return "no data" if math.isnan(value) else f"{value:.1f}x"


def _ago(then: datetime, now: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    return format_duration(timedelta(seconds=seconds - seconds % 60 if seconds >= 3600 else seconds)) + " ago"


def render_page(ctx: PageContext) -> PageContent:
    """Return title, one-line summary, plain-text body, detail fields and links."""
    where = ctx.model if ctx.version is None else f"{ctx.model} {ctx.version}"
    state = "burning error budget" if ctx.status is AlertStatus.firing else "resolved"
    title = f"{where}: SLO {ctx.slo} {state} ({ctx.severity})"
    burns = ", ".join(
        f"{_burn(b.burn_rate)} over {format_duration(b.window)}" + (f" (threshold {b.threshold:g}x)" if b.threshold else "")
        for b in ctx.burns
    )
    details: dict[str, str] = {"SLO": f"{ctx.slo} ({ctx.sli}) objective {ctx.objective * 100:g} %"}
    if burns:
        details["Burn rate"] = burns
    if ctx.budget_remaining is not None and not math.isnan(ctx.budget_remaining):
        details["Budget left"] = f"{ctx.budget_remaining * 100:.1f} %"
    if ctx.status is AlertStatus.firing:
        details["Time to exhaustion"] = (
            "not being spent" if ctx.time_to_exhaustion is None else format_duration(timedelta(seconds=round(ctx.time_to_exhaustion.total_seconds())))
        )
    if ctx.worst_slices:
        details["Worst slices"] = "; ".join(f"{s.slice}: {_burn(s.burn_rate)} ({s.events:,.0f} events)" for s in ctx.worst_slices)
    if ctx.recent_deploys:
        details["Recent deploys"] = "; ".join(_deploy_line(d, ctx.now) for d in ctx.recent_deploys)
    details.update(ownership_details([Ownership(ctx.owner, ctx.team)]))
    summary = f"{where} is spending the {ctx.slo} error budget at {burns or 'an unknown rate'}." if ctx.status is AlertStatus.firing else f"{where}: {ctx.slo} is back within its burn-rate thresholds."
    links = []
    if ctx.dashboard_url:
        links.append(Link(ctx.dashboard_url, "Dashboard"))
    if ctx.runbook_url:
        links.append(Link(ctx.runbook_url, "Runbook"))
    text = "\n".join([title, "", summary, "", *(f"{k}: {v}" for k, v in details.items())])
    return PageContent(title=title, summary=summary, text=text, details=details, links=tuple(links))


def page_context(
    evaluation: SloEvaluation,
    model: str,
    severity: str,
    status: AlertStatus,
    now: datetime,
    **extra: object,
) -> PageContext:
    """A PageContext from an SLO evaluation: burn per window of the rules of ``severity``."""
    burns: list[WindowBurnView] = []
    for rule in evaluation.rules:
        if rule.rule.severity == severity:
            for window in (rule.long, rule.short):
                burns.append(WindowBurnView(window.window, window.burn_rate, rule.rule.burn_rate))
    return PageContext(
        model=model,
        slo=evaluation.slo,
        sli=evaluation.kind.value,
        severity=severity,
        objective=evaluation.objective,
        status=status,
        now=now,
        burns=tuple(burns),
        budget_remaining=evaluation.budget.remaining,
        time_to_exhaustion=evaluation.budget.time_to_exhaustion,
        **extra,  # type: ignore[arg-type]
    )


def render_alerts(alerts: Sequence[Alert], group_labels: Labels) -> PageContent:
    """Generic content for any alerts (drift, data quality...): from their ``summary`` annotations."""
    firing = [a for a in alerts if a.status is AlertStatus.firing]
    status = "firing" if firing else "resolved"
    name = group_labels.get("alertname") or alerts[0].labels.get("alertname", "alert")
    title = f"{name} {status}: " + ", ".join(f"{k}={v}" for k, v in group_labels.items() if k != "alertname")
    lines = [f"[{a.status.value}] " + a.annotations.get("summary", repr(a.labels)) for a in alerts]
    summary = lines[0] if len(lines) == 1 else f"{len(firing)} firing, {len(alerts) - len(firing)} resolved"
    owners = [Ownership.from_annotations(a.annotations) for a in alerts]
    details = ownership_details(owners)
    lines += ["", *(f"{k}: {v}" for k, v in details.items())] if details else []
    runbooks = runbook_links((o.runbook_url, _subject(a.labels)) for a, o in zip(alerts, owners) if o.runbook_url)
    links = runbooks + tuple(Link(a.generator_url, "Source") for a in alerts[:1] if a.generator_url)
    return PageContent(title=title.rstrip(": "), summary=summary, text="\n".join(lines), details=details, links=links)


def _subject(labels: Labels) -> str:
    """What an alert is about, for telling runbook links apart: ``model`` or ``model/slo``."""
    return "/".join(v for v in (labels.get("model"), labels.get("slo")) if v) or labels.get("alertname", "alert")
