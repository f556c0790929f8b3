"""What a receiver is handed (Notification) and what it answers (DeliveryResult)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from alerts.alert import Alert, AlertStatus
from alerts.labels import Labels

__all__ = ["DeliveryResult", "Link", "Notification", "PageContent"]


@dataclass(frozen=True)
class Link:
    href: str
    text: str


@dataclass(frozen=True)
class PageContent:
    """Rendered, receiver-neutral content: receivers only lay it out (see alerts.render)."""

    title: str
    summary: str
    text: str
    details: Mapping[str, str] = field(default_factory=dict)
    links: tuple[Link, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


@dataclass(frozen=True)
class Notification:
    """One message for one receiver about one aggregation group."""

    receiver: str
    group_key: str
    group_labels: Labels
    alerts: tuple[Alert, ...]
    content: PageContent
    created_at: datetime
    dashboard_url: str | None = None

    def __post_init__(self) -> None:
        if not self.alerts:
            raise ValueError("a notification needs at least one alert")

    @property
    def status(self) -> AlertStatus:
        """firing while any alert fires; resolved once all have."""
        firing = any(a.status is AlertStatus.firing for a in self.alerts)
        return AlertStatus.firing if firing else AlertStatus.resolved

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.status is AlertStatus.firing)

    @property
    def resolved(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.status is AlertStatus.resolved)

    @property
    def common_labels(self) -> Labels:
        return _common([a.labels for a in self.alerts])

    @property
    def dedup_key(self) -> str:
        """SHA-256 of receiver and group key: the same for trigger and resolve of one group."""
        return hashlib.sha256(f"{self.receiver}\x00{self.group_key}".encode()).hexdigest()

    @property
    def id(self) -> str:
        """Idempotency key of this message (dedup key, status, firing set, time) for the outbox."""
        firing = ",".join(sorted(a.fingerprint for a in self.firing))
        raw = f"{self.dedup_key}\x00{self.status.value}\x00{firing}\x00{self.created_at.isoformat()}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _common(label_sets: Sequence[Labels]) -> Labels:
    first, *rest = label_sets
    return Labels({k: v for k, v in first.items() if all(other.get(k) == v for other in rest)})


@dataclass(frozen=True)
class DeliveryResult:
    """Outcome of one send: ``retryable`` failures are tried again (see alerts.retry)."""

    ok: bool
    status: int | None = None  # HTTP status or SMTP reply code
    retry_after: float | None = None  # seconds the receiver asked us to wait (429 Retry-After)
    error: str | None = None
    retryable: bool = False

    @classmethod
    def success(cls, status: int | None = None) -> DeliveryResult:
        return cls(ok=True, status=status)

    @classmethod
    def failure(cls, error: str, *, status: int | None = None, retryable: bool, retry_after: float | None = None) -> DeliveryResult:
        return cls(ok=False, status=status, retry_after=retry_after, error=error, retryable=retryable)
