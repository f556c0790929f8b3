"""Routing tree: matchers, continue, inheritance, group_by (incl. '...'), grouping timers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from alerts.alert import Alert
from alerts.grouping import AggregationGroup, flush, needs_update, next_flush_at, record_sent
from alerts.labels import Labels
from alerts.routing import RouteSpec, build_route_tree, group_key, group_labels, route
from tests.alerts.conftest import NOW

S = timedelta(seconds=1)
MIN = timedelta(minutes=1)

TREE = build_route_tree(
    RouteSpec.model_validate(
        {
            "receiver": "default",
            "group_by": ["model", "slo"],
            "group_wait": "10s",
            "routes": [
                {"matchers": ['severity="page"'], "receiver": "pagerduty", "continue": True, "group_wait": "0s", "repeat_interval": "1h"},
                {
                    "matchers": ['team=~"ml-.*"'],
                    "receiver": "ml-slack",
                    "group_by": ["..."],
                    "routes": [{"matchers": ["kind=drift"], "receiver": "ml-drift", "group_interval": "1h"}],
                },
                {"matchers": ['team=~"ml-.*"'], "receiver": "never-reached"},
                {"matchers": ['severity="ticket"'], "receiver": "tickets"},
            ],
        }
    )
)


def receivers(**labels: str) -> list[str]:
    return [r.receiver for r in route(TREE, labels)]


def test_first_match_wins_unless_continue() -> None:
    assert receivers(severity="page", team="ml-a") == ["pagerduty", "ml-slack"]
    assert receivers(severity="page", team="payments") == ["pagerduty"]
    assert receivers(severity="ticket", team="ml-a") == ["ml-slack"]  # stops at the first team match
    assert receivers(severity="ticket") == ["tickets"]
    assert receivers(severity="info") == ["default"]  # no child matches: the root handles it
    assert [r.receiver for r in route(TREE, Alert(Labels(severity="page"), NOW))] == ["pagerduty"]


def test_nested_routes_and_inheritance() -> None:
    (drift,) = route(TREE, {"team": "ml-a", "kind": "drift"})
    assert drift.receiver == "ml-drift"
    assert drift.group_by == ("...",)  # from ml-slack
    assert drift.group_wait == 10 * S  # from the root
    assert drift.group_interval == timedelta(hours=1)
    assert drift.repeat_interval == timedelta(hours=4)  # Alertmanager default
    (page,) = route(TREE, {"severity": "page"})
    assert (page.group_wait, page.group_interval, page.repeat_interval) == (timedelta(0), 5 * MIN, timedelta(hours=1))
    assert page.group_by == ("model", "slo")


def test_group_by_and_keys() -> None:
    labels = {"model": "m", "slo": "a", "severity": "page", "team": "ml-a", "slice": "country=BR"}
    page, slack = route(TREE, labels)
    assert group_labels(page, labels) == Labels(model="m", slo="a")
    assert group_labels(slack, labels) == Labels(labels)  # '...': every label
    assert group_key(page, labels) == '{}/{severity="page"}[0]:{model="m", slo="a"}'
    assert group_key(page, labels) == group_key(page, {**labels, "slice": "country=US"})
    assert group_key(slack, labels) != group_key(slack, {**labels, "slice": "country=US"})
    # A missing group_by label just leaves it out of the group.
    assert group_labels(page, {"slo": "a"}) == Labels(slo="a")


def test_invalid_trees() -> None:
    with pytest.raises(ValueError, match="root route"):
        build_route_tree(RouteSpec(receiver="x", matchers=("a=b",)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a receiver"):
        build_route_tree(RouteSpec())
    with pytest.raises(ValidationError, match="must be alone"):
        RouteSpec(receiver="x", group_by=("...", "slo"))
    with pytest.raises(ValidationError, match="Extra inputs"):
        RouteSpec.model_validate({"receiver": "x", "grup_by": ["a"]})


# --- grouping timers ------------------------------------------------------------------------

GROUP_ROUTE = build_route_tree(
    RouteSpec(receiver="r", group_by=("slo",), group_wait=30 * S, group_interval=5 * MIN, repeat_interval=timedelta(hours=4))
)


def alert(name: str, start_offset: timedelta = timedelta(0), resolved_at: timedelta | None = None) -> Alert:
    return Alert(Labels(slo="a", alertname=name), NOW + start_offset, ends_at=None if resolved_at is None else NOW + resolved_at)


def new_group() -> AggregationGroup:
    return AggregationGroup(key="k", route=GROUP_ROUTE, labels=Labels(slo="a"), created_at=NOW)


def test_group_wait_before_the_first_notification() -> None:
    group, alerts = new_group(), [alert("x")]
    assert next_flush_at(group, alerts) == NOW + 30 * S
    early = flush(group, alerts, True, NOW + 29 * S)
    assert not early.due and not early.send and early.next_flush_at == NOW + 30 * S
    first = flush(group, alerts + [alert("y", 20 * S)], True, NOW + 30 * S)
    assert first.send and {a.labels["alertname"] for a in first.firing} == {"x", "y"}  # batched
    assert first.next_flush_at == NOW + 30 * S + 5 * MIN


def test_an_old_alert_is_not_held_for_group_wait() -> None:
    old = [alert("x", -10 * MIN)]
    assert next_flush_at(new_group(), old) == NOW - 10 * MIN + 30 * S
    assert flush(new_group(), old, True, NOW).send


def sent(group: AggregationGroup, alerts: list[Alert], now) -> AggregationGroup:
    decision = flush(group, alerts, True, now)
    assert decision.send
    return record_sent(decision.group, decision.log_entry)


def test_group_interval_for_changes_and_repeat_interval_for_resends() -> None:
    t0 = NOW + 30 * S
    group = sent(new_group(), [alert("x")], t0)
    # Nothing changed at the next tick: no message.
    quiet = flush(group, [alert("x")], True, t0 + 5 * MIN)
    assert quiet.due and not quiet.send
    group = quiet.group
    # A new firing alert between ticks waits for the tick, then goes out.
    assert not flush(group, [alert("x"), alert("y", 6 * MIN)], True, t0 + 7 * MIN).due
    changed = flush(group, [alert("x"), alert("y", 6 * MIN)], True, t0 + 10 * MIN)
    assert changed.send and len(changed.firing) == 2
    group = record_sent(changed.group, changed.log_entry)
    # Unchanged and firing: re-sent once repeat_interval has passed, at a tick.
    tick = t0 + 10 * MIN
    for _ in range(47):
        tick += 5 * MIN
        decision = flush(group, [alert("x"), alert("y", 6 * MIN)], True, tick)
        group = decision.group
        assert not decision.send
    tick += 5 * MIN
    assert tick - (t0 + 10 * MIN) == timedelta(hours=4)
    assert flush(group, [alert("x"), alert("y", 6 * MIN)], True, tick).send


def test_resolved_notifications() -> None:
    t0 = NOW + 30 * S
    group = sent(new_group(), [alert("x"), alert("y")], t0)
    partly = flush(group, [alert("x"), alert("y", resolved_at=2 * MIN)], True, t0 + 5 * MIN)
    assert partly.send and [a.labels["alertname"] for a in partly.resolved] == ["y"] and not partly.done
    # Without send_resolved a partial resolution is not worth a message...
    assert not flush(group, [alert("x"), alert("y", resolved_at=2 * MIN)], False, t0 + 5 * MIN).send
    # ...and a full one is recorded without one; the group is done either way.
    silent = flush(group, [alert("x", resolved_at=MIN), alert("y", resolved_at=2 * MIN)], False, t0 + 5 * MIN)
    assert not silent.send and silent.done and silent.group.log is not None
    loud = flush(group, [alert("x", resolved_at=MIN), alert("y", resolved_at=2 * MIN)], True, t0 + 5 * MIN)
    assert loud.send and not loud.firing and len(loud.resolved) == 2 and loud.done


def test_needs_update_cases() -> None:
    from alerts.grouping import NotificationLogEntry

    log = NotificationLogEntry(frozenset({"a"}), frozenset(), NOW)
    assert not needs_update(None, frozenset(), frozenset({"a"}), True, 3600, NOW)  # only resolved, never sent
    assert needs_update(None, frozenset({"a"}), frozenset(), True, 3600, NOW)
    assert needs_update(log, frozenset({"a", "b"}), frozenset(), True, 3600, NOW)
    assert not needs_update(log, frozenset({"a"}), frozenset(), True, 3600, NOW + 59 * MIN)
    assert needs_update(log, frozenset({"a"}), frozenset(), True, 3600, NOW + 60 * MIN)
    never_told = NotificationLogEntry(frozenset(), frozenset(), NOW)
    assert not needs_update(never_told, frozenset(), frozenset({"z"}), True, 3600, NOW)
