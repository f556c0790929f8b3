"""One alert cycle: evaluate every SLO, turn SLO burn and analysis findings into alerts, step
their state, apply silences and inhibition, route, group, and enqueue notifications.

    run_alert_cycle(engine, monitors, now) -> CycleReport

The analysis scheduler calls it after each analysis cycle. Reading counts and evaluating happen
first, outside any lock; then one transaction, under the alert-cycle lock (store.cycle_lock),
writes slo_status, the alert records, the notifications (outbox) and the group state together,
so a notification exists exactly when the state saying it was sent does. Running the cycle
twice at the same ``now`` enqueues nothing the second time; two schedulers never both enqueue
(the second skips, or fails on the outbox key and rolls back). Delivery is alerts.worker's job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from alerts.analysis_alerts import DEFAULT_SEVERITY, finding_candidates
from alerts.config import AlertingConfig, parse_alerting
from alerts.cost_alerts import cost_alert_candidates
from alerts.cycle_plan import Candidate, CyclePlan, plan_cycle
from alerts.notification import Notification
from alerts.ownership import with_ownership
from alerts.page_content import SLICE_METRICS, PageExtras, render_notification
from alerts.persist import enqueue, load_alerts, load_groups, load_silences, save_alerts, save_groups
from alerts.receivers.retrain import RetrainConfig
from alerts.render import Deploy
from alerts.retrain_enqueue import enqueue_retrain
from alerts.slo_alerts import SLO_ALERTNAME, slo_alert_candidates
from alerts.slo_counts import SloKey, read_slo_counts
from alerts.status_rows import history_row, status_row
from alerts.version_alerts import DEFAULT_LOOKBACK as VERSION_LOOKBACK
from alerts.version_alerts import version_candidates
from analysis.cost_figures import cost_snapshots
from analysis.slo.evaluate import SloEvaluation, evaluate_slo
from config.monitors import Monitors
from store.alert_reads import latest_findings, recent_deploys, slice_metrics, write_slo_status
from store.cycle_lock import locked_transaction
from store.slo_reads import epoch_minute

__all__ = ["CycleReport", "run_alert_cycle"]

logger = logging.getLogger("modelwatch.alerts")


@dataclass(frozen=True)
class CycleReport:
    now: datetime
    slos: int
    slo_states: dict[str, int] = field(default_factory=dict)
    candidates: int = 0
    firing: int = 0
    transitions: int = 0
    silenced: int = 0
    inhibited: int = 0
    enqueued: int = 0
    skipped: bool = False  # another scheduler held the alert-cycle lock: it does this cycle
    conflict: bool = False  # lost a race on the outbox key: rolled back, nothing written
    read_s: float = 0.0  # counts and findings from the store
    evaluate_s: float = 0.0  # burn rates and candidates (pure)
    write_s: float = 0.0  # the locked transaction: state, routing, outbox

    @property
    def total_s(self) -> float:
        return self.read_s + self.evaluate_s + self.write_s


def alerting_config(monitors: Monitors) -> AlertingConfig | None:
    """The routing config of ``monitors``, or None when it declares no receivers."""
    if not monitors.receivers:
        return None
    return parse_alerting(monitors.routes, monitors.receivers, monitors.inhibit_rules)


def run_alert_cycle(
    engine: Engine,
    monitors: Monitors,
    now: datetime,
    *,
    alerting: AlertingConfig | None = None,
    keep_resolved: timedelta = timedelta(minutes=15),
    analysis_lookback: timedelta = timedelta(days=2),
    analysis_severity: Mapping[str, str] = DEFAULT_SEVERITY,
    deploy_lookback: timedelta = timedelta(days=7),
    version_lookback: timedelta = VERSION_LOOKBACK,
) -> CycleReport:
    """Run one cycle at ``now`` (aware). ``alerting`` defaults to the monitors' routes and
    receivers; findings older than ``analysis_lookback`` no longer alert; a version outside a
    model's ``expected_versions`` pages while it served requests within ``version_lookback``."""
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    alerting = alerting if alerting is not None else alerting_config(monitors)
    started = time.perf_counter()
    slos = [(model.name, spec) for model in monitors.models for spec in model.slos]
    counts = read_slo_counts(engine, slos, epoch_minute(now))
    teams = {model.name: model.team for model in monitors.models}
    with engine.connect() as conn:
        findings = latest_findings(conn, list(teams), now - analysis_lookback)
        unexpected = version_candidates(conn, monitors.models, now, version_lookback)  # alerts.version_alerts
        costs = cost_snapshots(conn, [m for m in monitors.models if m.cost_alerts], now)  # alerts.cost_alerts
    read_done = time.perf_counter()

    evaluations: dict[SloKey, SloEvaluation] = {}
    candidates: list[Candidate] = []
    statuses = []
    for model, spec in slos:
        evaluation = evaluate_slo(spec, counts[(model, spec.name)])
        evaluations[(model, spec.name)] = evaluation
        statuses.append(status_row(model, evaluation, now))
        candidates += [Candidate(c, "slo", spec.for_) for c in slo_alert_candidates(spec, evaluation, model, model_team=teams[model])]
    candidates += [Candidate(c, "analysis") for c in finding_candidates(findings, teams, analysis_severity)]
    candidates += [Candidate(c, "version") for c in unexpected]
    candidates += [Candidate(c, "cost") for c in cost_alert_candidates(monitors.models, costs)]
    states: dict[str, int] = {}
    for row in statuses:
        states[row["state"]] = states.get(row["state"], 0) + 1
    evaluated = time.perf_counter()

    report = CycleReport(now, len(slos), states, len(candidates), read_s=read_done - started, evaluate_s=evaluated - read_done)
    try:
        with locked_transaction(engine) as conn:
            if conn is None:
                logger.info("alert cycle at %s skipped: another scheduler holds the lock", now.isoformat())
                return _done(report, evaluated, skipped=True)
            write_slo_status(conn, statuses, [history_row(s) for s in statuses])
            plan = plan_cycle(
                with_ownership(candidates, monitors), load_alerts(conn), load_groups(conn), load_silences(conn, now),
                alerting.inhibit_rules if alerting else (), alerting.tree() if alerting else None,
                {r.name: r.send_resolved for r in alerting.receivers} if alerting else {}, now, keep_resolved,
            )
            save_alerts(conn, plan.alerts, now)
            retrain = alerting.retrain_receivers() if alerting else {}
            enqueued = _enqueue_all(conn, plan, evaluations, monitors, now, deploy_lookback, retrain)
            save_groups(conn, plan.groups)
    except IntegrityError:
        # Another scheduler enqueued the same group message first (both passed the lock, e.g.
        # SQLite after a busy timeout): this whole cycle rolled back; its state is the other's.
        logger.warning("alert cycle at %s lost a race on the outbox key; rolled back", now.isoformat())
        return _done(report, evaluated, conflict=True)
    return _done(report, evaluated, firing=plan.firing, transitions=plan.transitions, silenced=plan.silenced,
                 inhibited=plan.inhibited, enqueued=enqueued)


