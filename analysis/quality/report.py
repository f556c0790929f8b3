"""All data-quality checks of one window, from the declared schema and the reference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from analysis.drift.profile import Profile
from analysis.quality.checks import (
    missing_rate_change, new_categories, not_null, out_of_range, type_violations, volume_drop,
)
from analysis.quality.findings import QualityFinding, QualityReport
from analysis.stats.policy import AnalysisPolicy
from config.monitors import Feature, FeatureType


def check_quality(
    reference: Profile,
    current: Mapping[str, np.ndarray],
    features: Sequence[Feature],
    weights: np.ndarray | None = None,
    policy: AnalysisPolicy | None = None,
    *,
    expected_rows: float | None = None,
    window: Profile | None = None,
) -> QualityReport:
    """Type, null, range, missing-rate and new-category checks per declared feature, plus the
    volume check when ``expected_rows`` is given (compared with the window's weighted rows).

    ``window`` is the window's profile if the drift engine already built it (saves a pass).
    A declared feature with no column is a type violation of every row (the whole column is
    missing from the payloads). Text features get the type and null checks only.
    """
    policy = policy or AnalysisPolicy()
    q = policy.quality
    rows = len(next(iter(current.values()))) if current else 0
    findings: list[QualityFinding] = []
    for feature in features:
        name, kind = feature.name, feature.type.value
        values = current.get(name)
        if values is None:
            values = np.full(rows, None, dtype=object)
        if kind != "text":
            findings.append(type_violations(name, values, kind, weights, max_rate=q.type_violation_rate))
        if kind == "numeric" and feature.range is not None:
            findings.append(out_of_range(name, values, *feature.range, weights, max_rate=q.out_of_range_rate))
        if name not in reference.features:
            continue
        summary = window[name] if window is not None and name in window.features else \
            reference[name].summarise(values, weights)
        if not feature.nullable:
            findings.append(not_null(name, summary))
        findings.append(missing_rate_change(name, reference[name], summary,
                                            max_increase=policy.missing_rate_increase(name),
                                            alpha=q.alpha, min_n=q.min_n))
        if kind == FeatureType.categorical.value:
            findings.append(new_categories(name, reference[name], summary, feature.categories,
                                           max_rate=q.new_category_rate))
    if expected_rows is not None:
        observed = float(rows if weights is None else np.asarray(weights, dtype=np.float64).sum())
        findings.append(volume_drop(observed, expected_rows, max_drop=q.volume_drop, alpha=q.alpha))
    return QualityReport(tuple(findings))
