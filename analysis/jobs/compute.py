"""Every result of one window, from its data and the reference profile (pure)."""

from __future__ import annotations

from collections.abc import Collection

from analysis.drift.profile import Profile
from analysis.jobs.drift_job import drift_rows
from analysis.jobs.freshness_job import freshness_rows
from analysis.jobs.performance_job import performance_rows
from analysis.jobs.quality_job import quality_rows
from analysis.jobs.results import DRIFT, FRESHNESS, INSUFFICIENT, PERFORMANCE, QUALITY, WINDOW_METRIC, ResultRow
from analysis.jobs.schedule import ModelAnalysis
from analysis.jobs.segments import slice_segments
from config.monitors import Model
from store.analysis_reads import WindowData


def compute_window(model: Model, analysis: ModelAnalysis, data: WindowData, reference: Profile | None,
                   kinds: Collection[str], expected_rows: float | None = None) -> list[ResultRow]:
    """Result rows of ``kinds`` (drift, quality, performance, freshness) for the window.

    Without a reference, drift is one ``no_reference`` row and quality runs the checks that
    need none (types, ranges, volume); an empty window gets its volume check and one
    ``insufficient`` drift row.
    """
    policy, schedule = analysis.policy, analysis.schedule
    segments = slice_segments(data.slices, data.weight, schedule.max_slice_values) if data.n else []
    rows: list[ResultRow] = []
    profiles: dict[str, Profile] = {}
    if DRIFT in kinds:
        if reference is None:
            rows.append(ResultRow(DRIFT, WINDOW_METRIC, status="no_reference", n=data.n,
                                  details={"reference": schedule.reference}))
        elif data.n == 0:
            rows.append(ResultRow(DRIFT, WINDOW_METRIC, status=INSUFFICIENT, details={"reason": "no predictions"}))
        else:
            found, _report, profiles = drift_rows(reference, data.features, data.weight, segments, policy)
            rows.extend(found)
    if QUALITY in kinds:
        rows.extend(quality_rows(reference or Profile({}), data.features, data.raw_features, model.features,
                                 data.weight, segments, policy, expected_rows=expected_rows, profiles=profiles))
    if PERFORMANCE in kinds and data.n:
        rows.extend(performance_rows(model, data, segments, policy))
    if FRESHNESS in kinds:
        rows.extend(freshness_rows(data))
    return rows
