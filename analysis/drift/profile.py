"""Profiles: the per-feature summaries of a reference dataset or of a window.

``fit_profile`` builds a reference profile from the raw reference once; it is stored as JSON
(the ``references.profile`` column). ``Profile.summarise`` bins a window's columns on the
reference's bins, giving a window profile of the same shape, so hourly window profiles merge
into a day's (``merge``) and drift is a function of two profiles -- the raw reference is never
read again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from analysis.drift.categorical_profile import (
    DEFAULT_MAX_TRACKED, DEFAULT_TOP_K, CategoricalSummary, fit_categorical,
)
from analysis.drift.numeric_profile import DEFAULT_BINS, DEFAULT_SKETCH_SIZE, NumericSummary, fit_numeric
from analysis.drift.registry import FeatureKind
from config.monitors import Feature, FeatureType

Summary = NumericSummary | CategoricalSummary
PROFILE_FORMAT = 1


class ProfileMismatchError(ValueError):
    """Profiles with different features or bins cannot be merged or compared."""


@dataclass(frozen=True, eq=False)
class Profile:
    """Summaries by feature name; a reference profile or a window profile on its bins."""

    features: Mapping[str, Summary]

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", MappingProxyType(dict(self.features)))

    def __getitem__(self, name: str) -> Summary:
        return self.features[name]

    @property
    def rows(self) -> int:
        return max((s.rows for s in self.features.values()), default=0)

    def summarise(self, columns: Mapping[str, np.ndarray], weights: np.ndarray | None = None) -> Profile:
        """Window profile of ``columns`` on this profile's bins.

        Every profiled feature must be present (raises KeyError naming the missing one); extra
        columns are ignored. Raises InvalidWeightsError for bad weights.
        """
        missing = [name for name in self.features if name not in columns]
        if missing:
            raise KeyError(f"window has no column for profiled feature(s): {', '.join(missing)}")
        return Profile({name: s.summarise(columns[name], weights) for name, s in self.features.items()})

    def merge(self, other: Profile) -> Profile:
        """Feature-wise sum of two profiles on the same bins (see NumericSummary.merge and
        CategoricalSummary.merge for what is exact). Raises ProfileMismatchError."""
        if set(self.features) != set(other.features):
            raise ProfileMismatchError(
                f"profiles have different features: {sorted(set(self.features) ^ set(other.features))}")
        merged: dict[str, Summary] = {}
        for name, s in self.features.items():
            o = other.features[name]
            if s.kind != o.kind:
                raise ProfileMismatchError(f"feature {name!r} is {s.kind} in one profile, {o.kind} in the other")
            merged[name] = s.merge(o)  # type: ignore[arg-type]
        return Profile(merged)

    def to_dict(self) -> dict[str, Any]:
        return {"format": PROFILE_FORMAT, "features": {n: s.to_dict() for n, s in self.features.items()}}

    def to_json(self) -> str:
        # allow_nan=False: the column is JSON (RFC 8259); non-finite numbers are already None
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        if data.get("format") != PROFILE_FORMAT:
            raise ValueError(f"unsupported profile format {data.get('format')!r}, expected {PROFILE_FORMAT}")
        features: dict[str, Summary] = {}
        for name, body in data["features"].items():
            if body["kind"] == "numeric":
                features[name] = NumericSummary.from_dict(body)
            elif body["kind"] == "categorical":
                features[name] = CategoricalSummary.from_dict(body)
            else:
                raise ValueError(f"feature {name!r} has unknown kind {body['kind']!r}")
        return cls(features)

    @classmethod
    def from_json(cls, text: str | bytes) -> Profile:
        return cls.from_dict(json.loads(text))


def fit_profile(
    columns: Mapping[str, np.ndarray],
    kinds: Mapping[str, FeatureKind],
    weights: np.ndarray | None = None,
    *,
    bins: int = DEFAULT_BINS,
    sketch_size: int = DEFAULT_SKETCH_SIZE,
    top_k: int = DEFAULT_TOP_K,
    max_tracked: int = DEFAULT_MAX_TRACKED,
) -> Profile:
    """Reference profile of the features named in ``kinds`` ("numeric" or "categorical").

    Raises KeyError for a feature without a column, ValueError for an unknown kind.
    """
    features: dict[str, Summary] = {}
    for name, kind in kinds.items():
        if name not in columns:
            raise KeyError(f"reference has no column for feature {name!r}")
        if kind == "numeric":
            features[name] = fit_numeric(columns[name], weights, bins=bins, sketch_size=sketch_size)
        elif kind == "categorical":
            features[name] = fit_categorical(columns[name], weights, top_k=top_k, max_tracked=max_tracked)
        else:
            raise ValueError(f"feature {name!r}: kind must be 'numeric' or 'categorical', got {kind!r}")
    return Profile(features)


def feature_kinds(features: Sequence[Feature]) -> dict[str, FeatureKind]:
    """Profiled kinds of a model's declared features: numeric and categorical ones (text
    features have no distribution statistics)."""
    return {f.name: f.type.value for f in features if f.type is not FeatureType.text}  # type: ignore[misc]
