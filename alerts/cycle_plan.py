"""One alert cycle's decisions, pure: state steps, silences, inhibition, routing and group flushes.

``plan_cycle`` takes this cycle's alert candidates, the stored alert records and aggregation
groups, active silences, inhibition rules and the routing tree, and returns the alert rows and
group rows to store and the notifications to enqueue (content is rendered by the caller). The
caller writes all of it in one transaction, so a notification is enqueued exactly when the group
log that says it was sent is stored: the transactional outbox.

- A stored alert without a candidate this cycle is stepped as inactive (it resolves).
- Silences mute firing alerts only: a resolve still reaches the receiver that was paged.
- A group closes once a flush finds nothing firing; only a firing alert reopens it, afresh
  (new group_wait), keeping its sequence so outbox keys never repeat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alerts.alert import Alert, AlertStatus
from alerts.grouping import AggregationGroup, NotificationLogEntry, flush, record_sent
from alerts.inhibition import InhibitRule, is_inhibited
from alerts.labels import Labels
from alerts.routing import Route, group_key, group_labels, route
from alerts.silences import Silence, silenced_by
from alerts.slo_alerts import AlertCandidate, alert_for_record
from alerts.state import AlertRecord, AlertState, step

__all__ = ["Candidate", "CyclePlan", "GroupRow", "Outgoing", "StoredAlert", "all_routes", "plan_cycle"]


@dataclass(frozen=True)
class Candidate:
    """An alert identity this cycle, where it comes from, and how long it must hold to fire."""

    alert: AlertCandidate
    source: str  # slo | analysis
    for_: timedelta = timedelta(0)


@dataclass(frozen=True)
class StoredAlert:
    labels: Labels
    annotations: Labels
    source: str
    record: AlertRecord
    silenced_by: tuple[str, ...] = ()
    inhibited: bool = False


@dataclass(frozen=True)
class GroupRow:
    key: str
    receiver: str
    labels: Labels
    created_at: datetime
    last_flush_at: datetime | None = None
    log: NotificationLogEntry | None = None
    sequence: int = 0
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Outgoing:
    """A notification to enqueue: render its content, then insert it with this sequence."""

    group: GroupRow
    alerts: tuple[Alert, ...]
    sequence: int


@dataclass(frozen=True)
class CyclePlan:
    alerts: dict[str, StoredAlert]  # fingerprint -> row to store (changed or still live)
    groups: list[GroupRow]  # rows to store
    outgoing: list[Outgoing]
    firing: int = 0
    silenced: int = 0
    inhibited: int = 0
    transitions: int = 0
    routed: dict[str, int] = field(default_factory=dict)  # receiver -> live alerts routed to it


def all_routes(tree: Route) -> list[Route]:
    """Every node of the tree, depth first."""
    return [tree, *(node for child in tree.routes for node in all_routes(child))]


def _step_all(candidates: Sequence[Candidate], stored: Mapping[str, StoredAlert], now: datetime,
              keep_resolved: timedelta) -> tuple[dict[str, StoredAlert], list[Alert], int]:
    rows: dict[str, StoredAlert] = {}
    alerts: list[Alert] = []
    transitions = 0
    seen: set[str] = set()
    idents = [(c.alert, c.source, c.for_) for c in candidates]
    current = {c.alert.labels.fingerprint for c in candidates}
    for fp, kept in stored.items():
        if fp not in current and kept.record.state is not AlertState.inactive:
            idents.append((AlertCandidate(kept.labels, kept.annotations, False), kept.source, timedelta(0)))
    for ident, source, for_ in idents:
        fp = ident.labels.fingerprint
        if fp in seen:
            continue
        seen.add(fp)
        old = stored.get(fp)
        previous = old.record if old is not None else AlertRecord()
        result = step(previous, ident.active, now, for_, keep_resolved)
        transitions += len(result.transitions)
        if result.record.state is AlertState.inactive and not result.transitions:
            continue  # nothing happened and nothing to remember
        rows[fp] = StoredAlert(ident.labels, ident.annotations, source, result.record)
        alert = alert_for_record(ident, result.record)
        if alert is not None:
            alerts.append(alert)
    return rows, alerts, transitions


def plan_cycle(
    candidates: Sequence[Candidate],
    stored: Mapping[str, StoredAlert],
    groups: Mapping[str, GroupRow],
    silences: Iterable[Silence],
    inhibit_rules: Iterable[InhibitRule],
    tree: Route | None,
    send_resolved: Mapping[str, bool],
    now: datetime,
    keep_resolved: timedelta = timedelta(minutes=15),
) -> CyclePlan:
    """Decide this cycle; see the module docstring."""
    rows, alerts, transitions = _step_all(candidates, stored, now, keep_resolved)
    silences, rules = tuple(silences), tuple(inhibit_rules)
    live: list[Alert] = []
    n_silenced = n_inhibited = 0
    for alert in alerts:
        firing = alert.status is AlertStatus.firing
        muted_by = silenced_by(alert, silences, now) if firing else ()
        inhibited = firing and is_inhibited(alert, alerts, rules)
        rows[alert.fingerprint] = replace(rows[alert.fingerprint], silenced_by=muted_by, inhibited=inhibited)
        n_silenced += bool(muted_by)
        n_inhibited += inhibited
        if not muted_by and not inhibited:
            live.append(alert)
    n_firing = sum(a.status is AlertStatus.firing for a in alerts)
    if tree is None:
        return CyclePlan(rows, [], [], n_firing, n_silenced, n_inhibited, transitions)
    members: dict[str, list[Alert]] = {}
    nodes: dict[str, tuple[Route, Labels]] = {}
    routed: dict[str, int] = {}
    for alert in live:
        for node in route(tree, alert.labels):
            key = group_key(node, alert.labels)
            nodes[key] = (node, group_labels(node, alert.labels))
            members.setdefault(key, []).append(alert)
            routed[node.receiver] = routed.get(node.receiver, 0) + 1
    # Open groups no alert reaches any more still flush once, to close (and send a resolve).
    for key, row in groups.items():
        if key not in nodes and row.closed_at is None:
            found = _route_of(tree, row)
            if found is not None:
                nodes[key] = (found, row.labels)
    out_groups: list[GroupRow] = []
    outgoing: list[Outgoing] = []
    for key in sorted(nodes):
        node, labels = nodes[key]
        flushed = _flush_group(groups.get(key), key, node, labels, members.get(key, []), send_resolved.get(node.receiver, True), now)
        if flushed is not None:
            out_groups.append(flushed[0])
            if flushed[1] is not None:
                outgoing.append(flushed[1])
    return CyclePlan(rows, out_groups, outgoing, n_firing, n_silenced, n_inhibited, transitions, routed)


def _route_of(tree: Route, row: GroupRow) -> Route | None:
    return next((n for n in all_routes(tree) if group_key(n, row.labels) == row.key and n.receiver == row.receiver), None)


def _flush_group(row: GroupRow | None, key: str, node: Route, labels: Labels, alerts: list[Alert], send_resolved: bool,
                 now: datetime) -> tuple[GroupRow, Outgoing | None] | None:
    any_firing = any(a.status is AlertStatus.firing for a in alerts)
    if row is None or row.closed_at is not None:
        if not any_firing:
            return None  # only resolved alerts: nothing to tell a closed group
        row = GroupRow(key, node.receiver, labels, now, sequence=row.sequence if row else 0)
    group = AggregationGroup(key, node, labels, row.created_at, row.last_flush_at, row.log)
    decision = flush(group, alerts, send_resolved, now)
    if not decision.due:
        return (row, None) if row.last_flush_at is None and row.log is None else None
    after = decision.group
    sent: Outgoing | None = None
    sequence = row.sequence
    if decision.send and decision.log_entry is not None:
        sequence += 1
        after = record_sent(after, decision.log_entry)
    updated = replace(row, last_flush_at=after.last_flush_at, log=after.log, sequence=sequence,
                      closed_at=now if decision.done else None)
    if decision.send:
        sent = Outgoing(updated, decision.firing + decision.resolved, sequence)
    return updated, sent
