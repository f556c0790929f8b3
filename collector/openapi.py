"""Request-body schemas for /docs: the handlers read raw bodies (msgspec, not pydantic), so
FastAPI cannot infer them; these documentation types mirror docs/protocol.md."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from collector.wire import Accepted, BatchId, Bound, Count, CounterRecord, ModelName, PredictionId, Timestamp, Version

REF = "#/components/schemas/{name}"


class PredictionRecord(msgspec.Struct, kw_only=True):
    prediction_id: PredictionId
    features: dict[str, float | str | int | bool | None]
    timestamp: Timestamp | None = None
    version: Version | None = None
    prediction: str | int | float | bool | None = None
    score: float | None = None
    probabilities: dict[str, float] | None = None
    latency_ms: float | None = None
    error: str | None = None
    slices: dict[str, str] | None = None
    weight: float = 1.0


class PredictionBatch(msgspec.Struct, kw_only=True):
    model: ModelName
    records: list[PredictionRecord]
    version: Version | None = None
    batch_id: BatchId | None = None
    all_or_nothing: bool = False


class PackedColumn(msgspec.Struct):
    """n IEEE-754 float64 values, little-endian, base64; NaN means null."""

    f8: str


Column = list[Any] | PackedColumn


class PredictionColumns(msgspec.Struct, kw_only=True):
    """Columnar batch (docs/protocol.md): value k of every column makes record k."""

    prediction_id: list[PredictionId]
    features: dict[str, Column]
    timestamp: Column | None = None
    version: list[Version | None] | None = None
    prediction: Column | None = None
    score: Column | None = None
    probabilities: Column | None = None
    latency_ms: Column | None = None
    error: Column | None = None
    slices: Column | None = None
    weight: Column | None = None
    feature_time: Column | None = None


class ColumnarPredictionBatch(msgspec.Struct, kw_only=True):
    model: ModelName
    columns: PredictionColumns
    version: Version | None = None
    batch_id: BatchId | None = None
    all_or_nothing: bool = False


class LabelRecord(msgspec.Struct, kw_only=True):
    prediction_id: PredictionId
    label: str | int | float | bool
    timestamp: Timestamp | None = None


class LabelBatch(msgspec.Struct, kw_only=True):
    model: ModelName
    records: list[LabelRecord]
    batch_id: BatchId | None = None
    all_or_nothing: bool = False


class CounterBatch(msgspec.Struct, kw_only=True):
    model: ModelName
    version: Version
    batch_id: BatchId
    bounds_ms: list[Bound]
    counters: list[CounterRecord]
    dropped: dict[str, Count] | None = None
    all_or_nothing: bool = False


class ErrorBody(msgspec.Struct):
    error: str
    detail: list[dict[str, Any]]


DOC_TYPES = (PredictionBatch, ColumnarPredictionBatch, LabelBatch, CounterBatch, Accepted, ErrorBody)


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def body_spec(name: str | list[str], extra_params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body is the documentation type ``name`` (or
    one of several)."""
    schema = ref(name) if isinstance(name, str) else {"oneOf": [ref(n) for n in name]}
    return {
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": schema},
            "application/x-ndjson": {"schema": {"type": "string", "description": "one record per line; "
                                                "the envelope fields go in query parameters"}},
        }},
        "parameters": extra_params or [],
    }


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, with the msgspec-derived schemas added as components."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            _, components = msgspec.json.schema_components(DOC_TYPES, ref_template=REF)
            document.setdefault("components", {}).setdefault("schemas", {}).update(components)
            app.openapi_schema = document
        return app.openapi_schema

    setattr(app, "openapi", build)  # FastAPI's documented way to customise the schema
