"""Per-model msgspec record types, built once per app from the model's declared features.

Type checks happen in C while decoding: numeric features are ``float | None``; categorical ones
``str | int | float | bool | None`` (normalised to text afterwards); text ones ``str | None``.
A feature declared ``nullable: false`` has no default and no null, so a missing or null value
fails the decode with the field named. Unknown feature names fail too (forbid_unknown_fields).
Struct fields are named f0..fN and renamed to the feature names, because feature names may
contain ``-`` or ``.`` or be Python keywords.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from collector.columnar_types import columns_decoder
from collector.redaction import Redactor
from collector.rows import StructAccess
from collector.wire import Envelope, NonNegative, PredictionId, Timestamp, Version
from config.monitors import FeatureType, Model, Task

_FEATURE_TYPES: dict[FeatureType, Any] = {
    FeatureType.numeric: float,
    FeatureType.categorical: str | int | float | bool,
    FeatureType.text: str,
}
ClassLabel = str | int | float | bool
Weight = Annotated[float, Meta(gt=0)]
SliceValue = str | int | float | bool


@dataclass(frozen=True)
class ModelCodec:
    """Everything needed to decode and check one model's records, built once per app."""

    model: Model
    feature_names: tuple[str, ...]
    categorical: tuple[str, ...]  # feature names whose values are normalised to text
    feature_access: StructAccess  # feature name -> attribute of the decoded features Struct
    classifier: bool
    prediction_type: type
    label_type: type
    redactor: Redactor
    # Decoders are reusable and thread-safe; keeping them avoids rebuilding type info per call.
    predictions: msgspec.json.Decoder[Any]
    prediction: msgspec.json.Decoder[Any]
    labels: msgspec.json.Decoder[Any]
    label: msgspec.json.Decoder[Any]
    # Whole request bodies (envelope and typed records) in one pass: see ingest.decode_batch.
    prediction_envelope: msgspec.json.Decoder[Any]
    label_envelope: msgspec.json.Decoder[Any]
    # Whole columnar prediction bodies in one pass (collector.columnar).
    columns_envelope: msgspec.json.Decoder[Any]


def _features_type(model: Model, tag: str) -> type:
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for i, feature in enumerate(model.features):
        base = _FEATURE_TYPES[feature.type]
        fields.append((f"f{i}", base | None, None) if feature.nullable else (f"f{i}", base))
    rename = {f"f{i}": f.name for i, f in enumerate(model.features)}
    # gc=False: records never form reference cycles, and untracked objects keep the garbage
    # collector from rescanning every decoded batch.
    return msgspec.defstruct(f"Features_{tag}", fields, kw_only=True, forbid_unknown_fields=True,
                             rename=rename, gc=False)


def _feature_times_type(model: Model, tag: str) -> type:
    """``feature_time`` as a mapping: any of the model's features -> its time (an unknown name
    fails the decode with the field named, as in ``features``)."""
    fields = [(f"f{i}", Timestamp | None, None) for i in range(len(model.features))]
    rename = {f"f{i}": f.name for i, f in enumerate(model.features)}
    return msgspec.defstruct(f"FeatureTimes_{tag}", fields, kw_only=True, forbid_unknown_fields=True,
                             rename=rename, gc=False)


def _prediction_type(model: Model, features: type, tag: str) -> type:
    output = float if model.task is Task.regression else ClassLabel
    return msgspec.defstruct(f"PredictionRecord_{tag}", [
        ("prediction_id", PredictionId),
        ("features", features),
        ("timestamp", Timestamp | None, None),
        ("version", Version | None, None),
        ("prediction", output | None, None),
        ("score", float | None, None),
        ("probabilities", dict[str, float] | None, None),
        ("latency_ms", NonNegative | None, None),
        ("error", str | None, None),
        ("slices", dict[str, SliceValue | None] | None, None),
        ("weight", Weight, 1.0),
        # one time for every feature, or per feature (collector.freshness)
        ("feature_time", Timestamp | _feature_times_type(model, tag) | None, None),
    ], kw_only=True, forbid_unknown_fields=True, gc=False)


def _label_type(model: Model, tag: str) -> type:
    output = float if model.task is Task.regression else ClassLabel
    return msgspec.defstruct(f"LabelRecord_{tag}", [
        ("prediction_id", PredictionId),
        ("label", output),
        ("timestamp", Timestamp | None, None),
    ], kw_only=True, forbid_unknown_fields=True, gc=False)


def build_codec(model: Model, tag: str, pii_key: bytes | None) -> ModelCodec:
    """The decoders and checks for ``model``; ``tag`` keeps generated type names unique."""
    features = _features_type(model, tag)
    prediction_type = _prediction_type(model, features, tag)
    label_type = _label_type(model, tag)
    return ModelCodec(
        model=model,
        feature_names=tuple(f.name for f in model.features),
        categorical=tuple(f.name for f in model.features if f.type is FeatureType.categorical),
        feature_access=StructAccess({f.name: f"f{i}" for i, f in enumerate(model.features)}),
        classifier=model.task is not Task.regression,
        prediction_type=prediction_type,
        label_type=label_type,
        redactor=Redactor(model, pii_key),
        predictions=msgspec.json.Decoder(list[prediction_type]),  # type: ignore[valid-type]
        prediction=msgspec.json.Decoder(prediction_type),
        labels=msgspec.json.Decoder(list[label_type]),  # type: ignore[valid-type]
        label=msgspec.json.Decoder(label_type),
        prediction_envelope=msgspec.json.Decoder(Envelope[list[prediction_type]]),  # type: ignore[valid-type]
        label_envelope=msgspec.json.Decoder(Envelope[list[label_type]]),  # type: ignore[valid-type]
        columns_envelope=columns_decoder(model, tag),
    )
