"""Labels, matchers, fingerprints and the alert state machine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from alerts.alert import Alert, AlertStatus
from alerts.labels import Labels, fingerprint
from alerts.matchers import Matcher, MatchOp, parse_matcher
from alerts.state import AlertRecord, AlertState, Notify, step
from tests.alerts.conftest import NOW

MIN = timedelta(minutes=1)


def test_labels_are_frozen_sorted_and_drop_empty_values() -> None:
    labels = Labels({"slo": "a", "model": "m", "slice": ""})
    assert list(labels) == ["model", "slo"] and "slice" not in labels
    assert labels == {"model": "m", "slo": "a"} and hash(labels) == hash(Labels(slo="a", model="m"))
    assert repr(labels) == '{model="m", slo="a"}'
    with pytest.raises(TypeError):
        labels["x"] = "y"  # type: ignore[index]
    with pytest.raises(ValueError, match="label name"):
        Labels({"bad-name": "x"})
    assert labels.merge({"slo": "", "team": "t"}) == {"model": "m", "team": "t"}


def test_fingerprint_is_stable_and_order_independent() -> None:
    a = Labels(model="m", slo="a", severity="page")
    assert a.fingerprint == fingerprint({"severity": "page", "slo": "a", "model": "m"})
    assert a.fingerprint == "8722f10530b1c6fa"  # pinned: must not change across releases
    assert Labels(a="b,c").fingerprint != Labels(a="b", c="").fingerprint
    assert Labels(a="b", c="d").fingerprint != Labels(a="bc", d="").fingerprint


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ('severity="page"', {"severity": "page"}, True),
        ("severity=page", {"severity": "pager"}, False),
        ('team!="ml"', {}, True),  # absent label matches as ""
        ('severity=~"page|ticket"', {"severity": "ticket"}, True),
        ('severity=~"page"', {"severity": "pager"}, False),  # anchored
        ('model!~"shadow-.*"', {"model": "shadow-1"}, False),
        ('model!~"shadow-.*"', {"model": "fraud"}, True),
        ('slo=~".*"', {}, True),
        ('note="a \\"quoted\\" value"', {"note": 'a "quoted" value'}, True),
    ],
)
def test_matchers(text: str, labels: dict, expected: bool) -> None:
    assert parse_matcher(text).matches(labels) is expected


def test_matcher_forms_and_errors() -> None:
    assert Matcher.model_validate({"name": "a", "op": "=~", "value": "x"}) == parse_matcher('a=~"x"')
    assert parse_matcher("a != b").op is MatchOp.not_equal
    assert str(parse_matcher('a=~"x|y"')) == 'a=~"x|y"'
    with pytest.raises(ValidationError, match="not like"):
        parse_matcher("no operator")
    with pytest.raises(ValidationError, match="invalid regex"):
        parse_matcher('a=~"("')


def test_alert_status() -> None:
    alert = Alert.create({"slo": "a"}, NOW)
    assert alert.status is AlertStatus.firing and alert.fingerprint == Labels(slo="a").fingerprint
    assert alert.resolve(NOW + MIN).status is AlertStatus.resolved
    with pytest.raises(ValueError, match="before it starts"):
        alert.resolve(NOW - MIN)


def run(states: list[bool], for_: timedelta = timedelta(0)) -> list[tuple[AlertState, Notify | None]]:
    record, out = AlertRecord(), []
    for minute, active in enumerate(states):
        result = step(record, active, NOW + minute * MIN, for_)
        record = result.record
        out.append((record.state, result.notify))
    return out


def test_state_machine_without_for() -> None:
    assert run([False, True, True, False, False]) == [
        (AlertState.inactive, None),
        (AlertState.firing, Notify.firing),
        (AlertState.firing, None),
        (AlertState.resolved, Notify.resolved),
        (AlertState.resolved, None),
    ]


def test_state_machine_with_for_and_flapping() -> None:
    assert run([True, True, False, True, True, True, False], for_=2 * MIN) == [
        (AlertState.pending, None),
        (AlertState.pending, None),
        (AlertState.inactive, None),  # never fired: no notification at all
        (AlertState.pending, None),
        (AlertState.pending, None),
        (AlertState.firing, Notify.firing),
        (AlertState.resolved, Notify.resolved),
    ]


def test_transitions_and_resolved_retention() -> None:
    first = step(AlertRecord(), True, NOW)
    assert [(t.source, t.target) for t in first.transitions] == [(AlertState.inactive, AlertState.firing)]
    assert first.record.active_since == first.record.fired_at == NOW
    resolved = step(first.record, False, NOW + MIN).record
    assert resolved.resolved_at == NOW + MIN and resolved.active_since == NOW
    assert step(resolved, False, NOW + 10 * MIN).record.state is AlertState.resolved
    assert step(resolved, False, NOW + 16 * MIN).record.state is AlertState.inactive
    again = step(resolved, True, NOW + 2 * MIN)
    assert again.notify is Notify.firing and again.record.active_since == NOW + 2 * MIN
