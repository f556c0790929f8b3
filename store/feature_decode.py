"""Decoding stored documents into numpy columns: feature documents (typed msgspec structs,
or dicts when a value does not fit its declared type), slice tags and class probabilities.

Shared by the analysis window reads, reference profiles and the shadow runner's reads.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import numpy as np

from config.monitors import FeatureType, Model, Task


def decode_documents(texts: Sequence[str | None]) -> list[Any]:
    """JSON texts (None for SQL NULL) decoded in one msgspec call."""
    joined = "[" + ",".join("null" if t is None else t for t in texts) + "]"
    return msgspec.json.decode(joined)


def floats(values: Sequence[Any], n: int) -> np.ndarray:
    """Numbers (None = NaN) as float64; numpy turns None into NaN itself, in C."""
    return np.array(values, dtype=np.float64) if n else np.empty(0)


def text_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _document_type(model: Model) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """A msgspec struct for the model's feature documents: numeric features as float, the
    others read (categorical, and text ones used as slice keys) as text; everything else is
    skipped by the decoder. Returns it with its (attribute, feature name) pairs."""
    wanted = [f for f in model.features if f.type is not FeatureType.text or f.name in model.slices]
    fields = [(f"f{i}", (float | None) if f.type is FeatureType.numeric else (str | None), None)
              for i, f in enumerate(wanted)]
    struct = msgspec.defstruct(f"Features_{model.name}", fields, rename={f"f{i}": f.name for i, f in enumerate(wanted)})
    return struct, tuple((f"f{i}", f.name) for i, f in enumerate(wanted))


_DOCUMENT_TYPES: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def typed_feature_columns(model: Model, texts: Sequence[str]) -> dict[str, np.ndarray] | None:
    """Columns of the non-text features (and text ones that are slice keys) decoded from the raw
    JSON texts into typed structs in one msgspec call -- about twice as fast as dicts and
    ``get``; None when a value does not fit its declared type (the caller keeps what was sent)."""
    key = tuple((f.name, f.type) for f in model.features) + tuple(model.slices)
    if key not in _DOCUMENT_TYPES:
        struct, names = _document_type(model)
        _DOCUMENT_TYPES[key] = (msgspec.json.Decoder(list[struct]), names)  # type: ignore[valid-type]
    decoder, names = _DOCUMENT_TYPES[key]
    try:
        documents = decoder.decode("[" + ",".join(texts) + "]")
    except msgspec.ValidationError:
        return None
    kinds = {f.name: f.type for f in model.features}
    out: dict[str, np.ndarray] = {}
    for attribute, name in names:
        values = list(map(operator.attrgetter(attribute), documents))
        if kinds[name] is FeatureType.numeric:
            out[name] = np.array(values, dtype=np.float64) if values else np.empty(0)
        else:
            out[name] = object_column(values)
    return out


def object_column(values: Sequence[Any]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def feature_columns(model: Model, documents: Sequence[Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(features, raw_features) of ``model``'s numeric and categorical features from the
    decoded feature documents (dicts). Text features are not read."""
    n = len(documents)
    features: dict[str, np.ndarray] = {}
    raw: dict[str, np.ndarray] = {}
    for feature in model.features:
        if feature.type is FeatureType.text:
            continue
        values = [None if d is None else d.get(feature.name) for d in documents]
        if feature.type is FeatureType.numeric:
            try:
                features[feature.name] = np.array(values, dtype=np.float64) if n else np.empty(0)
            except (TypeError, ValueError):
                # not all numbers: drift sees the numbers, quality sees what was sent
                raw[feature.name] = np.array(values, dtype=object)
                features[feature.name] = np.array(
                    [v if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan for v in values],
                    dtype=np.float64)
        else:
            features[feature.name] = object_column([text_or_none(v) for v in values])
    return features, raw


def slice_columns(model: Model, tags: Sequence[Any], features: Mapping[str, np.ndarray],
                  documents: Sequence[Any] | None = None) -> dict[str, np.ndarray]:
    """Per declared slice key: the slice tag's value, else the feature of that name (as text).
    ``tags`` are the decoded slice documents, one per row."""
    values = {key: [None if t is None else t.get(key) for t in tags] for key in model.slices}
    return slice_values(model, values, features, documents)


def slice_values(model: Model, tagged: Mapping[str, Sequence[Any]], features: Mapping[str, np.ndarray],
                 documents: Sequence[Any] | None = None) -> dict[str, np.ndarray]:
    """slice_columns from each key's tag values (already extracted, e.g. by the database)."""
    out: dict[str, np.ndarray] = {}
    for key in model.slices:
        column = object_column([text_or_none(v) for v in tagged[key]])
        n = column.shape[0]
        if key in features or documents is not None:
            missing = np.fromiter((v is None for v in column), bool, n)
            if missing.any():
                source = features.get(key)
                if source is None and documents is not None:
                    source = np.array([None if d is None else d.get(key) for d in documents], dtype=object)
                if source is not None:
                    column[missing] = [text_or_none(None if isinstance(v, float) and math.isnan(v) else v)
                                       for v in source[missing].tolist()]
        out[key] = column
    return out


def probability_matrix(model: Model, documents: Sequence[Any]) -> np.ndarray | None:
    """(n, k) class probabilities in ``model.classes`` order (NaN where absent); multiclass only."""
    if model.task is not Task.multiclass or not model.classes:
        return None
    out = np.full((len(documents), len(model.classes)), np.nan)
    for i, d in enumerate(documents):
        if d:
            for j, c in enumerate(model.classes):
                v = d.get(c)
                if v is not None:
                    out[i, j] = v
    return out
