"""Drift: reference profiles, the statistic registry, decisions and the drift engine.

Importing this package registers the built-in statistics (divergence, distance, categorical).
"""

from analysis.drift import categorical, distance, divergence  # noqa: F401  (register statistics)
from analysis.drift.categorical_profile import CategoricalSummary, fit_categorical
from analysis.drift.numeric_profile import GridMismatchError, NumericSummary, fit_numeric
from analysis.drift.profile import Profile, ProfileMismatchError, fit_profile
from analysis.drift.registry import (
    REGISTRY, FeatureKind, Registry, Statistic, StatResult, Status, UnknownStatisticError, register,
)

__all__ = [
    "REGISTRY",
    "CategoricalSummary",
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
    "fit_categorical",
    "fit_numeric",
    "fit_profile",
    "register",
]
