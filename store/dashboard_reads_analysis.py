"""Dashboard reads of analysis results: the drift table with its history, quality findings,
per-slice performance and the accuracy proxy.

Analysis results are stored per window for all versions together (version ``*``); every read
here is bounded by a window range. Reads of sampled predictions are in dashboard_reads_samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema
from store.analysis_results import ALL_VERSIONS

__all__ = [
    "AccuracyProxy", "DriftStatistic", "DriftTable", "FeatureDrift", "MetricValue", "QualityFinding",
    "SlicePerformance", "WorstSlice", "accuracy_proxies", "drift_table", "quality_findings", "slice_performance",
]

_r = schema.analysis_results


def _in_range(model: str, kind: str, start: datetime, end: datetime) -> list[sa.ColumnElement[bool]]:
    return [_r.c.model == model, _r.c.version == ALL_VERSIONS, _r.c.kind == kind,
            _r.c.window_start >= start, _r.c.window_start < end]


@dataclass(frozen=True)
class DriftStatistic:
    metric: str
    value: float | None
    threshold: float | None
    status: str  # exceeds | within | insufficient | ...
    p_value: float | None


@dataclass(frozen=True)
class FeatureDrift:
    """A feature's alert decision in the latest window, its statistics, and its history."""

    feature: str
    method: str
    value: float | None  # effect size of the alert method
    threshold: float | None
    status: str  # drift | no_drift | insufficient | no_reference
    n: int
    p_adjusted: float | None
    statistics: tuple[DriftStatistic, ...]
    history: tuple[float | None, ...]  # alert effect size per window in the range, oldest first
    windows_drifted: int


@dataclass(frozen=True)
class DriftTable:
    window_start: datetime | None  # the latest analysed window in the range
    window_end: datetime | None
    windows: int
    features: tuple[FeatureDrift, ...]


def drift_table(engine: Engine, model: str, start: datetime, end: datetime) -> DriftTable:
    """Per feature: the latest window's drift decision and statistics, plus the decision's
    effect size over every window starting in ``[start, end)``."""
    where = [*_in_range(model, "drift", start, end), _r.c.slice_key == "", _r.c.feature != ""]
    history_q = (sa.select(_r.c.window_start, _r.c.window_end, _r.c.feature, _r.c.value, _r.c.status)
                 .where(*where, _r.c.metric == "drift").order_by(_r.c.window_start))
    with engine.connect() as conn:
        history = conn.execute(history_q).all()
        if not history:
            return DriftTable(None, None, 0, ())
        latest_start, latest_end = history[-1].window_start, history[-1].window_end
        latest = conn.execute(sa.select(_r).where(*where, _r.c.window_start == latest_start)
                              .order_by(_r.c.feature, _r.c.metric)).all()
    windows = sorted({row.window_start for row in history})
    position = {w: i for i, w in enumerate(windows)}
    series: dict[str, list[float | None]] = {}
    drifted: dict[str, int] = {}
    for row in history:
        values = series.setdefault(row.feature, [None] * len(windows))
        values[position[row.window_start]] = row.value
        drifted[row.feature] = drifted.get(row.feature, 0) + (row.status == "drift")
    features = []
    for name in sorted({row.feature for row in latest}):
        rows = [row for row in latest if row.feature == name]
        decision = next((row for row in rows if row.metric == "drift"), None)
        if decision is None:
            continue
        details = decision.details or {}
        statistics = tuple(DriftStatistic(row.metric, row.value, row.threshold, row.status,
                                          (row.details or {}).get("p_value"))
                           for row in rows if row.metric != "drift")
        features.append(FeatureDrift(name, str(details.get("method", "")), decision.value, decision.threshold,
                                     decision.status, int(decision.n), details.get("p_adjusted"), statistics,
                                     tuple(series.get(name, ())), drifted.get(name, 0)))
    return DriftTable(latest_start, latest_end, len(windows), tuple(features))


@dataclass(frozen=True)
class QualityFinding:
    check: str
    feature: str
    slice: str  # "" for the whole model, else "key=value"
    value: float | None  # of the latest window with the violation
    threshold: float | None
    n: int
    windows: int  # windows in the range with this violation
    last_window_end: datetime
    details: dict[str, Any]


