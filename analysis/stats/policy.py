"""The typed ``analysis:`` section of a model in monitors.yaml.

``AnalysisPolicy.model_validate(model.analysis)`` parses the free-form mapping that
config/monitors.py keeps today. Everything has a documented default (docs/statistics.md), so an
empty section is valid; unknown keys and unknown statistic names are errors that name their path.

    analysis:
      drift:
        numeric_method: wasserstein_norm     # the statistic whose decision raises the alert
        categorical_method: jensen_shannon
        thresholds: {psi: 0.25}              # effect-size thresholds, over the defaults
        alpha: 0.05
        min_n: 100
      profile: {bins: 10, sketch_size: 200, top_k: 20}
      quality: {missing_rate_increase: 0.05, volume_drop: 0.5}
      performance:
        confidence: 0.95
        ece_bins: 10
        accuracy: {min: 0.9}      # degraded when the interval lies wholly below 0.9
        ece: {max: 0.05}          # (or under thresholds: {accuracy: {min: 0.9}})
        min_n: 100
      features:                              # per-feature overrides
        amount: {method: psi, thresholds: {psi: 0.3}, min_n: 500}
        session_id: {drift: false}
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from analysis.stats.rule import DEFAULT_ALPHA, DEFAULT_MIN_N, DecisionRule


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _registry(registry: Any = None) -> Any:
    if registry is not None:
        return registry
    from analysis.drift import REGISTRY  # imported late: the registry fills on package import

    return REGISTRY


def _check_name(name: str, kind: str | None = None, registry: Any = None) -> str:
    names = _registry(registry).names(kind)
    if name not in names:
        raise ValueError(f"unknown {kind + ' ' if kind else ''}statistic {name!r}; known: {', '.join(names)}")
    return name


def _check_thresholds(value: dict[str, float | None]) -> dict[str, float | None]:
    for name, threshold in value.items():
        _check_name(name)
        if threshold is not None and threshold < 0:
            raise ValueError(f"threshold for {name} must be >= 0, got {threshold}")
    return value


class DriftSettings(_Frozen):
    numeric_method: str = "wasserstein_norm"
    categorical_method: str = "jensen_shannon"
    # statistics computed besides the method; None = every registered statistic of the kind
    statistics: tuple[str, ...] | None = None
    thresholds: dict[str, float | None] = Field(default_factory=dict)
    alpha: float = Field(default=DEFAULT_ALPHA, gt=0.0, lt=1.0)
    min_n: int = Field(default=DEFAULT_MIN_N, ge=0)
    fdr: bool = True  # Benjamini-Hochberg across features x slices

    @field_validator("numeric_method")
    @classmethod
    def _numeric(cls, v: str) -> str:
        return _check_name(v, "numeric")

    @field_validator("categorical_method")
    @classmethod
    def _categorical(cls, v: str) -> str:
        return _check_name(v, "categorical")

    @field_validator("statistics")
    @classmethod
    def _statistics(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if v is None else tuple(_check_name(n) for n in v)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: dict[str, float | None]) -> dict[str, float | None]:
        return _check_thresholds(v)


class ProfileSettings(_Frozen):
    bins: int = Field(default=10, ge=1, le=100)
    sketch_size: int = Field(default=200, ge=1, le=10_000)
    top_k: int = Field(default=20, ge=1, le=1_000)
    max_tracked: int = Field(default=10_000, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _sizes(self) -> ProfileSettings:
        if self.sketch_size < self.bins:
            raise ValueError(f"sketch_size ({self.sketch_size}) must be >= bins ({self.bins})")
        if self.max_tracked < self.top_k:
            raise ValueError(f"max_tracked ({self.max_tracked}) must be >= top_k ({self.top_k})")
        return self


class QualitySettings(_Frozen):
    missing_rate_increase: float = Field(default=0.05, ge=0.0, le=1.0)  # absolute increase
    type_violation_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # flagged when rate > this
    out_of_range_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    new_category_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    volume_drop: float = Field(default=0.5, gt=0.0, le=1.0)  # flagged below (1 - drop) x expected
    alpha: float = Field(default=DEFAULT_ALPHA, gt=0.0, lt=1.0)
    min_n: int = Field(default=DEFAULT_MIN_N, ge=0)


# Performance metrics a threshold may name, with the direction that is bad: "min" metrics are
# better high (a window is degraded below the minimum), "max" metrics better low. Proportions
# and scores in [0, 1]; the losses are unbounded above; R2 is at most 1.
PERFORMANCE_METRICS: dict[str, str] = {
    "accuracy": "min", "precision": "min", "recall": "min", "f1": "min", "roc_auc": "min",
    "expected_accuracy": "min", "label_coverage": "min", "r2": "min",
    "log_loss": "max", "brier": "max", "ece": "max", "mae": "max", "rmse": "max", "mape": "max",
    "error_rate": "max", "slow_rate": "max",
}
_UNBOUNDED = {"log_loss", "mae", "rmse", "mape"}


class PerformanceThreshold(_Frozen):
    """``{min: x}`` or ``{max: x}``: the metric's acceptable side. Which one a metric takes is
    fixed (PERFORMANCE_METRICS), so ``mae: {min: 3}`` is an error, not a silent non-alert."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one(self) -> PerformanceThreshold:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of min or max")
        return self

    @property
    def direction(self) -> str:
        return "min" if self.min is not None else "max"

    @property
    def value(self) -> float:
        return float(self.min if self.min is not None else self.max)  # type: ignore[arg-type]


