"""Who owns a model or one of its SLOs, and where its runbook is.

Every page, ticket, notification and dashboard panel about a model or SLO shows these three
values, resolved here once so they always agree: an SLO's own ``team`` / ``owner`` /
``runbook_url`` win, and each one it leaves unset falls back to its model's. An SLO's team may
also come from its extra ``labels: {team: ...}`` (as its alerts' ``team`` label does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from config.monitors import Model, Monitors
from config.slo import SloSpec

__all__ = ["OWNERSHIP_KEYS", "Ownership", "alert_ownership", "ownership_for_labels", "ownership_of"]

# Alert annotation names, in display order; ``runbook_url`` is the Prometheus/Alertmanager convention.
OWNERSHIP_KEYS = ("owner", "team", "runbook_url")


@dataclass(frozen=True)
class Ownership:
    owner: str | None = None
    team: str | None = None
    runbook_url: str | None = None

    @property
    def declared(self) -> bool:
        """True when the config names any of the three."""
        return any((self.owner, self.team, self.runbook_url))

    def annotations(self) -> dict[str, str]:
        """The declared values as alert annotations (``owner``, ``team``, ``runbook_url``)."""
        return {key: value for key in OWNERSHIP_KEYS if (value := getattr(self, key))}

    @classmethod
    def from_annotations(cls, annotations: Mapping[str, str]) -> Ownership:
        """Read back what ``annotations()`` wrote (absent keys stay None)."""
        return cls(**{key: annotations.get(key) or None for key in OWNERSHIP_KEYS})

    def or_else(self, fallback: Ownership) -> Ownership:
        """These values, each unset one taken from ``fallback``."""
        return Ownership(*(getattr(self, key) or getattr(fallback, key) for key in OWNERSHIP_KEYS))


def ownership_of(model: Model, slo: SloSpec | str | None = None) -> Ownership:
    """The ownership of ``model``, or of its SLO ``slo`` (a spec or a name) with the model's as
    fallback per value. An SLO name the model does not declare gives the model's ownership."""
    spec = next((s for s in model.slos if s.name == slo), None) if isinstance(slo, str) else slo
    if spec is None:
        return Ownership(model.owner, model.team, model.runbook_url)
    return Ownership(
        owner=spec.owner or model.owner,
        team=spec.team or spec.labels.get("team") or model.team,
        runbook_url=spec.runbook_url or model.runbook_url,
    )


def ownership_for_labels(monitors: Monitors, labels: Mapping[str, str]) -> Ownership:
    """The ownership of whatever an alert's labels name: its ``model`` and, when set, its ``slo``.
    Labels of a model the config does not declare give an empty Ownership."""
    model = monitors.model(labels.get("model", ""))
    if model is None:
        return Ownership()
    return ownership_of(model, labels.get("slo") or None)


def alert_ownership(monitors: Monitors, labels: Mapping[str, str], annotations: Mapping[str, str]) -> Ownership:
    """The ownership an alert was sent with (its annotations), completed from the config for an
    alert stored before its model declared one."""
    return Ownership.from_annotations(annotations).or_else(ownership_for_labels(monitors, labels))
