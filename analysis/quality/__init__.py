"""Data quality per window: type and null violations, out-of-range values, missing-rate change,
new categories and volume drop, as typed findings."""

from analysis.quality.checks import (
    missing_rate_change, new_categories, not_null, out_of_range, type_violations, volume_drop,
)
from analysis.quality.findings import QualityFinding, QualityReport, QualityStatus
from analysis.quality.report import check_quality

__all__ = [
    "QualityFinding",
    "QualityReport",
    "QualityStatus",
    "check_quality",
    "missing_rate_change",
    "new_categories",
    "not_null",
    "out_of_range",
    "type_violations",
    "volume_drop",
]
