"""msgspec types of columnar prediction batches (docs/protocol.md, "Columnar batches").

The typed decoder is the fast path's first check, in C: column names, element types and id
lengths. What a type cannot say (equal column lengths, packed columns, nulls in non-nullable
features, time ranges) is checked by collector.columnar, which hands any batch it cannot take
as it is to the records path, where each bad row is named.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from collector.wire import BatchId, ModelName, NonNegative, PredictionId, Timestamp, Version
from config.monitors import FeatureType, Model, Task

ColumnsT = TypeVar("ColumnsT")


class Packed(msgspec.Struct, forbid_unknown_fields=True):
    """A packed float column: base64 of n little-endian IEEE-754 float64; NaN means null."""

    f8: str


class ColumnsEnvelope(msgspec.Struct, Generic[ColumnsT]):
    """POST /v1/predictions with ``columns`` instead of ``records``. ``columns`` is None when
    the body has none (then it is a records body)."""

    model: ModelName
    columns: ColumnsT | None = None
    version: Version | None = None
    batch_id: BatchId | None = None
    all_or_nothing: bool = False


_FEATURE_COLUMN: dict[FeatureType, Any] = {
    FeatureType.numeric: Packed | list[float | None],
    FeatureType.categorical: list[str | int | float | bool | None],
    FeatureType.text: list[str | None],
}
_LABEL = str | int | float | bool


def _feature_columns_type(model: Model, tag: str) -> type:
    fields = [(f"f{i}", _FEATURE_COLUMN[f.type] | None, None) for i, f in enumerate(model.features)]
    rename = {f"f{i}": f.name for i, f in enumerate(model.features)}
    return msgspec.defstruct(f"FeatureColumns_{tag}", fields, kw_only=True, forbid_unknown_fields=True,
                             rename=rename, gc=False)


def columns_type(model: Model, tag: str) -> type:
    """The ``columns`` object of ``model``'s columnar batches, as its fast path takes them
    (``feature_time`` is accepted as anything: a batch with it goes the records path)."""
    output = float if model.task is Task.regression else _LABEL
    floats = Packed | list[float | None] | None
    return msgspec.defstruct(f"PredictionColumns_{tag}", [
        ("prediction_id", list[PredictionId]),
        ("features", _feature_columns_type(model, tag)),
        ("timestamp", Packed | list[Timestamp | None] | None, None),
        ("version", list[Version | None] | None, None),
        ("prediction", list[output | None] | None, None),  # type: ignore[valid-type]
        ("score", floats, None),
        ("probabilities", list[dict[str, float] | None] | None, None),
        ("latency_ms", Packed | list[NonNegative | None] | None, None),
        ("error", list[str | None] | None, None),
        ("slices", list[dict[str, _LABEL | None] | None] | None, None),
        ("weight", floats, None),
        ("feature_time", list[Any] | None, None),
    ], kw_only=True, forbid_unknown_fields=True, gc=False)


def columns_decoder(model: Model, tag: str) -> msgspec.json.Decoder[Any]:
    """Whole columnar bodies of ``model``, envelope and typed columns, in one pass."""
    return msgspec.json.Decoder(ColumnsEnvelope[columns_type(model, tag)])  # type: ignore[misc]


# The records path's view of any columnar body: columns as plain JSON values.
ANY_COLUMNS = ColumnsEnvelope[dict[str, Any]]
