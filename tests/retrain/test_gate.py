"""The retrain gate as a pure function: cooldown, rolling 24 h cap and its boundary, which block
is reported, one recorded hold per group per window, sustained alerts, and the config checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from alerts.alert import Alert
from alerts.config import parse_alerting
from alerts.retrain import DAY, PastTrigger, RetrainPolicy, TriggerStatus, decide, history_start, sustained

T0 = datetime(2025, 3, 1, 22, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
SENT, COOLDOWN, CAPPED = TriggerStatus.sent, TriggerStatus.cooldown, TriggerStatus.capped


def sent(*hours: float, group: str = "g") -> list[PastTrigger]:
    return [PastTrigger(T0 + h * H, SENT, group) for h in hours]


def test_first_trigger_is_sent_and_says_when_the_next_may_follow() -> None:
    d = decide([], "g", T0, RetrainPolicy(4 * H, 3))
    assert (d.status, d.record, d.next_allowed_at, d.sent_in_last_24h) == (SENT, True, T0 + 4 * H, 1)


def test_cooldown_holds_until_exactly_its_end() -> None:
    policy = RetrainPolicy(4 * H, 3)
    held = decide(sent(0), "g", T0 + 4 * H - timedelta(seconds=1), policy)
    assert (held.status, held.next_allowed_at, held.sent_in_last_24h) == (COOLDOWN, T0 + 4 * H, 1)
    assert decide(sent(0), "g", T0 + 4 * H, policy).status is SENT


def test_cap_counts_any_24_hours_across_midnight() -> None:
    # T0 is 22:00 UTC: a calendar-day cap would allow three more right after midnight.
    policy = RetrainPolicy(1 * H, 3)
    history = sent(0, 1, 2)
    d = decide(history, "g", T0 + 3 * H, policy)  # 01:00 the next day
    assert (d.status, d.next_allowed_at, d.sent_in_last_24h) == (CAPPED, T0 + DAY, 3)
    assert decide(history, "g", T0 + DAY - timedelta(microseconds=1), policy).status is CAPPED
    free = decide(history, "g", T0 + DAY, policy)  # the first one is 24 h old: two left in the window
    assert (free.status, free.sent_in_last_24h, free.next_allowed_at) == (SENT, 3, T0 + DAY + H * 1)


def test_after_a_send_that_fills_the_cap_next_allowed_is_the_cap_end() -> None:
    d = decide(sent(0, 5), "g", T0 + 10 * H, RetrainPolicy(4 * H, 3))
    assert (d.status, d.sent_in_last_24h, d.next_allowed_at) == (SENT, 3, T0 + DAY)


def test_the_longer_block_names_the_status() -> None:
    policy = RetrainPolicy(8 * H, 2)
    # Cooldown ends at 9h, the cap (two in 24 h) at 24h: capped is what really holds it.
    assert decide(sent(0, 1), "g", T0 + 2 * H, policy).status is CAPPED
    # Cap of 3 not reached: the cooldown holds.
    assert decide(sent(0), "g", T0 + 2 * H, RetrainPolicy(8 * H, 3)).status is COOLDOWN


def test_a_hold_is_recorded_once_per_group_per_window() -> None:
    policy = RetrainPolicy(4 * H, 3)
    history = sent(0)
    first = decide(history, "g", T0 + H, policy)
    assert first.record
    history.append(PastTrigger(T0 + H, COOLDOWN, "g"))
    assert not decide(history, "g", T0 + 2 * H, policy).record
    assert decide(history, "other-group", T0 + 2 * H, policy).record  # another group: its own row
    # After the next trigger, a new window: the first hold is recorded again.
    history += sent(4)
    assert decide(history, "g", T0 + 5 * H, policy).record


def test_triggers_in_the_future_are_ignored_and_history_start_covers_both_windows() -> None:
    policy = RetrainPolicy(30 * H, 3)
    assert decide(sent(5), "g", T0, policy).status is SENT
    assert history_start(T0, policy) == T0 - 30 * H
    assert history_start(T0, RetrainPolicy(H, 3)) == T0 - DAY


def test_only_alerts_firing_long_enough_count() -> None:
    old = Alert.create({"alertname": "FeatureDrift", "feature": "amount"}, T0 - 2 * H)
    new = Alert.create({"alertname": "FeatureDrift", "feature": "country"}, T0 - 10 * 60 * timedelta(seconds=1))
    gone = old.resolve(T0)
    assert sustained([old, new, gone], T0, H) == (old,)
    assert sustained([old, new], T0, timedelta(0)) == (old, new)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_per_day"):
        RetrainPolicy(H, 0)


def alerting(receiver: dict, route: dict) -> object:
    return parse_alerting({"receiver": "slack", "routes": [route]},
                          [{"name": "slack", "type": "slack", "webhook_url_env": "SLACK_URL"}, receiver])


RETRAIN = {"name": "retrain", "type": "retrain", "url": "http://ml.local/hook", "secret_env": "RETRAIN_SECRET",
           "cooldown": "4h", "max_per_day": 3, "sustained_for": "1h"}


def test_retrain_receiver_config() -> None:
    config = alerting(RETRAIN, {"receiver": "retrain", "group_by": ["model"],
                                "matchers": ['alertname="FeatureDrift"', 'feature=~"amount|country"']})
    policy = config.retrain_receivers()["retrain"].policy  # type: ignore[attr-defined]
    assert policy == RetrainPolicy(4 * H, 3, H)
    assert config.retrain_receivers()["retrain"].send_resolved is False  # type: ignore[attr-defined]


@pytest.mark.parametrize(("receiver", "route", "message"), [
    ({**RETRAIN, "send_resolved": True}, {"receiver": "retrain", "group_by": ["model"]}, "send_resolved cannot be true"),
    (RETRAIN, {"receiver": "retrain", "group_by": ["feature"]}, "must group by model"),
    (RETRAIN, {"receiver": "retrain"}, "must group by model"),
    ({**RETRAIN, "max_per_day": 0}, {"receiver": "retrain", "group_by": ["model"]}, "max_per_day"),
    ({**RETRAIN, "cooldown": "soon"}, {"receiver": "retrain", "group_by": ["model"]}, "cooldown"),
])
def test_bad_retrain_config_is_refused_with_the_reason(receiver: dict, route: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        alerting(receiver, route)


def test_group_by_all_labels_is_accepted() -> None:
    alerting(RETRAIN, {"receiver": "retrain", "group_by": ["..."]})
