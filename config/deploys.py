"""Deployment-aware monitoring in monitors YAML: expected versions, canary policy, cost models.

    models:
      - name: fraud-detector
        expected_versions: ["2.4.1", "2.5.0"]   # traffic from any other version pages
        canary: {window: 1h, min_requests: 500, alpha: 0.05}
        costs:
          - {version: "*", per_hour: 3.20}       # the serving fleet, whatever it serves
          - {version: "2.5.0", per_request: 0.00002}
        cost_alerts: {max_per_1k_predictions: 0.05, max_per_day: 120}

Every model here is frozen with ``extra="forbid"``, like config.monitors, so a typo is an error.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.durations import Duration

__all__ = ["CanaryPolicy", "CostModel", "CostThresholds"]

_SEVERITY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CostModel(_Frozen):
    """What serving a version costs: a fleet price per hour, a price per request, or both.

    ``version: "*"`` applies to every version without its own entry. A per-hour fleet cost is
    charged for every hour the version served any traffic (a fleet that serves nothing is not
    this model's cost); a per-request price is charged on the exact request counters.
    """

    version: str = "*"
    per_hour: float | None = Field(default=None, ge=0.0)
    per_request: float | None = Field(default=None, ge=0.0)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _some_price(self) -> CostModel:
        if self.per_hour is None and self.per_request is None:
            raise ValueError("a cost model needs per_hour, per_request or both")
        return self


class CostThresholds(_Frozen):
    """Alert when cost per 1,000 predictions or spend per day crosses a bound."""

    max_per_1k_predictions: float | None = Field(default=None, gt=0.0)
    max_per_day: float | None = Field(default=None, gt=0.0)
    severity: str = Field(default="ticket", pattern=_SEVERITY_PATTERN)


class CanaryPolicy(_Frozen):
    """How two versions serving at once are compared (analysis of the canary)."""

    # The version taken as stable; by default the one that served traffic first of the two.
    stable: str | None = None
    window: Duration = timedelta(hours=1)
    # Below this many requests per version the verdict stays "keep watching".
    min_requests: int = Field(default=500, ge=1)
    # Significance level of each comparison (the same machinery as the shadow comparison).
    alpha: float = Field(default=0.05, gt=0.0, lt=0.5)
    # Differences smaller than these are not worth a rollback even when significant.
    max_error_rate_increase: float = Field(default=0.005, ge=0.0)
    max_latency_p99_increase: float = Field(default=0.2, ge=0.0, description="relative, 0.2 = +20%")
    max_accuracy_drop: float = Field(default=0.01, ge=0.0)
    max_mae_increase: float = Field(default=0.05, ge=0.0, description="regression, relative: 0.05 = +5% MAE")
    # With labels, below this many labelled predictions per version the verdict stays "keep
    # watching" (accuracy is not judged on a handful of labels).
    min_labels: int = Field(default=200, ge=1)

    @field_validator("stable", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # YAML reads `stable: 2.5` as a float; versions are text everywhere.
        return value if value is None or isinstance(value, str) else str(value)
