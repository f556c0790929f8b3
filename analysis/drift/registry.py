"""The statistic registry: every drift statistic is registered by name and feature kind.

Config names a statistic (``method: psi``), the drift engine computes every registered statistic
of a feature's kind, and the conformance tests loop over the registry. A statistic is a pure
function of two summaries on the same bins -- the reference profile's and the window's -- and
returns a frozen ``StatResult``; it never raises on data (empty, all-missing, constant columns):
it returns ``status=insufficient_data`` with a NaN value instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, Literal

FeatureKind = Literal["numeric", "categorical"]
KINDS: tuple[FeatureKind, ...] = ("numeric", "categorical")


class Status(str, Enum):
    ok = "ok"
    insufficient_data = "insufficient_data"  # nothing to compare: empty window / reference, all missing


@dataclass(frozen=True)
class StatResult:
    """One statistic for one feature in one window.

    ``value`` is the statistic as documented (docs/statistics.md); ``effect_size`` is the
    non-negative number a decision compares with its threshold (equal to ``value`` except for
    chi2, whose effect size is Cohen's w, and cardinality, |relative change|); ``p_value`` is the
    p-value of the two-sample test of "no drift" that goes with the statistic, None when no test
    applies. ``n_*`` are row counts used; ``n_eff_*`` Kish effective sizes (equal to the row
    counts without weights).
    """

    name: str
    kind: FeatureKind
    value: float
    effect_size: float
    p_value: float | None
    status: Status
    n_reference: int
    n_current: int
    n_eff_reference: float
    n_eff_current: float
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        return self.status is Status.ok

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (non-finite floats become None)."""
        def num(v: float | None) -> float | None:
            return v if v is not None and math.isfinite(v) else None
        return {
            "name": self.name, "kind": self.kind, "value": num(self.value),
            "effect_size": num(self.effect_size), "p_value": num(self.p_value),
            "status": self.status.value, "n_reference": self.n_reference, "n_current": self.n_current,
            "n_eff_reference": self.n_eff_reference, "n_eff_current": self.n_eff_current,
            "details": dict(self.details),
        }


def insufficient(
    name: str, kind: FeatureKind, reason: str, n_reference: int = 0, n_current: int = 0,
    n_eff_reference: float = 0.0, n_eff_current: float = 0.0,
) -> StatResult:
    """The result of a statistic that cannot be computed: NaN value, never a misleading 0."""
    return StatResult(
        name=name, kind=kind, value=math.nan, effect_size=math.nan, p_value=None,
        status=Status.insufficient_data, n_reference=n_reference, n_current=n_current,
        n_eff_reference=n_eff_reference, n_eff_current=n_eff_current,
        details=MappingProxyType({"reason": reason}),
    )


@dataclass(frozen=True)
class Statistic:
    """A registered statistic: its function and what its number means."""

    name: str
    kind: FeatureKind
    compute: Callable[[Any, Any], StatResult]
    value_range: tuple[float, float]
    default_threshold: float | None  # None: informational unless a policy sets a threshold
    test: str | None  # the two-sample test behind p_value, None when there is none
    description: str


class UnknownStatisticError(KeyError):
    """A statistic name that is not registered for the feature kind."""


class Registry:
    """Statistics by (name, kind). Tests make their own; the service uses ``REGISTRY``."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, FeatureKind], Statistic] = {}

    def register(
        self, name: str, *, kind: FeatureKind, value_range: tuple[float, float],
        default_threshold: float | None, test: str | None, description: str,
    ) -> Callable[[Callable[[Any, Any], StatResult]], Callable[[Any, Any], StatResult]]:
        """Decorator registering ``fn(reference_summary, current_summary) -> StatResult``."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

        def add(fn: Callable[[Any, Any], StatResult]) -> Callable[[Any, Any], StatResult]:
            if (name, kind) in self._by_key:
                raise ValueError(f"statistic {name!r} is already registered for {kind} features")
            self._by_key[(name, kind)] = Statistic(
                name, kind, fn, value_range, default_threshold, test, description)
            return fn

        return add

    def get(self, name: str, kind: FeatureKind) -> Statistic:
        try:
            return self._by_key[(name, kind)]
        except KeyError:
            known = ", ".join(sorted(n for n, k in self._by_key if k == kind))
            raise UnknownStatisticError(f"no {kind} statistic named {name!r}; known: {known}") from None

    def statistics(self, kind: FeatureKind | None = None) -> tuple[Statistic, ...]:
        return tuple(s for (_, k), s in sorted(self._by_key.items()) if kind is None or k == kind)

    def names(self, kind: FeatureKind | None = None) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.name for s in self.statistics(kind)))


REGISTRY = Registry()
register = REGISTRY.register
