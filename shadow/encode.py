"""Feature columns -> ONNX input tensors, per the resolved input mapping. Pure: arrays in, arrays out.

A row that cannot be encoded (a numeric feature sent as text) is not fed; it gets an error of
its own instead of failing its batch, like the collector's "a bad row never poisons the batch".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from shadow.mapping import EncodingKind, InputMapping

__all__ = ["EncodedBatch", "encode"]


@dataclass(frozen=True, eq=False)
class EncodedBatch:
    """``feeds`` hold the rows ``fed`` (indices into the batch) only; ``errors[i]`` says why
    row i was not fed (None for fed rows)."""

    feeds: dict[str, np.ndarray]
    fed: np.ndarray
    errors: np.ndarray

    @property
    def n_fed(self) -> int:
        return int(self.fed.shape[0])


def _not_numbers(raw: np.ndarray) -> np.ndarray:
    return np.fromiter(
        (v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))) for v in raw.tolist()),
        dtype=bool, count=raw.shape[0])


def _row_errors(mapping: InputMapping, raw: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    errors = np.full(n, None, dtype=object)
    for tensor in mapping.inputs:
        for name in tensor.features:
            column = raw.get(name)
            if column is None or name in mapping.encodings:
                continue
            bad = _not_numbers(column) & (errors == None)  # noqa: E711 (elementwise on an object array)
            for i in np.flatnonzero(bad):
                # The type, not the value: stored errors never carry feature values.
                errors[i] = f"feature {name!r}: a {type(column[i]).__name__}, not a number"
    return errors


def _categorical(out: np.ndarray, offset: int, column: np.ndarray, categories: tuple[str, ...],
                 kind: EncodingKind, unknown: float) -> int:
    index = {c: i for i, c in enumerate(categories)}
    # map() calls index.get(value, -1) from C: half the time of a comprehension (bench/shadow.py).
    codes = np.fromiter(map(index.get, column.tolist(), repeat(-1)), dtype=np.int64, count=column.shape[0])
    if kind is EncodingKind.ordinal:
        out[:, offset] = np.where(codes >= 0, codes, unknown)
        return 1
    block = out[:, offset:offset + len(categories)]
    block[...] = 0
    known = np.flatnonzero(codes >= 0)
    block[known, codes[known]] = 1
    return len(categories)


def encode(mapping: InputMapping, features: Mapping[str, np.ndarray], raw: Mapping[str, np.ndarray], n: int,
           dtypes: Mapping[str, np.dtype]) -> EncodedBatch:
    """Tensors for ``mapping``'s inputs from ``features`` (float64 per numeric feature, NaN =
    missing; object text-or-None per categorical one; as store.analysis_reads.feature_columns
    gives them) and ``raw`` (as-sent values of numeric features holding non-numbers).

    ``dtypes``: numpy dtype per ONNX input (float32 or float64). Raises KeyError for a fed
    feature missing from ``features``."""
    errors = _row_errors(mapping, raw, n)
    fed = np.flatnonzero(errors == None)  # noqa: E711
    feeds: dict[str, np.ndarray] = {}
    for tensor in mapping.inputs:
        out = np.empty((n, mapping.width(tensor)), dtype=dtypes[tensor.name])
        offset = 0
        for name in tensor.features:
            column = features[name]
            encoding = mapping.encodings.get(name)
            if encoding is None:
                values = column if mapping.missing is None else np.where(np.isnan(column), mapping.missing, column)
                out[:, offset] = values
                offset += 1
            else:
                offset += _categorical(out, offset, column, encoding.categories or (), encoding.kind, encoding.unknown)
        feeds[tensor.name] = out if fed.shape[0] == n else out[fed]
    return EncodedBatch(feeds=feeds, fed=fed, errors=errors)
