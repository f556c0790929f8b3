"""What the canary analysis reads about each version over the window: the exact request counters
and the sampled predictions (with their labels). Plain values, no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np

__all__ = ["OUTPUT_KINDS", "VersionCounters", "VersionSample"]

# The model outputs whose distributions are compared between versions, and their drift kind.
OUTPUT_KINDS: Mapping[str, Literal["numeric", "categorical"]] = MappingProxyType(
    {"prediction": "categorical", "score": "numeric", "prediction_value": "numeric"})


@dataclass(frozen=True, eq=False)
class VersionCounters:
    """Sums of one version's request counters over the window. ``buckets``: non-cumulative
    latency counts per bucket of ``bounds_ms`` (ascending, ms) plus the +Inf bucket last."""

    version: str
    requests: int
    errors: int
    latency_sum_ms: float
    bounds_ms: tuple[float, ...]
    buckets: np.ndarray

    def __post_init__(self) -> None:
        if self.buckets.shape != (len(self.bounds_ms) + 1,):
            raise ValueError(f"{self.buckets.shape} bucket counts for {len(self.bounds_ms)} bounds (+Inf last)")
        if self.errors > self.requests or self.errors < 0:
            raise ValueError(f"version {self.version}: {self.errors} errors for {self.requests} requests")


@dataclass(frozen=True, eq=False)
class VersionSample:
    """One version's sampled predictions in the window, row-aligned.

    ``outputs``: the columns named in OUTPUT_KINDS the task has (object text or None for
    "prediction", float64 with NaN otherwise).
    ``features``: the model's numeric (float64) and categorical (object) feature columns.
    ``outcome``: per labelled row, 1.0 / 0.0 for a right / wrong classification or the absolute
    error of a regression; NaN where no label arrived. ``weight``: 1 / sampling rate.
    """

    version: str
    weight: np.ndarray
    outcome: np.ndarray
    outputs: Mapping[str, np.ndarray] = field(default_factory=dict)
    features: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.weight.shape[0]
        for name, column in {"outcome": self.outcome, **self.outputs, **self.features}.items():
            if column.shape[0] != n:
                raise ValueError(f"version {self.version}: column {name!r} has {column.shape[0]} rows, weight has {n}")
        unknown = sorted(set(self.outputs) - set(OUTPUT_KINDS))
        if unknown:
            raise ValueError(f"unknown output column(s) {unknown}; known: {sorted(OUTPUT_KINDS)}")

    @property
    def n(self) -> int:
        return int(self.weight.shape[0])

    @property
    def labelled(self) -> np.ndarray:
        return ~np.isnan(self.outcome)
