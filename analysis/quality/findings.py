"""Typed data-quality findings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any


class QualityStatus(str, Enum):
    ok = "ok"
    violation = "violation"
    insufficient_data = "insufficient_data"


@dataclass(frozen=True)
class QualityFinding:
    """One check on one feature (``feature`` None for window-level checks such as volume).

    ``value`` is the measured quantity (a rate, a change in rate, or observed / expected),
    ``threshold`` the limit it is held to, ``count`` the (weighted) offending rows out of ``n``
    rows examined, ``p_value`` the test behind the decision where one applies.
    """

    check: str
    feature: str | None
    status: QualityStatus
    value: float
    threshold: float
    count: float
    n: int
    p_value: float | None = None
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def violation(self) -> bool:
        return self.status is QualityStatus.violation

    def to_dict(self) -> dict[str, Any]:
        def num(v: float | None) -> float | None:
            return v if v is not None and math.isfinite(v) else None
        return {"check": self.check, "feature": self.feature, "status": self.status.value,
                "value": num(self.value), "threshold": self.threshold, "count": self.count, "n": self.n,
                "p_value": num(self.p_value), "details": dict(self.details)}


@dataclass(frozen=True)
class QualityReport:
    findings: tuple[QualityFinding, ...]

    @property
    def violations(self) -> tuple[QualityFinding, ...]:
        return tuple(f for f in self.findings if f.violation)

    def get(self, check: str, feature: str | None = None) -> QualityFinding:
        for f in self.findings:
            if f.check == check and f.feature == feature:
                return f
        raise KeyError(f"no {check!r} finding for feature {feature!r}")
