"""Paired rows: each prediction a candidate replayed, with production's logged output, the
candidate's output and the latest label, as aligned numpy columns (the input of every comparison)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["PairedColumns"]


@dataclass(frozen=True, eq=False)
class PairedColumns:
    """Row i is one prediction. Labels: object arrays of text or None; scores, values and
    latencies float64 with NaN for absent; ``*_failed`` booleans (an error, no output)."""

    prediction_id: np.ndarray
    weight: np.ndarray
    prod_label: np.ndarray
    prod_score: np.ndarray
    prod_value: np.ndarray
    prod_latency_ms: np.ndarray
    prod_failed: np.ndarray
    cand_label: np.ndarray
    cand_score: np.ndarray
    cand_value: np.ndarray
    cand_latency_ms: np.ndarray  # per row: its batch's run time / batch size
    cand_failed: np.ndarray
    true_label: np.ndarray
    true_value: np.ndarray
    slices: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return int(self.weight.shape[0])

    @property
    def labelled(self) -> np.ndarray:
        return np.array([v is not None for v in self.true_label.tolist()], dtype=bool) | ~np.isnan(self.true_value)

    @property
    def both_ran(self) -> np.ndarray:
        return ~self.prod_failed & ~self.cand_failed

    def take(self, rows: np.ndarray) -> PairedColumns:
        """The rows selected by a boolean mask or index array."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "slices"}
        return PairedColumns(**{k: v[rows] for k, v in values.items()},
                             slices={k: v[rows] for k, v in self.slices.items()})
