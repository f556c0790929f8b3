"""Inhibition rules and silences with expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from alerts.alert import Alert
from alerts.inhibition import DEFAULT_INHIBIT_RULES, InhibitRule, inhibiting_rule, is_inhibited
from alerts.labels import Labels
from alerts.silences import Silence, SilenceState, active_silences, is_silenced, silenced_by
from tests.alerts.conftest import NOW, page_labels

MIN = timedelta(minutes=1)


def alert(resolved: bool = False, **overrides: str) -> Alert:
    return Alert(page_labels(**overrides), NOW - MIN, ends_at=NOW if resolved else None)


def test_a_page_inhibits_the_ticket_of_the_same_slo() -> None:
    page, ticket = alert(), alert(severity="ticket")
    assert is_inhibited(ticket, [page, ticket], DEFAULT_INHIBIT_RULES)
    assert not is_inhibited(page, [page, ticket], DEFAULT_INHIBIT_RULES)
    assert not is_inhibited(ticket, [alert(slo="latency"), ticket], DEFAULT_INHIBIT_RULES)
    assert not is_inhibited(ticket, [alert(slice="country=BR"), ticket], DEFAULT_INHIBIT_RULES)
    assert not is_inhibited(ticket, [alert(resolved=True), ticket], DEFAULT_INHIBIT_RULES)  # only firing sources


def test_equal_labels_missing_on_both_sides_count_as_equal() -> None:
    rule = InhibitRule(source_matchers=("kind=outage",), target_matchers=("kind=drift",), equal=("cluster",))  # type: ignore[arg-type]
    source = Alert(Labels(kind="outage"), NOW)
    assert is_inhibited(Alert(Labels(kind="drift"), NOW), [source], [rule])
    assert not is_inhibited(Alert(Labels(kind="drift", cluster="eu"), NOW), [source], [rule])


def test_alerts_matching_both_sides_do_not_inhibit_each_other() -> None:
    rule = InhibitRule(source_matchers=('severity=~"page|ticket"',), target_matchers=('severity=~"page|ticket"',), equal=("slo",))  # type: ignore[arg-type]
    a, b = alert(), alert(severity="ticket")
    assert inhibiting_rule(a, [a, b], [rule]) is None
    assert inhibiting_rule(b, [a, b], [rule]) is None


def silence(**overrides: object) -> Silence:
    values = {
        "id": "s1",
        "matchers": ['model="fraud-detector"', 'severity=~"page|ticket"'],
        "starts_at": NOW,
        "ends_at": NOW + 60 * MIN,
        "created_by": "alice",
        "comment": "deploying v8",
    }
    return Silence.model_validate({**values, **overrides})


def test_silence_lifecycle_and_expiry() -> None:
    s = silence()
    target = alert()
    assert s.state(NOW - MIN) is SilenceState.pending and not is_silenced(target, [s], NOW - MIN)
    assert s.state(NOW) is SilenceState.active and is_silenced(target, [s], NOW)
    assert silenced_by(target, [s], NOW + 59 * MIN) == ("s1",)
    assert s.state(NOW + 60 * MIN) is SilenceState.expired and not is_silenced(target, [s], NOW + 60 * MIN)
    assert not is_silenced(alert(model="other"), [s], NOW)
    expired = s.expire(NOW + 10 * MIN)
    assert expired.ends_at == NOW + 10 * MIN and not is_silenced(target, [expired], NOW + 10 * MIN)
    assert expired.created_by == "alice" and expired.comment == "deploying v8"
    early = s.expire(NOW - 5 * MIN)  # a pending silence expired before it began
    assert early.state(NOW) is SilenceState.expired
    assert active_silences([s, expired], NOW + 20 * MIN) == (s,)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"matchers": []}, "at least 1"),
        ({"matchers": ['team=~".*"']}, "every alert"),
        ({"ends_at": NOW - MIN}, "before it starts"),
        ({"comment": ""}, "at least 1"),
        ({"starts_at": NOW.replace(tzinfo=None)}, "timezone"),
    ],
)
def test_invalid_silences(overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        silence(**overrides)