def _done(report: CycleReport, since: float, **changes: object) -> CycleReport:
    return replace(report, write_s=time.perf_counter() - since, **changes)  # type: ignore[arg-type]


def _enqueue_all(conn: Connection, plan: CyclePlan, evaluations: Mapping[SloKey, SloEvaluation], monitors: Monitors,
                 now: datetime, deploy_lookback: timedelta, retrain: Mapping[str, RetrainConfig]) -> int:
    extras: dict[str, PageExtras] = {}
    for out in plan.outgoing:
        for alert in out.alerts:
            model, slo = alert.labels.get("model", ""), alert.labels.get("slo", "")
            evaluation = evaluations.get((model, slo))
            if alert.labels.get("alertname") == SLO_ALERTNAME and evaluation is not None:
                extras[model] = _page_extras(conn, model, evaluation, extras.get(model), now, deploy_lookback)
    enqueued = 0
    for out in plan.outgoing:
        if out.group.receiver in retrain:  # gated: cooldown and daily cap per model (alerts.retrain)
            enqueued += enqueue_retrain(conn, out, retrain[out.group.receiver], monitors.dashboard_url, now)
            continue
        content, link = render_notification(out.alerts, out.group.labels, evaluations, extras, monitors.dashboard_url, now)
        notification = Notification(out.group.receiver, out.group.key, out.group.labels, out.alerts, content, now, link)
        enqueue(conn, notification, out.sequence, now)
        enqueued += 1
    return enqueued


def _page_extras(conn: Connection, model: str, evaluation: SloEvaluation, known: PageExtras | None, now: datetime,
                 lookback: timedelta) -> PageExtras:
    """Deploys of the model and its per-slice metric for this SLO kind (each read once a cycle)."""
    if known is None:
        deploys = tuple(Deploy(d.version, d.deployed_at, d.note, d.source, d.artifact_sha256)
                        for d in recent_deploys(conn, model, now - lookback))
        known = PageExtras({}, deploys)
    metric = SLICE_METRICS.get(evaluation.kind)
    if metric is None or metric[0] in known.slices:
        return known
    rows = tuple(slice_metrics(conn, model, metric[0], now - timedelta(days=2)))
    return PageExtras({**known.slices, metric[0]: rows}, known.deploys)
