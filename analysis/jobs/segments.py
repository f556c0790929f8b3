"""Slices of a window: which rows belong to each declared slice key's values (pure).

Each slice key's values become segments ``key=value``; rows without the key form the
``(missing)`` segment, and values beyond the ``max_values`` heaviest (by weight) are pooled in
``(other)``, so a high-cardinality key cannot blow up a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

WHOLE = ("", "")  # (slice_key, slice_value) of the unsliced window, as stored
MISSING = "(missing)"
OTHER = "(other)"


@dataclass(frozen=True, eq=False)
class Segment:
    key: str
    value: str
    rows: np.ndarray  # row indices into the window

    @property
    def name(self) -> str:
        """Segment name used by the drift engine: ``key=value``."""
        return f"{self.key}={self.value}"


def slice_segments(slices: Mapping[str, np.ndarray], weights: np.ndarray, max_values: int) -> list[Segment]:
    """Segments of every slice key, heaviest values first within a key.

    ``slices`` maps a key to its per-row values (text or None); ``weights`` are per row.
    """
    out: list[Segment] = []
    for key, values in slices.items():
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        k = len(uniques)
        per_code = np.bincount(codes + 1, weights=weights, minlength=k + 1)
        order = np.argsort(-per_code[1:], kind="stable")
        kept = order[:max_values]
        for code in kept:
            out.append(Segment(key, str(uniques[code]), np.flatnonzero(codes == code)))
        if k > max_values:
            pooled = np.isin(codes, order[max_values:])
            out.append(Segment(key, OTHER, np.flatnonzero(pooled)))
        missing = np.flatnonzero(codes < 0)
        if missing.shape[0]:
            out.append(Segment(key, MISSING, missing))
    return out


def parse_slice(text: str) -> tuple[str, str]:
    """``key=value`` -> (key, value). Raises ValueError without ``=`` or with an empty key."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"slice must look like key=value, got {text!r}")
    return key, value
