"""Checks msgspec cannot express, and the turn from decoded records into store rows.

Runs once per row, so the loops are written for CPython: locals instead of attribute lookups,
no per-row helper calls on the common path. Out-of-range numbers and undeclared categories are
kept: they are data-quality findings for the analysis engine, not transport errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from msgspec import to_builtins

from collector.codecs import ModelCodec
from collector.decode import Decoded
from collector.errors import Problem
from collector.wire import CounterEnvelope
from store.records import CounterRow, LabelRow, PredictionRow

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


def normalise_categorical(features: list[dict[str, Any]], names: tuple[str, ...]) -> None:
    """Categorical values sent as numbers or booleans become text, in place. One pass per
    column finds whether any row needs it (usually none do)."""
    for name in names:
        kinds = {f[name].__class__ for f in features}
        if kinds - _TEXT_OR_NULL:
            for f in features:
                value = f[name]
                if value is not None and value.__class__ is not str:
                    f[name] = label_text(value)


def normalise_slices(slices: list[dict[str, Any]]) -> None:
    """Slice values sent as numbers or booleans become text, in place (null stays null)."""
    for tags in slices:
        for key, value in tags.items():
            if value is not None and value.__class__ is not str:
                tags[key] = label_text(value)


def prediction_rows(codec: ModelCodec, decoded: Decoded, batch_version: str | None,
                    bounds: TimeBounds) -> tuple[list[PredictionRow], set[str]]:
    """Store rows for the decoded predictions and the versions they name; refused rows are
    added to ``decoded.problems``. Features, slices and error text are redacted here."""
    model = codec.model.name
    classifier = codec.classifier
    redactor = codec.redactor
    problems = decoded.problems
    default_time, earliest_s, latest_s = bounds.default, bounds.earliest_s, bounds.latest_s
    fromtimestamp = datetime.fromtimestamp
    rows: list[PredictionRow] = []
    features_of_rows: list[dict[str, Any]] = []
    slices_of_rows: list[dict[str, Any]] = []
    versions: set[str] = set()
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
        versions.add(version)
        # to_builtins applies the struct's rename (f0 -> feature name) in C: faster than zip.
        features = to_builtins(r.features)
        features_of_rows.append(features)
        p = r.prediction
        if p is None or p.__class__ is str:
            prediction, value = p, None
        elif classifier:
            prediction, value = label_text(p), None
        else:
            prediction, value = repr(p), p
        slices = r.slices
        if slices is not None:
            slices_of_rows.append(slices)  # decoded fresh for this request: ours to change
        error = r.error
        if error is not None:
            error = redactor.error(error[:MAX_ERROR_CHARS])
        rows.append(PredictionRow(
            time=t, model=model, version=version, prediction_id=r.prediction_id, features=features,
            prediction=prediction, prediction_value=value, score=r.score, probabilities=r.probabilities,
            latency_ms=r.latency_ms, error=error, slices=slices, weight=r.weight,
        ))
    # Column passes over the same dicts the rows hold: cheaper than per-row checks.
    normalise_categorical(features_of_rows, codec.categorical)
    if redactor.active:
        redactor.features(features_of_rows)
    if slices_of_rows:
        normalise_slices(slices_of_rows)
        redactor.slices(slices_of_rows)
    return rows, versions


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