def quality_findings(engine: Engine, model: str, start: datetime, end: datetime, limit: int = 2_000) -> list[QualityFinding]:
    """Quality violations in windows starting in ``[start, end)``, one per check, feature and
    slice (the latest window's numbers), most recent first."""
    query = (sa.select(_r).where(*_in_range(model, "quality", start, end), _r.c.status == "violation")
             .order_by(_r.c.window_start.desc()).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    found: dict[tuple[str, str, str], QualityFinding] = {}
    counts: dict[tuple[str, str, str], int] = {}
    for row in rows:
        where = f"{row.slice_key}={row.slice_value}" if row.slice_key else ""
        key = (row.metric, row.feature, where)
        counts[key] = counts.get(key, 0) + 1
        if key not in found:  # rows come newest first: keep the latest numbers
            found[key] = QualityFinding(row.metric, row.feature, where, row.value, row.threshold, int(row.n), 0,
                                        row.window_end, dict(row.details or {}))
    return [replace(f, windows=counts[k]) for k, f in found.items()]


@dataclass(frozen=True)
class MetricValue:
    name: str
    value: float | None
    lower: float | None
    upper: float | None
    n: int
    estimated: bool


def _metric(row: Any) -> MetricValue:
    details = row.details or {}
    return MetricValue(row.metric, row.value, details.get("lower"), details.get("upper"), int(row.n),
                       bool(details.get("estimated", False)))


@dataclass(frozen=True)
class WorstSlice:
    slice_key: str
    slice_value: str
    excess: float | None  # slice loss minus the rest's loss
    slice_loss: float | None
    rest_loss: float | None
    loss: str  # error_rate | mae
    n: int
    p_adjusted: float | None


@dataclass(frozen=True)
class SlicePerformance:
    window_start: datetime
    window_end: datetime
    overall: MetricValue
    coverage: MetricValue | None
    slices: tuple[tuple[str, str, MetricValue], ...]  # (key, value, metric), worst value first
    worst: tuple[WorstSlice, ...]


def slice_performance(engine: Engine, model: str, start: datetime, end: datetime,
                      metric: str = "accuracy") -> SlicePerformance | None:
    """``metric`` per slice with its interval, label coverage and the worst slices, of the
    latest window in ``[start, end)`` where labels gave the whole model a value; None when
    no window has one yet."""
    base = _in_range(model, "performance", start, end)
    latest = (sa.select(_r.c.window_start).where(*base, _r.c.metric == metric, _r.c.slice_key == "",
                                                 _r.c.value.is_not(None))
              .order_by(_r.c.window_start.desc()).limit(1))
    with engine.connect() as conn:
        window = conn.execute(latest).scalar()
        if window is None:
            return None
        rows = conn.execute(sa.select(_r).where(*base, _r.c.window_start == window,
                                                _r.c.metric.in_([metric, "label_coverage", "worst_slice"]))).all()
    overall = next(r for r in rows if r.metric == metric and r.slice_key == "")
    coverage = next((_metric(r) for r in rows if r.metric == "label_coverage" and r.slice_key == ""), None)
    slices = [(r.slice_key, r.slice_value, _metric(r)) for r in rows if r.metric == metric and r.slice_key]
    slices.sort(key=lambda s: (s[2].value is None, s[2].value if s[2].value is not None else 0.0, s[0], s[1]))
    worst = tuple(WorstSlice(r.slice_key, r.slice_value, r.value, (r.details or {}).get("slice_loss"),
                             (r.details or {}).get("rest_loss"), str((r.details or {}).get("loss", "")), int(r.n),
                             (r.details or {}).get("p_adjusted"))
                  for r in sorted(rows, key=lambda r: -(r.value or 0.0)) if r.metric == "worst_slice")
    return SlicePerformance(overall.window_start, overall.window_end, _metric(overall), coverage, tuple(slices), worst)


@dataclass(frozen=True)
class AccuracyProxy:
    value: float | None
    lower: float | None
    upper: float | None
    kind: str  # realized (from labels) | estimated (label-free, from calibrated scores)
    coverage: float | None  # labelled share of the window's predictions
    window_end: datetime


def accuracy_proxies(engine: Engine, models: Sequence[str], start: datetime, end: datetime,
                     min_coverage: float = 0.5) -> dict[str, AccuracyProxy]:
    """Per model, the latest window in ``[start, end)``: realized accuracy when at least
    ``min_coverage`` of its predictions have labels, else the label-free expected accuracy."""
    if not models:
        return {}
    base = [_r.c.model.in_(list(models)), _r.c.version == ALL_VERSIONS, _r.c.kind == "performance",
            _r.c.window_start >= start, _r.c.window_start < end, _r.c.slice_key == ""]
    latest = (sa.select(_r.c.model, sa.func.max(_r.c.window_start).label("window_start"))
              .where(*base, _r.c.metric == "label_coverage").group_by(_r.c.model).subquery())
    query = (sa.select(_r).join(latest, (_r.c.model == latest.c.model) & (_r.c.window_start == latest.c.window_start))
             .where(*base, _r.c.metric.in_(["accuracy", "expected_accuracy", "label_coverage"])))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    by_model: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_model.setdefault(row.model, {})[row.metric] = row
    out: dict[str, AccuracyProxy] = {}
    for model, metrics in by_model.items():
        coverage = metrics["label_coverage"].value if "label_coverage" in metrics else None
        realized = metrics.get("accuracy")
        chosen, kind = ((realized, "realized") if realized is not None and realized.value is not None
                        and coverage is not None and coverage >= min_coverage
                        else (metrics.get("expected_accuracy"), "estimated"))
        if chosen is None or chosen.value is None:
            continue
        m = _metric(chosen)
        out[model] = AccuracyProxy(m.value, m.lower, m.upper, kind, coverage, chosen.window_end)
    return out
