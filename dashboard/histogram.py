"""Reference-vs-current histogram of one feature (pure).

The current values are binned on the stored reference profile's own bins (quantile bins for a
numeric feature with open outer bins and a missing bin; top categories, other, unseen and
missing for a categorical one), with analysis.drift's code, so the picture shows exactly the
bins the drift statistics compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.drift.categorical_profile import CategoricalSummary
from analysis.drift.numeric_profile import NumericSummary

__all__ = ["Overlay", "overlay"]


@dataclass(frozen=True)
class Overlay:
    feature: str
    bins: tuple[str, ...]
    reference: tuple[float, ...]  # share of the reference's weight per bin
    current: tuple[float, ...]  # share of the current rows' weight per bin
    current_rows: int


def _shares(counts: np.ndarray) -> tuple[float, ...]:
    total = float(counts.sum())
    return tuple(float(c) / total if total > 0 else 0.0 for c in counts)


def overlay(feature: str, reference_document: Mapping[str, Any], values: np.ndarray,
            weights: np.ndarray | None = None) -> Overlay:
    """Bin ``values`` on the feature's reference summary (one entry of a stored profile's
    ``features``). Raises ValueError for an unknown summary kind."""
    kind = reference_document.get("kind")
    summary: NumericSummary | CategoricalSummary
    current: NumericSummary | CategoricalSummary
    if kind == "numeric":
        summary = NumericSummary.from_dict(dict(reference_document))
        current = summary.summarise(np.asarray(values, dtype=np.float64), weights)
    elif kind == "categorical":
        summary = CategoricalSummary.from_dict(dict(reference_document))
        current = summary.summarise(values, weights)
    else:
        raise ValueError(f"feature {feature!r} has an unknown profile kind {kind!r}")
    labels = tuple(summary.bin_labels())
    return Overlay(feature, labels, _shares(summary.bin_counts), _shares(current.bin_counts), int(len(values)))
