"""Typed SLO declarations: what ``models[].slos[]`` in monitors YAML may say.

An SLO is a ratio of good events to all events, counted (never averaged) so long windows are
traffic weighted. Each kind names where its counts come from; the burn-rate alert rules default
to the SRE Workbook's multiwindow multi-burn-rate set and can be overridden per SLO.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.durations import Duration, format_duration
from config.urls import LinkUrl
from modelwatch.counters import DEFAULT_BOUNDS_MS

__all__ = [
    "DEFAULT_ALERT_RULES",
    "Budgeting",
    "BurnRateRule",
    "SloKind",
    "SloSpec",
]

# Same shape as config.monitors.NAME_PATTERN (not imported: config.monitors imports this module).
_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
_LABEL_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class SloKind(str, Enum):
    availability = "availability"  # good = requests without error (SDK exact counters)
    latency = "latency"  # good = successful requests with latency <= threshold_ms (histogram)
    quality = "quality"  # good = labelled predictions that were correct / within tolerance
    label_freshness = "label_freshness"  # good = labels that arrived within max_lag
    feature_freshness = "feature_freshness"  # good = sampled predictions whose features were at most max_lag old
    drift_free = "drift_free"  # good = analysis windows without detected drift


# The kinds whose good events are judged against ``max_lag``.
_LAG_KINDS = frozenset({SloKind.label_freshness, SloKind.feature_freshness})


class Budgeting(str, Enum):
    event = "event"  # budget in events: every request weighs the same (traffic weighted)
    timeslice = "timeslice"  # budget in slices: a slice is bad when its ratio misses the target


class BurnRateRule(_Frozen):
    """Fire when the burn rate is at least ``burn_rate`` over BOTH the long and short window.

    ``confidence_bound``: decide on the Wilson lower bound of the error ratio (the SLO's
    ``confidence``) instead of the raw ratio. The bound is always below the raw ratio, so a rule
    at 1x with the bound never fires on a burn of exactly 1x; the default ticket rules decide on
    the raw ratio over their long (1 d, 3 d) windows, the page rules on the bound.
    """

    severity: str = Field(pattern=_NAME_PATTERN)
    burn_rate: float = Field(gt=0.0)
    long_window: Duration
    short_window: Duration
    confidence_bound: bool = True

    @model_validator(mode="after")
    def _check_windows(self) -> BurnRateRule:
        if self.short_window <= timedelta(0) or self.long_window <= timedelta(0):
            raise ValueError("alert windows must be positive")
        if self.short_window >= self.long_window:
            raise ValueError(
                f"short_window {self.short_window} must be shorter than long_window {self.long_window}"
            )
        if self.long_window % timedelta(minutes=1) or self.short_window % timedelta(minutes=1):
            raise ValueError("alert windows must be whole minutes (counts are per minute)")
        return self

    @property
    def name(self) -> str:
        """A short stable name such as ``page-14.4x-1h-5m``."""
        return f"{self.severity}-{self.burn_rate:g}x-{format_duration(self.long_window)}-{format_duration(self.short_window)}"


def _rule(severity: str, burn: float, long: str, short: str, bound: bool) -> BurnRateRule:
    return BurnRateRule.model_validate(
        {"severity": severity, "burn_rate": burn, "long_window": long, "short_window": short, "confidence_bound": bound}
    )


# SRE Workbook, "Alerting on SLOs", table 5-8 (budget consumed: 2 %, 5 %, 10 %, 10 % of 30 days).
DEFAULT_ALERT_RULES: tuple[BurnRateRule, ...] = (
    _rule("page", 14.4, "1h", "5m", True),
    _rule("page", 6.0, "6h", "30m", True),
    _rule("ticket", 3.0, "1d", "2h", False),
    _rule("ticket", 1.0, "3d", "6h", False),
)


class SloSpec(_Frozen):
    """One SLO on a model endpoint; parse ``models[].slos[]`` entries with ``SloSpec.model_validate``."""

    name: str = Field(pattern=_NAME_PATTERN)
    kind: SloKind
    objective: float = Field(gt=0.0, lt=1.0, description="target good ratio, e.g. 0.999")
    description: str | None = None
    window: Duration = timedelta(days=30)
    budgeting: Budgeting = Budgeting.event
    # Timeslice budgeting: slice length and the good ratio a slice needs (default: objective).
    timeslice: Duration = timedelta(minutes=1)
    timeslice_objective: float | None = Field(default=None, gt=0.0, le=1.0)
    alerts: tuple[BurnRateRule, ...] = Field(default=DEFAULT_ALERT_RULES, min_length=1)
    # Low traffic: a rule's long window needs min_events events (its short window a share of it,
    # see analysis.slo.evaluate) and decisions use the confidence bound, not the raw ratio.
    min_events: int = Field(default=20, ge=1)
    confidence: float | None = Field(default=0.95, gt=0.0, lt=1.0)
    # Evaluate windows ending this long ago (quality / label_freshness: wait for labels to arrive).
    evaluation_delay: Duration = timedelta(0)
    # How long a rule must keep firing before the alert goes from pending to firing.
    for_: Duration = Field(default=timedelta(0), alias="for")
    team: str | None = None
    # Shown on every page, ticket and panel of this SLO; default: the model's.
    owner: str | None = None
    runbook_url: LinkUrl | None = None  # http(s) only: checked when the config loads
    labels: dict[str, str] = Field(default_factory=dict)
    # latency
    threshold_ms: float | None = Field(default=None, gt=0.0)
    buckets_ms: tuple[float, ...] = DEFAULT_BOUNDS_MS
    # quality: None compares predictions and labels exactly (classification)
    tolerance: float | None = Field(default=None, ge=0.0)
    min_label_coverage: float = Field(default=0.5, gt=0.0, le=1.0)
    # label_freshness / feature_freshness
    max_lag: Duration | None = None

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(k for k in value if not re.match(_LABEL_NAME, k))
        if bad:
            raise ValueError(f"label names must match {_LABEL_NAME}: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> SloSpec:
        kind = self.kind
        if kind is SloKind.latency:
            if self.threshold_ms is None:
                raise ValueError("a latency SLO needs threshold_ms")
            if float(self.threshold_ms) not in {float(b) for b in self.buckets_ms}:
                raise ValueError(
                    f"threshold_ms {self.threshold_ms:g} is not a latency bucket bound "
                    f"{[float(b) for b in self.buckets_ms]}: the histogram cannot count requests under it"
                )
        elif self.threshold_ms is not None:
            raise ValueError(f"threshold_ms is only for latency SLOs, not {kind.value}")
        if self.tolerance is not None and kind is not SloKind.quality:
            raise ValueError(f"tolerance is only for quality SLOs, not {kind.value}")
        if kind in _LAG_KINDS and self.max_lag is None:
            raise ValueError(f"a {kind.value} SLO needs max_lag")
        if self.max_lag is not None and kind not in _LAG_KINDS:
            raise ValueError(f"max_lag is only for label_freshness and feature_freshness SLOs, not {kind.value}")
        if self.timeslice % timedelta(minutes=1) or self.timeslice <= timedelta(0):
            raise ValueError(f"timeslice {self.timeslice} must be a positive whole number of minutes")
        if self.evaluation_delay % timedelta(minutes=1):
            raise ValueError(f"evaluation_delay {self.evaluation_delay} must be whole minutes")
        if any(b <= a for a, b in zip(self.buckets_ms, self.buckets_ms[1:])):
            raise ValueError(f"buckets_ms must be strictly increasing, got {list(self.buckets_ms)}")
        return self

    @property
    def threshold_bucket(self) -> int:
        """Index of the bucket whose upper bound is threshold_ms (requests in buckets 0..i are good)."""
        if self.threshold_ms is None:
            raise ValueError(f"SLO {self.name!r} of kind {self.kind.value} has no latency threshold")
        return [float(b) for b in self.buckets_ms].index(float(self.threshold_ms))

    @property
    def slice_objective(self) -> float:
        """The good ratio a timeslice needs to count as good (timeslice budgeting)."""
        return self.objective if self.timeslice_objective is None else self.timeslice_objective

    @property
    def severities(self) -> tuple[str, ...]:
        """Alert severities in rule order, each once (e.g. ``('page', 'ticket')``)."""
        return tuple(dict.fromkeys(rule.severity for rule in self.alerts))