def _check_performance_thresholds(value: dict[str, PerformanceThreshold]) -> dict[str, PerformanceThreshold]:
    for name, threshold in value.items():
        direction = PERFORMANCE_METRICS.get(name)
        if direction is None:
            raise ValueError(f"unknown performance metric {name!r}; known: {', '.join(sorted(PERFORMANCE_METRICS))}")
        if threshold.direction != direction:
            better = "higher" if direction == "min" else "lower"
            raise ValueError(f"{name} is better {better}: its threshold is {{{direction}: ...}}, "
                             f"not {{{threshold.direction}: ...}}")
        low, high = (-math.inf, 1.0) if name == "r2" else (0.0, math.inf if name in _UNBOUNDED else 1.0)
        if not (low <= threshold.value <= high and math.isfinite(threshold.value)):
            raise ValueError(f"threshold for {name} must be within [{low:g}, {high:g}], got {threshold.value:g}")
    return value


class PerformanceSettings(_Frozen):
    confidence: float = Field(default=0.95, gt=0.0, lt=1.0)
    ece_bins: int = Field(default=10, ge=1, le=1_000)
    bootstrap: int = Field(default=1_000, ge=100, le=100_000)
    seed: int = 0
    decision_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)  # binary: positive when score >= this
    # Per metric, the side a window (and each slice) must stay on: degraded only when the whole
    # confidence interval is on the wrong side; insufficient below min_n (effective rows).
    thresholds: dict[str, PerformanceThreshold] = Field(default_factory=dict)
    min_n: int = Field(default=DEFAULT_MIN_N, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _metric_keys(cls, data: Any) -> Any:
        """``performance: {accuracy: {min: 0.9}}`` is short for ``thresholds: {accuracy: ...}``
        (metric names and setting names never collide)."""
        if not isinstance(data, dict):
            return data
        # a misspelt metric ({min: ..} under an unknown key) gets the unknown-metric message
        inline = {k: v for k, v in data.items() if k in PERFORMANCE_METRICS or (
            k not in cls.model_fields and isinstance(v, dict) and v and set(v) <= {"min", "max"})}
        if not inline:
            return data
        given = data.get("thresholds") or {}
        both = sorted(set(inline) & set(given)) if isinstance(given, dict) else []
        if both:
            raise ValueError(f"threshold for {', '.join(both)} given twice (inline and under thresholds)")
        rest = {k: v for k, v in data.items() if k not in inline}
        return {**rest, "thresholds": {**(given if isinstance(given, dict) else {}), **inline}}

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: dict[str, PerformanceThreshold]) -> dict[str, PerformanceThreshold]:
        return _check_performance_thresholds(v)


class FeatureOverride(_Frozen):
    drift: bool = True
    method: str | None = None
    thresholds: dict[str, float | None] = Field(default_factory=dict)
    alpha: float | None = Field(default=None, gt=0.0, lt=1.0)
    min_n: int | None = Field(default=None, ge=0)
    missing_rate_increase: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("method")
    @classmethod
    def _method(cls, v: str | None) -> str | None:
        return None if v is None else _check_name(v)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: dict[str, float | None]) -> dict[str, float | None]:
        return _check_thresholds(v)


class AnalysisPolicy(_Frozen):
    drift: DriftSettings = Field(default_factory=DriftSettings)
    profile: ProfileSettings = Field(default_factory=ProfileSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    performance: PerformanceSettings = Field(default_factory=PerformanceSettings)
    features: dict[str, FeatureOverride] = Field(default_factory=dict)

    def _override(self, feature: str) -> FeatureOverride:
        return self.features.get(feature) or FeatureOverride()

    def drift_enabled(self, feature: str) -> bool:
        return self._override(feature).drift

    def method(self, feature: str, kind: str, registry: Any = None) -> str:
        """The statistic whose decision is the feature's drift alert.

        Raises ValueError when a per-feature method does not exist for the feature's kind."""
        chosen = self._override(feature).method
        if chosen is None:
            return self.drift.numeric_method if kind == "numeric" else self.drift.categorical_method
        return _check_name(chosen, kind, registry)

    def statistics(self, feature: str, kind: str, registry: Any = None) -> tuple[str, ...]:
        """Statistics to compute for the feature: the configured list (those that exist for the
        kind) or all registered ones, the alert method always included, in registry order.
        ``registry`` defaults to the service's (analysis.drift.REGISTRY)."""
        names = _registry(registry).names(kind)
        wanted = set(names if self.drift.statistics is None else self.drift.statistics)
        wanted.add(self.method(feature, kind, registry))
        return tuple(n for n in names if n in wanted)

    def rule(self, feature: str, kind: str, statistic: str, registry: Any = None) -> DecisionRule:
        """Decision rule: per-feature override, else the model's drift settings, else the
        statistic's registered default threshold."""
        override = self._override(feature)
        if statistic in override.thresholds:
            threshold = override.thresholds[statistic]
        elif statistic in self.drift.thresholds:
            threshold = self.drift.thresholds[statistic]
        else:
            threshold = _registry(registry).get(statistic, kind).default_threshold
        return DecisionRule(
            threshold=threshold,
            alpha=self.drift.alpha if override.alpha is None else override.alpha,
            min_n=self.drift.min_n if override.min_n is None else override.min_n,
        )

    def missing_rate_increase(self, feature: str) -> float:
        override = self._override(feature).missing_rate_increase
        return self.quality.missing_rate_increase if override is None else override
