"""Canary analysis: two versions of a model serving live traffic at the same time, compared side
by side over the same window -- error rate, latency, predictions, drift against the reference
and, with labels, accuracy or MAE -- and a verdict: promote, roll back or keep watching.

Pure logic (inputs -> comparison -> guards -> verdict) with one I/O shell (report.py)."""

from analysis.canary.comparison import CanaryComparison, VersionSummary, compare
from analysis.canary.inputs import OUTPUT_KINDS, VersionCounters, VersionSample
from analysis.canary.roles import CanaryError, Roles, choose_roles
from analysis.canary.verdict import CanaryVerdict, decide

__all__ = [
    "OUTPUT_KINDS",
    "CanaryComparison",
    "CanaryError",
    "CanaryVerdict",
    "Roles",
    "VersionCounters",
    "VersionSample",
    "VersionSummary",
    "choose_roles",
    "compare",
    "decide",
]
