"""Statistical primitives shared by drift, quality and performance: sample weights, the
Benjamini-Hochberg procedure, confidence intervals, and the typed analysis policy."""

from analysis.stats.fdr import FdrResult, benjamini_hochberg
from analysis.stats.intervals import Interval, influence_interval, wilson_interval, z_value
from analysis.stats.weights import InvalidWeightsError, check_weights, effective_sample_size

__all__ = [
    "FdrResult",
    "Interval",
    "InvalidWeightsError",
    "benjamini_hochberg",
    "check_weights",
    "effective_sample_size",
    "influence_interval",
    "wilson_interval",
    "z_value",
]
