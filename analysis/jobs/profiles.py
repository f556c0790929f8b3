"""Reference profiles for the jobs: fitted once from the raw reference, then read back.

A window is compared with the stored profile only; the raw reference is read again solely when
the profile is missing or was fitted with other settings (``analysis.profile`` or the model's
feature kinds changed). Profiles are cached per process by (reference id, sha256), so a cycle
over many windows decodes each profile once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine

from analysis.drift.profile import Profile, feature_kinds, fit_profile
from analysis.stats.policy import ProfileSettings
from config.monitors import Model
from store.feature_decode import decode_documents, feature_columns, typed_feature_columns
from store.profiles import StoredReference, reference_feature_texts, store_profile, stored_reference

logger = logging.getLogger("modelwatch.analysis")
FIT_KEY = "fit"  # stored beside Profile.to_dict()'s keys: how the profile was fitted


def fit_spec(model: Model, settings: ProfileSettings) -> dict[str, Any]:
    """What a stored profile must have been fitted with to be reused."""
    return {"settings": settings.model_dump(), "kinds": dict(feature_kinds(model.features))}


def fit_reference(engine: Engine, model: Model, reference: StoredReference, settings: ProfileSettings) -> Profile:
    """Fit the profile from the raw rows and store it (with its fit spec); returns it."""
    texts = reference_feature_texts(engine, reference.id)
    typed = typed_feature_columns(model, texts)
    columns = typed if typed is not None else feature_columns(model, decode_documents(texts))[0]
    profile = fit_profile(columns, feature_kinds(model.features), bins=settings.bins,
                          sketch_size=settings.sketch_size, top_k=settings.top_k, max_tracked=settings.max_tracked)
    store_profile(engine, reference, {**profile.to_dict(), FIT_KEY: fit_spec(model, settings)})
    logger.info("fitted reference profile %r of model %s from %d rows", reference.name, model.name, reference.n_rows)
    return profile


class ProfileCache:
    """Reference profiles by (model, reference name), revalidated against the stored sha256."""

    def __init__(self) -> None:
        self._profiles: dict[tuple[int, str, str], Profile] = {}
        self._lock = threading.Lock()

    def get(self, engine: Engine, model: Model, settings: ProfileSettings, name: str = "default") -> Profile | None:
        """The profile of reference ``name``, fitting it on first use; None without a reference."""
        reference = stored_reference(engine, model.name, name, with_profile=False)
        if reference is None:
            return None
        spec = fit_spec(model, settings)
        key = (reference.id, reference.sha256, repr(sorted(spec["kinds"].items())) + repr(spec["settings"]))
        with self._lock:
            cached = self._profiles.get(key)
        if cached is not None:
            return cached
        reference = stored_reference(engine, model.name, name) or reference
        stored = reference.profile
        if isinstance(stored, Mapping) and stored.get(FIT_KEY) == spec:
            profile = Profile.from_dict(stored)
        else:
            profile = fit_reference(engine, model, reference, settings)
        with self._lock:
            self._profiles[key] = profile
        return profile
