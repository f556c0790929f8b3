"""One ingest request, start to finish, off the event loop: decode, check, redact, store.

The answer is built only after the store function returned, and store functions commit
before returning, so every acknowledged row is durable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sized
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import msgspec

from collector import columnar, decode, nul, validate
from collector.body import JSON
from collector.codecs import ModelCodec
from collector.errors import CollectorError, Problem
from collector.state import CollectorState
from collector.wire import CounterEnvelope, CounterRecord, Envelope
from store.records import CounterRow
from store.writes import write_counters, write_labels, write_predictions

logger = logging.getLogger("modelwatch.collector")

_COUNTER_ONE = msgspec.json.Decoder(CounterRecord)
_COUNTER_BATCH = msgspec.json.Decoder(list[CounterRecord])
_ENVELOPE = (Envelope[msgspec.Raw], Envelope[list[Any]])
_COUNTER_ENVELOPE = (CounterEnvelope[msgspec.Raw], CounterEnvelope[list[Any]])


@dataclass(frozen=True)
class Outcome:
    kind: str
    model: str
    accepted: int
    duplicates: int
    problems: list[Problem]


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("1", "true", "yes")


def _query_envelope(query: Mapping[str, str], kind: str) -> dict[str, Any]:
    """NDJSON carries the envelope in query parameters."""
    fields: dict[str, Any] = {k: query[k] for k in ("model", "version", "batch_id") if query.get(k)}
    fields["all_or_nothing"] = _flag(query, "all_or_nothing")
    if kind == "counters":
        try:
            fields["bounds_ms"] = [float(b) for b in query.get("bounds_ms", "").split(",") if b.strip()]
        except ValueError:
            raise CollectorError(422, "invalid request parameters",
                                 [Problem(None, "bounds_ms", "comma-separated numbers expected")]) from None
        fields["dropped"] = None
    return fields


def _envelope(body: bytes, fmt: str, query: Mapping[str, str], kind: str) -> tuple[Any, bool]:
    types = _COUNTER_ENVELOPE if kind == "counters" else _ENVELOPE
    if fmt == JSON:
        return decode.decode_envelope(body, *types)
    fields = _query_envelope(query, kind)
    fields["counters" if kind == "counters" else "records"] = []
    try:
        return msgspec.convert(fields, types[1]), True
    except msgspec.ValidationError as exc:
        problem = decode.problem_from(exc, None)
        raise CollectorError(422, "invalid request parameters", [problem]) from None


def _records(envelope: Any, slow: bool, body: bytes, fmt: str, one: Any, batch: Any, record_type: type,
             limit: int, field: str = "records") -> decode.Decoded:
    if fmt != JSON:
        return decode.decode_lines(body, one, record_type, limit)
    source = getattr(envelope, field)
    if slow:
        if not isinstance(source, list):
            raise CollectorError(422, "invalid request body", [Problem(None, field, "expected an array")])
        return decode.convert_objects(source, record_type, limit)
    return decode.decode_records(source, batch, one, limit)


def _typed_in_one_pass(state: CollectorState, body: bytes, decoder: Callable[[ModelCodec], Any]
                       ) -> tuple[Any, ModelCodec] | None:
    """The envelope of a JSON body that names its model first, decoded with that model's typed
    ``decoder(codec)`` in one parse, and the codec. None when that does not apply (no such
    model, a bad row, a second "model" key): a slower path then decodes the body and names
    every problem."""
    codec = state.codecs.get(decode.model_named_first(body) or "")
    if codec is None:
        return None
    try:
        envelope = decoder(codec).decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    if envelope.model != codec.model.name:  # a second "model" key later in the body
        return None
    return envelope, codec


def _check_batch_size(state: CollectorState, n: int) -> None:
    limit = state.settings.max_records_per_batch
    if n > limit:
        raise CollectorError(413, f"{n} records in one batch; the limit is {limit}")


def _decoded_in_one_pass(state: CollectorState, body: bytes, kind: str) -> tuple[Any, ModelCodec, decode.Decoded] | None:
    """A clean JSON records batch decoded with its model's typed envelope: one parse instead of
    two (the envelope with raw records, then the records)."""
    typed = _typed_in_one_pass(state, body, lambda codec: codec.prediction_envelope if kind == "predictions"
                               else codec.label_envelope)
    if typed is None:
        return None
    envelope, codec = typed
    _check_batch_size(state, len(envelope.records))
    return envelope, codec, decode.Decoded(envelope.records)


def decode_batch(state: CollectorState, body: bytes, fmt: str, query: Mapping[str, str],
                 kind: str) -> tuple[Any, ModelCodec, decode.Decoded]:
    """The envelope, the model's codec and the decoded records of a predictions or labels
    request. Raises CollectorError (400 / 404 / 413 / 422) for a request that stores nothing."""
    if fmt == JSON:
        # A columnar body first: the typed records decode would parse all of it only to fail.
        if kind == "predictions" and columnar.looks_columnar(body):
            as_records = columnar.decode_as_records(body, state.codec, state.settings.max_records_per_batch)
            if as_records is not None:
                state.metrics.columnar_batches.labels(as_records[1].model.name, "records").inc()
                return as_records
        clean = _decoded_in_one_pass(state, body, kind)
        if clean is not None:
            return clean
    envelope, slow = _envelope(body, fmt, query, kind)
    codec = state.codec(envelope.model)
    if kind == "predictions":
        one, batch, record_type = codec.prediction, codec.predictions, codec.prediction_type
    else:
        one, batch, record_type = codec.label, codec.labels, codec.label_type
    return envelope, codec, _records(envelope, slow, body, fmt, one, batch, record_type,
                                     state.settings.max_records_per_batch)


def rejection_reason(problem: Problem) -> str:
    """A metric label from a bounded set (field names are client input, never labels)."""
    if problem.error == "unknown field":
        return "unknown_field"
    if problem.error == "required field is missing" or "got `null`" in problem.error:
        return "missing"
    if "non-finite" in problem.error:
        return "non_finite"
    if problem.error in (nul.NUL_VALUE, nul.NUL_KEY):
        return "nul"
    if problem.error.startswith("invalid JSON"):
        return "invalid_json"
    if problem.field in ("timestamp", "minute", "version"):
        return problem.field
    if problem.field.partition(".")[0] == "feature_time":  # collector.freshness
        return "feature_time"
    return "invalid"


_MAPPING_FIELDS = ("features.", "slices.", "probabilities.")


def _redact_field(path: str, redact: Any) -> str:
    # Keep the known head: an e-mail's local part may contain dots and would swallow it.
    for head in _MAPPING_FIELDS:
        if path.startswith(head):
            return head + redact(path[len(head):])
    return redact(path)


def _redacted(problems: list[Problem], redact: Any) -> list[Problem]:
    # Field names and messages can quote client input (an unknown key could be an e-mail).
    return [Problem(p.row, _redact_field(p.field, redact), redact(p.error))
            for p in sorted(problems, key=lambda p: (p.row or 0))]


def _finish(state: CollectorState, kind: str, model: str, envelope: Any, decoded: decode.Decoded,
            rows: Sized, write: Any, redact: Any) -> Outcome:
    problems = _redacted(decoded.problems, redact)
    if problems:
        reasons: dict[str, int] = {}
        for p in problems:
            reason = rejection_reason(p)
            reasons[reason] = reasons.get(reason, 0) + 1
        for reason, n in reasons.items():
            state.metrics.rejected_rows.labels(kind, model, reason).inc(n)
        if envelope.all_or_nothing:
            raise CollectorError(422, f"{len(problems)} invalid row(s); all_or_nothing is set, nothing was stored", problems)
        if not rows:
            raise CollectorError(422, f"all {len(problems)} row(s) are invalid; nothing was stored", problems)
    result = write(state.engine, rows)
    state.metrics.ingested_rows.labels(kind, model).inc(result.inserted)
    if result.duplicates:
        state.metrics.duplicate_rows.labels(kind, model).inc(result.duplicates)
    # Counts and the model name only: never values.
    logger.debug("%s for %s: %d stored, %d duplicate, %d rejected", kind, model, result.inserted,
                 result.duplicates, len(problems))
    return Outcome(kind, model, result.inserted, result.duplicates, problems)


def _columnar_in_one_pass(state: CollectorState, body: bytes) -> Outcome | None:
    """A clean columnar batch (collector.columnar), stored without making a record per row.
    None when it does not apply: then decode_batch turns the columns into records."""
    if nul.may_hold_nul(body):
        return None
    typed = _typed_in_one_pass(state, body, lambda codec: codec.columns_envelope)
    if typed is None or typed[0].columns is None:
        return None
    envelope, codec = typed
    _check_batch_size(state, len(envelope.columns.prediction_id))
    now = datetime.now(timezone.utc)
    bounds = validate.TimeBounds.at(now, state.batch_time(codec.model.name, envelope.batch_id, now))
    try:
        rows, versions = columnar.fast_columns(codec, envelope, bounds)
    except columnar.Decline:
        return None
    if rows:
        state.note_versions(codec.model.name, versions, now)
    state.metrics.columnar_batches.labels(codec.model.name, "fast").inc()
    return _finish(state, "predictions", codec.model.name, envelope, decode.Decoded([]), rows, write_predictions,
                   codec.redactor.error)


def ingest_predictions(state: CollectorState, body: bytes, fmt: str, query: Mapping[str, str]) -> Outcome:
    if fmt == JSON and columnar.looks_columnar(body):
        done = _columnar_in_one_pass(state, body)
        if done is not None:
            return done
    envelope, codec, decoded = decode_batch(state, body, fmt, query, "predictions")
    nul.check_envelope(envelope, ("version",))
    nul.reject_records_with_nul(decoded, body)
    codec.redactor.prediction_ids(decoded)  # before anything stores, logs or echoes them
    now = datetime.now(timezone.utc)
    bounds = validate.TimeBounds.at(now, state.batch_time(codec.model.name, envelope.batch_id, now))
    rows, versions = validate.prediction_columns(codec, decoded, envelope.version, bounds)
    if rows and not (decoded.problems and envelope.all_or_nothing):
        state.note_versions(codec.model.name, versions, now)
    return _finish(state, "predictions", codec.model.name, envelope, decoded, rows, write_predictions,
                   codec.redactor.error)


def ingest_labels(state: CollectorState, body: bytes, fmt: str, query: Mapping[str, str]) -> Outcome:
    envelope, codec, decoded = decode_batch(state, body, fmt, query, "labels")
    nul.reject_records_with_nul(decoded, body)
    codec.redactor.prediction_ids(decoded)  # before anything stores, logs or echoes them
    now = datetime.now(timezone.utc)
    bounds = validate.TimeBounds.at(now, state.batch_time(codec.model.name, envelope.batch_id, now))
    rows = validate.label_rows(codec, decoded, bounds)
    return _finish(state, "labels", codec.model.name, envelope, decoded, rows, write_labels, codec.redactor.error)


def ingest_counters(state: CollectorState, body: bytes, fmt: str, query: Mapping[str, str]) -> Outcome:
    envelope, slow = _envelope(body, fmt, query, "counters")
    codec = state.codec(envelope.model)
    nul.check_envelope(envelope, ("version", "batch_id", "dropped"))
    bad_bounds = validate.check_bounds(envelope.bounds_ms)
    if bad_bounds is not None:
        raise CollectorError(422, "invalid request body", [bad_bounds])
    decoded = _records(envelope, slow, body, fmt, _COUNTER_ONE, _COUNTER_BATCH, CounterRecord,
                       state.settings.max_records_per_batch, field="counters")
    now = datetime.now(timezone.utc)
    rows = validate.counter_rows(envelope, decoded, validate.TimeBounds.at(now))
    if not rows and not decoded.problems and envelope.dropped:
        # Drops with no traffic to report still count: carry them on an empty current minute.
        rows = [CounterRow(minute=now.replace(second=0, microsecond=0), model=envelope.model,
                           version=envelope.version, batch_id=envelope.batch_id, requests=0, errors=0,
                           latency_count=0, latency_sum_ms=0.0, latency_buckets={}, dropped=envelope.dropped)]
    if rows and not (decoded.problems and envelope.all_or_nothing):
        state.note_versions(codec.model.name, {envelope.version}, now)
    return _finish(state, "counters", codec.model.name, envelope, decoded, rows, write_counters,
                   codec.redactor.error)
