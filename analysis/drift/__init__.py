"""Drift: reference profiles, the statistic registry, decisions and the drift engine.

Importing this package registers the built-in statistics (divergence, distance, categorical).
"""

from analysis.drift import categorical, distance, divergence  # noqa: F401  (register statistics)
from analysis.drift.categorical_profile import CategoricalSummary, fit_categorical
from analysis.drift.decision import Decision, DecisionRule, DecisionStatus, decide
from analysis.drift.engine import DriftReport, FeatureDrift, compute_drift, compute_drift_profiles
from analysis.drift.exact import ks_exact, wasserstein_exact
from analysis.drift.numeric_profile import GridMismatchError, NumericSummary, fit_numeric
from analysis.drift.profile import Profile, ProfileMismatchError, feature_kinds, fit_profile
from analysis.drift.registry import (
    REGISTRY, FeatureKind, Registry, Statistic, StatResult, Status, UnknownStatisticError, register,
)

__all__ = [
    "REGISTRY",
    "CategoricalSummary",
    "Decision",
    "DecisionRule",
    "DecisionStatus",
    "DriftReport",
    "FeatureDrift",
    "FeatureKind",
    "GridMismatchError",
    "NumericSummary",
    "Profile",
    "ProfileMismatchError",
    "Registry",
    "StatResult",
    "Statistic",
    "Status",
    "UnknownStatisticError",
    "compute_drift",
    "compute_drift_profiles",
    "decide",
    "feature_kinds",
    "fit_categorical",
    "fit_numeric",
    "fit_profile",
    "ks_exact",
    "register",
    "wasserstein_exact",
]
