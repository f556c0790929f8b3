"""Result rows: what a job stores in ``analysis_results`` (one row per kind x metric x feature
x slice of a window), built from the typed reports of the statistics (pure).

Statuses as stored (the column holds 16 characters). Only decisions that should alert use
``drift`` / ``violation`` / ``degraded`` (alerting and drift-free SLOs read them,
store/alert_reads.py):

- drift, metric ``drift`` per feature (and slice): its alert decision, ``drift`` / ``no_drift``;
- drift, metric = a statistic's name: ``exceeds`` / ``within`` (that statistic's own decision,
  for display: one feature must not raise one alert per statistic);
- drift, metric ``drift`` with feature ``""``: the segment, ``any_drift`` / ``no_drift``;
- quality: ``ok`` / ``violation``; freshness: ``ok``; worst slices: ``worst``;
- performance: ``ok``, or ``degraded`` when a metric with a threshold is worse beyond its
  interval (analysis/performance/thresholds.py);
- everywhere: ``insufficient`` (not enough data), ``not_evaluated`` (no threshold),
  ``no_reference`` (drift needs a reference dataset).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

DRIFT, QUALITY, PERFORMANCE, FRESHNESS = "drift", "quality", "performance", "freshness"
KINDS = (DRIFT, QUALITY, PERFORMANCE, FRESHNESS)
INSUFFICIENT = "insufficient"
ANY_DRIFT = "any_drift"
WINDOW_METRIC = "drift"  # per feature: its alert decision; with feature "": the whole segment


@dataclass(frozen=True)
class ResultRow:
    kind: str
    metric: str
    feature: str = ""
    slice_key: str = ""
    slice_value: str = ""
    value: float | None = None
    threshold: float | None = None
    status: str = "ok"
    n: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[str, str, str, str, str]:
        return (self.kind, self.metric, self.feature, self.slice_key, self.slice_value)

    def as_dict(self) -> dict[str, Any]:
        """The row's columns; details as they are (dataclasses.asdict deep-copies every
        details mapping: a tenth of a window's CPU)."""
        return {"kind": self.kind, "metric": self.metric, "feature": self.feature, "slice_key": self.slice_key,
                "slice_value": self.slice_value, "value": self.value, "threshold": self.threshold,
                "status": self.status, "n": self.n, "details": dict(self.details)}


def stored_status(status: str | Enum) -> str:
    """Status text for the 16-character column: ``insufficient_data`` becomes ``insufficient``."""
    text = status.value if isinstance(status, Enum) else str(status)
    return INSUFFICIENT if text == "insufficient_data" else text


def statistic_status(status: str | Enum) -> str:
    """Status of a statistic shown beside the alert decision: ``exceeds`` / ``within``."""
    text = stored_status(status)
    return {"drift": "exceeds", "no_drift": "within"}.get(text, text)


def finite(value: float | None) -> float | None:
    """A float for a nullable column: NaN and infinities are stored as NULL."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


_PLAIN = (str, int, bool, type(None))


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars and arrays as Python values and non-finite floats as None
    (JSON, and PostgreSQL's jsonb, have no NaN). Exact-type checks first: this runs on every
    stored row's details."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind in _PLAIN:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if kind is list or kind is tuple or isinstance(value, (set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return finite(float(value))
    return value
