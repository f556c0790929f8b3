"""Checks msgspec cannot express, and the turn from decoded records into store rows.

Runs once per row, so the work is done column by column where it can be (``map`` and
``attrgetter`` loop in C), and the one per-row loop (timestamps, versions) is written for
CPython: locals instead of attribute lookups, no helper calls on the common path.
Out-of-range numbers and undeclared categories are kept: they are data-quality findings for
the analysis engine, not transport errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from typing import Any

from collector.codecs import ModelCodec
from collector.decode import Decoded
from collector.errors import Problem
from collector.freshness import Freshness, feature_freshness, freshness_columns
from collector.rows import DICTS, RowAccess
from collector.wire import CounterEnvelope
from store.records import CounterRow, LabelRow, PredictionColumns

UTC = timezone.utc
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
MAX_ERROR_CHARS = 2_000  # error text is for triage, not for storing whole stack traces
_TEXT_OR_NULL = frozenset({str, type(None)})


@dataclass(frozen=True)
class TimeBounds:
    """Accepted timestamps: from 2000-01-01 to one day after ``now`` (clock skew, time zones);
    ``default`` stamps records sent without a timestamp."""

    default: datetime
    latest: datetime
    earliest_s: float
    latest_s: float

    @classmethod
    def at(cls, now: datetime, default: datetime | None = None) -> TimeBounds:
        latest = now + FUTURE_SLACK
        return cls(default or now, latest, EARLIEST.timestamp(), latest.timestamp())

    def check(self, value: datetime | float) -> datetime | str:
        """The value as aware UTC, or why it is refused."""
        if isinstance(value, float):
            if not self.earliest_s <= value <= self.latest_s:
                return f"timestamp {value} is before 2000 or more than a day in the future"
            return datetime.fromtimestamp(value, UTC)
        if not EARLIEST <= value <= self.latest:
            return f"timestamp {value.isoformat()} is before 2000 or more than a day in the future"
        return value if value.tzinfo is UTC else value.astimezone(UTC)


def label_text(value: Any) -> str:
    """Class labels and categories as text, the way config spells them (``str()``), with
    integral floats as integers so ``1.0`` matches class ``"1"``."""
    if value.__class__ is float and value.is_integer():
        return str(int(value))
    return str(value)


def _version_problem(row: int) -> Problem:
    return Problem(row, "version", "no version: set it on the batch or the record")


def normalise_categorical(features: Sequence[Any], names: tuple[str, ...], access: RowAccess = DICTS) -> None:
    """Categorical values sent as numbers or booleans become text, in place. One pass per
    column (in C) finds whether any row needs it (usually none do)."""
    for name in names:
        get = access.getter(name)
        if set(map(type, map(get, features))) - _TEXT_OR_NULL:
            for f in features:
                value = get(f)
                if value is not None and value.__class__ is not str:
                    access.put(f, name, label_text(value))


def normalise_slices(slices: list[dict[str, Any]]) -> None:
    """Slice values sent as numbers or booleans become text, in place (null stays null)."""
    for tags in slices:
        for key, value in tags.items():
            if value is not None and value.__class__ is not str:
                tags[key] = label_text(value)


def _admitted(decoded: Decoded, batch_version: str | None, bounds: TimeBounds, feature_names: tuple[str, ...]
              ) -> tuple[list[Any], list[datetime], list[str], list[tuple[int, Freshness]]]:
    """The records whose timestamp, version and feature times are acceptable, with their
    times, versions and (position, lags) of those that sent feature times; the others are
    added to ``decoded.problems``."""
    problems = decoded.problems
    default_time, earliest_s, latest_s = bounds.default, bounds.earliest_s, bounds.latest_s
    fromtimestamp = datetime.fromtimestamp
    kept: list[Any] = []
    times: list[datetime] = []
    versions: list[str] = []
    fresh: list[tuple[int, Freshness]] = []
    for k, r in enumerate(decoded.records):
        ts = r.timestamp
        if ts.__class__ is float and earliest_s <= ts <= latest_s:  # the SDK's common case, inline
            t = fromtimestamp(ts, UTC)
        elif ts is None:
            t = default_time
        else:
            checked = bounds.check(ts)
            if isinstance(checked, str):
                problems.append(Problem(decoded.row(k), "timestamp", checked))
                continue
            t = checked
        version = r.version or batch_version
        if version is None:
            problems.append(_version_problem(decoded.row(k)))
            continue
        if r.feature_time is not None:  # rare: one attribute test is all the others pay
            lags = feature_freshness(r.feature_time, t.timestamp(), feature_names)
            if lags.__class__ is tuple:
                problems.append(Problem(decoded.row(k), *lags))  # type: ignore[misc]
                continue
            if lags is not None:
                fresh.append((len(kept), lags))  # type: ignore[arg-type]
        kept.append(r)
        times.append(t)
        versions.append(version)
    return kept, times, versions, fresh


def outputs(predictions: list[Any], classifier: bool) -> tuple[list[str | None], list[float | None]]:
    """Predictions as text (classes the way config spells them), and the numeric value of a
    regression prediction."""
    if set(map(type, predictions)) <= _TEXT_OR_NULL:  # the usual case: labels sent as text
        return predictions, [None] * len(predictions)
    if classifier:
        return [p if p is None or p.__class__ is str else label_text(p) for p in predictions], [None] * len(predictions)
    return [None if p is None else repr(p) for p in predictions], predictions


def _column(records: list[Any], name: str) -> list[Any]:
    return list(map(attrgetter(name), records))


def prediction_columns(codec: ModelCodec, decoded: Decoded, batch_version: str | None,
                       bounds: TimeBounds) -> tuple[PredictionColumns, set[str]]:
    """The store batch for the decoded predictions and the versions it names; refused rows are
    added to ``decoded.problems``. Features, slices and error text are redacted here.

    Built column by column: features stay the decoded msgspec Structs (the store encodes them
    with the feature names), so no per-row dict or row object is made.
    """
    records, times, versions, fresh = _admitted(decoded, batch_version, bounds, codec.feature_names)
    n = len(records)
    redactor = codec.redactor
    features = _column(records, "features")
    normalise_categorical(features, codec.categorical, codec.feature_access)
    if redactor.active:
        redactor.features(features, codec.feature_access)
    slices = _column(records, "slices")
    tagged = [tags for tags in slices if tags is not None]  # decoded fresh for this request: ours to change
    if tagged:
        normalise_slices(tagged)
        redactor.slices(tagged)
    errors = _column(records, "error")
    if errors.count(None) != n:
        errors = [None if e is None else redactor.error(e[:MAX_ERROR_CHARS]) for e in errors]
    predictions, values = outputs(_column(records, "prediction"), codec.classifier)
    batch = PredictionColumns(
        time=times, model=[codec.model.name] * n, version=versions,
        prediction_id=_column(records, "prediction_id"), features=features, prediction=predictions,
        prediction_value=values, score=_column(records, "score"),
        probabilities=_column(records, "probabilities"), latency_ms=_column(records, "latency_ms"),
        error=errors, slices=slices, weight=_column(records, "weight"), **freshness_columns(fresh, n),
    )
    return batch, set(versions)


def label_rows(codec: ModelCodec, decoded: Decoded, bounds: TimeBounds) -> list[LabelRow]:
    """Store rows for decoded labels; refused rows go to ``decoded.problems``."""
    model = codec.model.name
    classifier = codec.classifier
    rows: list[LabelRow] = []
    for k, r in enumerate(decoded.records):
        ts = r.timestamp
        t = bounds.default if ts is None else bounds.check(ts)
        if isinstance(t, str):
            decoded.problems.append(Problem(decoded.row(k), "timestamp", t))
            continue
        if classifier:
            label = r.label if r.label.__class__ is str else label_text(r.label)
            rows.append(LabelRow(time=t, model=model, prediction_id=r.prediction_id, label=label))
        else:
            rows.append(LabelRow(time=t, model=model, prediction_id=r.prediction_id,
                                 label=repr(r.label), label_value=r.label))
    return rows


def bound_label(bound: float) -> str:
    """Bucket bound as a JSON key: ``5.0`` -> ``"5"``, ``2.5`` -> ``"2.5"``."""
    return str(int(bound)) if bound.is_integer() else repr(bound)


def check_bounds(bounds_ms: list[float]) -> Problem | None:
    if any(b >= a for a, b in zip(bounds_ms[1:], bounds_ms)) or any(b == float("inf") for b in bounds_ms):
        return Problem(None, "bounds_ms", "bucket bounds must be finite and strictly increasing")
    return None


def _counter_problem(r: Any, n_buckets: int) -> tuple[str, str] | None:
    if r.errors > r.requests:
        return "errors", f"errors ({r.errors}) exceed requests ({r.requests})"
    if r.latency_count > r.requests:
        return "latency_count", f"latency_count ({r.latency_count}) exceeds requests ({r.requests})"
    if r.latency_buckets or r.latency_count:
        if len(r.latency_buckets) != n_buckets:
            return "latency_buckets", f"expected {n_buckets} bucket counts (len(bounds_ms) + 1), got {len(r.latency_buckets)}"
        if sum(r.latency_buckets) != r.latency_count:
            return "latency_buckets", f"bucket counts sum to {sum(r.latency_buckets)}, latency_count is {r.latency_count}"
    return None


def counter_rows(envelope: CounterEnvelope[Any], decoded: Decoded, bounds: TimeBounds) -> list[CounterRow]:
    """Store rows for one counters batch; the batch's ``dropped`` rides on its first row only,
    so it is counted once."""
    keys = [bound_label(b) for b in envelope.bounds_ms] + ["+Inf"]
    rows: list[CounterRow] = []
    for k, r in enumerate(decoded.records):
        minute = bounds.check(r.minute)
        if isinstance(minute, str):
            decoded.problems.append(Problem(decoded.row(k), "minute", minute))
            continue
        if minute.second or minute.microsecond:
            decoded.problems.append(Problem(decoded.row(k), "minute", "must be the start of a minute (a multiple of 60 s)"))
            continue
        wrong = _counter_problem(r, len(keys))
        if wrong is not None:
            decoded.problems.append(Problem(decoded.row(k), *wrong))
            continue
        rows.append(CounterRow(
            minute=minute, model=envelope.model, version=envelope.version, batch_id=envelope.batch_id,  # type: ignore[arg-type]
            requests=r.requests, errors=r.errors, latency_count=r.latency_count,
            latency_sum_ms=r.latency_sum_ms,
            latency_buckets=dict(zip(keys, r.latency_buckets or [0] * len(keys))),
            dropped=(envelope.dropped or None) if not rows else None,
        ))
    return rows
