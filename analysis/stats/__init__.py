"""Statistical primitives shared by drift, quality and performance: sample weights, the
Benjamini-Hochberg procedure, confidence intervals, decision rules and the typed
``AnalysisPolicy`` (the ``analysis:`` section of monitors.yaml)."""

from analysis.stats.fdr import FdrResult, benjamini_hochberg
from analysis.stats.intervals import Interval, influence_interval, wilson_interval, z_value
from analysis.stats.policy import AnalysisPolicy, FeatureOverride
from analysis.stats.rule import DEFAULT_ALPHA, DEFAULT_MIN_N, DecisionRule
from analysis.stats.weights import InvalidWeightsError, check_weights, effective_sample_size

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_MIN_N",
    "AnalysisPolicy",
    "DecisionRule",
    "FdrResult",
    "FeatureOverride",
    "Interval",
    "InvalidWeightsError",
    "benjamini_hochberg",
    "check_weights",
    "effective_sample_size",
    "influence_interval",
    "wilson_interval",
    "z_value",
]
