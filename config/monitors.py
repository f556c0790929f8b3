"""Monitors as code: the typed shape of ``monitors.yaml``.

Everything here is a frozen pydantic model with ``extra="forbid"``, so a typo in the YAML is an
error that names its path instead of a silently ignored key. Sections owned by later parts of
the service (analysis thresholds, SLOs, alert routes and receivers) are accepted as free-form
mappings for now and validated by the part that owns them.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.deploys import CanaryPolicy, CostModel, CostThresholds
from config.slo import SloSpec
from config.urls import LinkUrl

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
_NAME = re.compile(NAME_PATTERN)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Task(str, Enum):
    binary = "binary"
    multiclass = "multiclass"
    regression = "regression"


class FeatureType(str, Enum):
    numeric = "numeric"
    categorical = "categorical"
    text = "text"


class PiiAction(str, Enum):
    drop = "drop"
    hash = "hash"  # keyed HMAC-SHA256, stable across calls with the same key
    mask = "mask"


class Feature(_Frozen):
    name: str = Field(pattern=NAME_PATTERN)
    type: FeatureType
    range: tuple[float, float] | None = None
    categories: tuple[str, ...] | None = None
    nullable: bool = True
    description: str | None = None

    @model_validator(mode="after")
    def _check_type_specific(self) -> Feature:
        if self.range is not None:
            if self.type is not FeatureType.numeric:
                raise ValueError(f"range is only allowed on numeric features, not {self.type.value}")
            if self.range[0] > self.range[1]:
                raise ValueError(f"range lower bound {self.range[0]} is above upper bound {self.range[1]}")
        if self.categories is not None and self.type is not FeatureType.categorical:
            raise ValueError(f"categories are only allowed on categorical features, not {self.type.value}")
        return self


class PiiPolicy(_Frozen):
    """How personal data is treated, client-side in the SDK and again in the collector."""

    fields: dict[str, PiiAction] = Field(default_factory=dict)
    # Free-text detectors applied to every string value that is not otherwise handled.
    detectors: tuple[Literal["email", "phone", "card"], ...] = ("email", "phone", "card")
    # Name of the environment variable holding the HMAC key; the key itself never enters config.
    hash_key_env: str = "MODELWATCH_PII_KEY"
    # Prediction ids (predictions and labels alike, so they still join): detect = hash an id in
    # which a detector finds PII, hash = hash every id, keep = store ids as sent.
    prediction_id: Literal["detect", "hash", "keep"] = "detect"


class Model(_Frozen):
    name: str = Field(pattern=NAME_PATTERN)
    task: Task
    description: str | None = None
    classes: tuple[str, ...] | None = None
    positive_class: str | None = None
    features: tuple[Feature, ...] = Field(min_length=1)
    # Column names used by bulk uploads (CSV / Parquet) for the model's outputs and labels.
    prediction_field: str = "prediction"
    score_field: str = "score"
    label_field: str = "label"
    slices: tuple[str, ...] = ()
    sampling_rate: float = Field(default=1.0, gt=0.0, le=1.0)
    pii: PiiPolicy = Field(default_factory=PiiPolicy)
    team: str | None = None
    owner: str | None = None  # a person or rota; shown with the team on every page and panel
    runbook_url: LinkUrl | None = None  # http(s) only: checked when the config loads
    # Versions that may serve traffic; traffic from any other version pages (empty: any).
    expected_versions: tuple[str, ...] = ()
    canary: CanaryPolicy = Field(default_factory=CanaryPolicy)
    costs: tuple[CostModel, ...] = ()
    cost_alerts: CostThresholds | None = None
    # Drift/quality thresholds; validated by analysis/ (its AnalysisPolicy) when it loads them.
    analysis: dict[str, Any] = Field(default_factory=dict)
    slos: tuple[SloSpec, ...] = ()

    @field_validator("positive_class", mode="before")
    @classmethod
    def _class_as_text(cls, value: Any) -> Any:
        # YAML reads `positive_class: 1` as an int; labels are compared as text everywhere.
        return None if value is None else str(value)

    @field_validator("expected_versions", mode="before")
    @classmethod
    def _versions_as_text(cls, value: Any) -> Any:
        # YAML reads `expected_versions: [2.5]` as a float; versions are text everywhere.
        return value if value is None or isinstance(value, str) else tuple(str(v) for v in value)

    @field_validator("classes", mode="before")
    @classmethod
    def _classes_as_text(cls, value: Any) -> Any:
        return None if value is None else tuple(str(v) for v in value)

    @model_validator(mode="after")
    def _check_consistency(self) -> Model:
        names = [f.name for f in self.features]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate feature names: {', '.join(duplicates)}")
        if self.task is Task.binary:
            if self.classes is not None and len(self.classes) != 2:
                raise ValueError(f"a binary model has exactly 2 classes, got {len(self.classes)}")
            if self.positive_class is None:
                raise ValueError("a binary model needs positive_class")
            if self.classes is not None and self.positive_class not in self.classes:
                raise ValueError(f"positive_class {self.positive_class!r} is not one of classes {list(self.classes)}")
        if self.task is Task.regression and (self.classes or self.positive_class):
            raise ValueError("a regression model has no classes or positive_class")
        slo_names = [s.name for s in self.slos]
        duplicate_slos = sorted({n for n in slo_names if slo_names.count(n) > 1})
        if duplicate_slos:
            raise ValueError(f"duplicate SLO names: {', '.join(duplicate_slos)}")
        cost_versions = [c.version for c in self.costs]
        duplicate_costs = sorted({v for v in cost_versions if cost_versions.count(v) > 1})
        if duplicate_costs:
            raise ValueError(f"more than one cost model for version(s): {', '.join(duplicate_costs)}")
        if self.cost_alerts is not None and not self.costs:
            raise ValueError("cost_alerts needs costs: there is nothing to price the requests with")
        currencies = sorted({c.currency for c in self.costs})
        if len(currencies) > 1:  # a model's spend and cost per 1,000 predictions are one sum
            raise ValueError(f"cost models of one model must share a currency, got {', '.join(currencies)}")
        unknown_pii = sorted(set(self.pii.fields) - set(names) - set(self.slices))
        if unknown_pii:
            raise ValueError(f"pii.fields names unknown fields: {', '.join(unknown_pii)}")
        return self

    def feature(self, name: str) -> Feature | None:
        return next((f for f in self.features if f.name == name), None)

    def cost_model(self, version: str) -> CostModel | None:
        """The cost model of ``version``: its own entry, else the ``"*"`` entry, else None."""
        own = next((c for c in self.costs if c.version == version), None)
        return own or next((c for c in self.costs if c.version == "*"), None)


class Monitors(_Frozen):
    """The whole monitors file."""

    version: Literal[1] = 1
    models: tuple[Model, ...] = ()
    dashboard_url: str | None = None
    # Alert routing, receivers and inhibition follow Alertmanager's shapes; they are validated
    # by alerts.config.parse_alerting, which needs the receiver classes (`modelwatch check` runs it).
    routes: dict[str, Any] = Field(default_factory=dict)
    receivers: tuple[dict[str, Any], ...] = ()
    inhibit_rules: tuple[dict[str, Any], ...] | None = None

    @model_validator(mode="after")
    def _unique_models(self) -> Monitors:
        names = [m.name for m in self.models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate model names: {', '.join(duplicates)}")
        return self

    def model(self, name: str) -> Model | None:
        return next((m for m in self.models if m.name == name), None)


def is_valid_name(name: str) -> bool:
    return bool(_NAME.match(name))
