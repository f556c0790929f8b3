"""SloSpec parsing: defaults, kind-specific fields, durations, config checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from analysis.slo import DEFAULT_ALERT_RULES, SloSpec, check_slo, describe_detection, detection_times
from config.durations import format_duration, parse_duration


def test_defaults_follow_the_sre_workbook() -> None:
    spec = SloSpec.model_validate({"name": "availability", "kind": "availability", "objective": 0.999})
    assert spec.window == timedelta(days=30)
    assert spec.budgeting.value == "event"
    assert [(r.severity, r.burn_rate, r.long_window, r.short_window) for r in spec.alerts] == [
        ("page", 14.4, timedelta(hours=1), timedelta(minutes=5)),
        ("page", 6.0, timedelta(hours=6), timedelta(minutes=30)),
        ("ticket", 3.0, timedelta(days=1), timedelta(hours=2)),
        ("ticket", 1.0, timedelta(days=3), timedelta(hours=6)),
    ]
    assert spec.alerts == DEFAULT_ALERT_RULES
    assert spec.severities == ("page", "ticket")
    assert check_slo(spec) == []


def test_overridden_rules_and_durations() -> None:
    spec = SloSpec.model_validate(
        {
            "name": "p95",
            "kind": "latency",
            "objective": 0.99,
            "threshold_ms": 250,
            "window": "28d",
            "for": "2m",
            "alerts": [{"severity": "page", "burn_rate": 10, "long_window": "30m", "short_window": "3m"}],
            "team": "ml-platform",
            "labels": {"tier": "gold"},
        }
    )
    assert spec.window == timedelta(days=28) and spec.for_ == timedelta(minutes=2)
    assert spec.threshold_bucket == 5
    dumped = spec.model_dump(mode="json", by_alias=True)
    assert dumped["window"] == "28d" and dumped["for"] == "2m"
    assert SloSpec.model_validate(dumped) == spec


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "latency", "objective": 0.99}, "needs threshold_ms"),
        ({"kind": "latency", "objective": 0.99, "threshold_ms": 300}, "not a latency bucket bound"),
        ({"kind": "availability", "objective": 0.99, "threshold_ms": 100}, "only for latency"),
        ({"kind": "availability", "objective": 1.0}, "less than 1"),
        ({"kind": "availability", "objective": 0.99, "windw": "1d"}, "Extra inputs"),
        ({"kind": "label_freshness", "objective": 0.99}, "needs max_lag"),
        ({"kind": "availability", "objective": 0.99, "tolerance": 0.1}, "only for quality"),
        ({"kind": "availability", "objective": 0.99, "window": "30 days"}, "not like"),
        (
            {"kind": "availability", "objective": 0.99, "alerts": [{"severity": "page", "burn_rate": 2, "long_window": "5m", "short_window": "1h"}]},
            "must be shorter",
        ),
        (
            {"kind": "availability", "objective": 0.99, "alerts": [{"severity": "page", "burn_rate": 2, "long_window": "90s", "short_window": "30s"}]},
            "whole minutes",
        ),
    ],
)
def test_invalid_specs_name_the_problem(entry: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SloSpec.model_validate({"name": "s", **entry})


def test_spec_is_frozen() -> None:
    spec = SloSpec(name="a", kind="availability", objective=0.99)
    with pytest.raises(ValidationError):
        spec.objective = 0.5  # type: ignore[misc]


def test_check_rejects_a_threshold_above_max_possible_burn() -> None:
    spec = SloSpec(name="accuracy", kind="quality", objective=0.9)
    problems = check_slo(spec)
    assert len(problems) == 1
    assert "page-14.4x-1h-5m can never fire" in problems[0]
    assert "maximum possible burn 10x" in problems[0]


def test_check_reports_other_problems() -> None:
    spec = SloSpec.model_validate(
        {
            "name": "a",
            "kind": "availability",
            "objective": 0.99,
            "window": "1d",
            "alerts": [
                {"severity": "ticket", "burn_rate": 1, "long_window": "3d", "short_window": "6h"},
                {"severity": "ticket", "burn_rate": 1, "long_window": "3d", "short_window": "6h"},
            ],
        }
    )
    text = "\n".join(check_slo(spec))
    assert "longer than the SLO window 1d" in text
    assert "never fires on a burn of exactly 1x" in text
    assert "declared twice" in text


def test_detection_times_follow_long_window_times_threshold_over_burn() -> None:
    spec = SloSpec(name="a", kind="availability", objective=0.999)
    times = detection_times(spec)
    # Full outage burns 1000x: 60 min * 14.4 / 1000 = 51.84 s.
    assert times[0].full_outage == timedelta(seconds=51.84)
    assert times[0].twice_budget is None
    # 2x budget is only caught by the 1x / 3d rule: 3 d * 1 / 2 = 36 h.
    assert times[3].twice_budget == timedelta(hours=36)
    lines = describe_detection(spec)
    assert lines[0] == "slo a: page-14.4x-1h-5m: full outage detected after 52s, 2x budget after never"


def test_durations_round_trip() -> None:
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration(90) == timedelta(seconds=90)
    assert parse_duration("250ms") == timedelta(milliseconds=250)
    assert format_duration(timedelta(days=3)) == "3d"
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    for bad in ("", "5", "m5", "-5m", "5 minutes", True):
        with pytest.raises(ValueError):
            parse_duration(bad)
