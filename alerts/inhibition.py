"""Inhibition: a firing source alert mutes target alerts with the same values of ``equal`` labels.

As in Alertmanager: only firing sources inhibit; a label missing on both sides counts as equal;
an alert that matches both source and target matchers is never inhibited by an alert that also
matches both (so two such alerts cannot mute each other).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from alerts.alert import Alert, AlertStatus
from alerts.matchers import Matcher, matches_all

__all__ = ["DEFAULT_INHIBIT_RULES", "InhibitRule", "inhibiting_rule", "is_inhibited"]


class InhibitRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source_matchers: tuple[Matcher, ...]
    target_matchers: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()

    def _equal_on(self, source: Mapping[str, str], target: Mapping[str, str]) -> bool:
        return all(source.get(name, "") == target.get(name, "") for name in self.equal)


# A page inhibits the ticket of the same SLO (same model, version, slo and slice).
DEFAULT_INHIBIT_RULES: tuple[InhibitRule, ...] = (
    InhibitRule(
        source_matchers=("severity=page",),  # type: ignore[arg-type]
        target_matchers=("severity=ticket",),  # type: ignore[arg-type]
        equal=("model", "version", "slo", "slice"),
    ),
)


def inhibiting_rule(target: Alert, alerts: Iterable[Alert], rules: Iterable[InhibitRule]) -> InhibitRule | None:
    """Return the first rule under which some firing alert in ``alerts`` inhibits ``target``."""
    sources = [a for a in alerts if a.status is AlertStatus.firing]
    for rule in rules:
        if not matches_all(rule.target_matchers, target.labels):
            continue
        two_sided = matches_all(rule.source_matchers, target.labels)
        for source in sources:
            if source.fingerprint == target.fingerprint or not matches_all(rule.source_matchers, source.labels):
                continue
            if two_sided and matches_all(rule.target_matchers, source.labels):
                continue
            if rule._equal_on(source.labels, target.labels):
                return rule
    return None


def is_inhibited(target: Alert, alerts: Iterable[Alert], rules: Iterable[InhibitRule]) -> bool:
    """True when a firing alert in ``alerts`` inhibits ``target`` under one of ``rules``."""
    return inhibiting_rule(target, alerts, rules) is not None
