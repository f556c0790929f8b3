"""The typed result of a performance metric, and label handling shared by the metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from analysis.stats.intervals import Interval
from analysis.stats.weights import check_weights, effective_sample_size


@dataclass(frozen=True)
class MetricEstimate:
    """A metric with its confidence interval.

    ``interval`` names the method (wilson, delta, delong, bootstrap, poisson_binomial);
    ``estimated`` is True for label-free estimates, False for metrics from real labels.
    NaN value and bounds mean undefined (e.g. precision with no predicted positive), never 0.
    """

    name: str
    value: float
    lower: float
    upper: float
    interval: str
    confidence: float
    n: int
    n_eff: float
    estimated: bool = False
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return v if math.isfinite(v) else None
        return {"name": self.name, "value": num(self.value), "lower": num(self.lower), "upper": num(self.upper),
                "interval": self.interval, "confidence": self.confidence, "n": self.n, "n_eff": self.n_eff,
                "estimated": self.estimated, "details": dict(self.details)}


def estimate(name: str, value: float, interval: Interval, confidence: float, w: np.ndarray,
             details: Mapping[str, Any] | None = None, estimated: bool = False) -> MetricEstimate:
    n_eff = effective_sample_size(float(w.sum()), float(np.einsum("i,i->", w, w)))
    return MetricEstimate(name, value, interval.lower, interval.upper, interval.method, confidence,
                          int(w.shape[0]), n_eff, estimated, MappingProxyType(dict(details or {})))


def labels_as_text(labels: np.ndarray) -> np.ndarray:
    """Labels compared as text, like everywhere in modelwatch: True/1/1.0/"1" are all "1".
    Missing labels (None, NaN) become None."""
    arr = np.asarray(labels).reshape(-1)
    if arr.dtype.kind == "b":
        return np.where(arr, "1", "0").astype(object)
    if arr.dtype.kind in "iu":
        return arr.astype(str).astype(object)
    out = np.empty(arr.shape[0], dtype=object)
    for i, v in enumerate(arr.tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[i] = None
        elif isinstance(v, bool):
            out[i] = "1" if v else "0"
        elif isinstance(v, float) and v.is_integer():
            out[i] = str(int(v))
        else:
            out[i] = str(v)
    return out


def prepare(n: int, weights: np.ndarray | None) -> np.ndarray:
    """Weights as a float vector (ones without weights). Raises InvalidWeightsError."""
    w = check_weights(weights, n)
    return np.ones(n) if w is None else w
