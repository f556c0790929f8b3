"""Alerts: a label set (identity), annotations (description), and when it started / ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from alerts.labels import Labels

__all__ = ["Alert", "AlertStatus"]


class AlertStatus(str, Enum):
    firing = "firing"
    resolved = "resolved"


@dataclass(frozen=True)
class Alert:
    """One alert instance. ``ends_at`` is None while firing and the resolve time once resolved.

    Labels say which thing is alerting (model, version, slo, kind, severity, team, slice, ...);
    annotations say what to do about it (summary, description, runbook_url, dashboard_url).
    """

    labels: Labels
    starts_at: datetime
    annotations: Labels = field(default_factory=Labels)
    ends_at: datetime | None = None
    generator_url: str | None = None

    def __post_init__(self) -> None:
        for name in ("labels", "annotations"):
            value = getattr(self, name)
            if not isinstance(value, Labels):
                object.__setattr__(self, name, Labels(value))
        if self.ends_at is not None and self.ends_at < self.starts_at:
            raise ValueError(f"alert {self.labels} ends at {self.ends_at} before it starts at {self.starts_at}")

    @property
    def fingerprint(self) -> str:
        return self.labels.fingerprint

    @property
    def status(self) -> AlertStatus:
        return AlertStatus.firing if self.ends_at is None else AlertStatus.resolved

    def resolve(self, at: datetime) -> Alert:
        """Return this alert resolved at ``at``."""
        return replace(self, ends_at=at)

    @classmethod
    def create(cls, labels: Mapping[str, str], starts_at: datetime, annotations: Mapping[str, str] | None = None, **kwargs: object) -> Alert:
        return cls(labels=Labels(labels), starts_at=starts_at, annotations=Labels(annotations or {}), **kwargs)  # type: ignore[arg-type]
