"""Typed alerting config: parse monitors YAML's ``routes``, ``receivers`` and ``inhibit_rules``.

``receivers`` entries are discriminated by ``type`` (pagerduty, slack, webhook, alertmanager,
email, retrain); every receiver a route names must exist, and a route to a retrain receiver must
group by model (its cooldown and cap count per model). Secrets appear only as environment variable
names (``*_env``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.cycle_plan import all_routes
from alerts.inhibition import DEFAULT_INHIBIT_RULES, InhibitRule
from alerts.receivers import AlertmanagerConfig, EmailConfig, PagerDutyConfig, RetrainConfig, SlackConfig, WebhookConfig
from alerts.retrain import check_retrain_routes
from alerts.routing import Route, RouteSpec, build_route_tree

__all__ = ["AlertingConfig", "InhibitRule", "ReceiverSpec", "RouteSpec", "parse_alerting"]

ReceiverSpec = Annotated[
    PagerDutyConfig | SlackConfig | WebhookConfig | AlertmanagerConfig | EmailConfig | RetrainConfig,
    Field(discriminator="type"),
]


class AlertingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    route: RouteSpec
    receivers: tuple[ReceiverSpec, ...] = Field(min_length=1)
    inhibit_rules: tuple[InhibitRule, ...] = DEFAULT_INHIBIT_RULES

    @model_validator(mode="after")
    def _check_names(self) -> AlertingConfig:
        names = [r.name for r in self.receivers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate receiver names: {', '.join(duplicates)}")
        build_route_tree(self.route)  # raises on a root without receiver or with matchers
        unknown = sorted(set(_route_receivers(self.route)) - set(names))
        if unknown:
            raise ValueError(f"routes name unknown receivers: {', '.join(unknown)} (known: {', '.join(names)})")
        check_retrain_routes(all_routes(self.tree()), set(self.retrain_receivers()))
        return self

    def tree(self) -> Route:
        """The resolved routing tree."""
        return build_route_tree(self.route)

    def receiver(self, name: str) -> PagerDutyConfig | SlackConfig | WebhookConfig | AlertmanagerConfig | EmailConfig | RetrainConfig:
        return next(r for r in self.receivers if r.name == name)

    def retrain_receivers(self) -> dict[str, RetrainConfig]:
        """Retrain receivers by name: the cycle gates what it enqueues to them (alerts.retrain)."""
        return {r.name: r for r in self.receivers if isinstance(r, RetrainConfig)}


def _route_receivers(spec: RouteSpec) -> list[str]:
    names = [spec.receiver] if spec.receiver else []
    for child in spec.routes:
        names.extend(_route_receivers(child))
    return names


def parse_alerting(routes: Mapping[str, Any], receivers: Sequence[Mapping[str, Any]], inhibit_rules: Sequence[Mapping[str, Any]] | None = None) -> AlertingConfig:
    """Validate the free-form sections of config.monitors.Monitors; raises pydantic.ValidationError."""
    data: dict[str, Any] = {"route": routes, "receivers": list(receivers)}
    if inhibit_rules is not None:
        data["inhibit_rules"] = list(inhibit_rules)
    return AlertingConfig.model_validate(data)
