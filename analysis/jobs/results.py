"""Result rows: what a job stores in ``analysis_results`` (one row per kind x metric x feature
x slice of a window), built from the typed reports of the statistics (pure).

Statuses as stored (the column holds 16 characters): ``drift``, ``no_drift``, ``ok``,
``violation``, ``insufficient`` (not enough data), ``not_evaluated`` (informational statistic),
``no_reference`` (drift needs a reference dataset), ``worst`` (a slice that stands out).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

DRIFT, QUALITY, PERFORMANCE = "drift", "quality", "performance"
KINDS = (DRIFT, QUALITY, PERFORMANCE)
INSUFFICIENT = "insufficient"
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


def stored_status(status: str | Enum) -> str:
    """Status text for the 16-character column: ``insufficient_data`` becomes ``insufficient``."""
    text = status.value if isinstance(status, Enum) else str(status)
    return INSUFFICIENT if text == "insufficient_data" else text


def finite(value: float | None) -> float | None:
    """A float for a nullable column: NaN and infinities are stored as NULL."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars and arrays as Python values and non-finite floats as None
    (JSON, and PostgreSQL's jsonb, have no NaN)."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return finite(float(value))
    return value
