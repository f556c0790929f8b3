"""Owner, team and runbook on every alert, whatever its kind.

The cycle passes every candidate it built (SLO burn, analysis findings and any other kind)
through ``with_ownership`` once, so each alert carries ``owner``, ``team`` and ``runbook_url``
annotations resolved from the monitors config (config.ownership: the SLO's values, else the
model's). Annotations, not labels: changing an owner or a runbook must not change an alert's
identity (its fingerprint) and re-page. Receivers and the page renderer read them from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from alerts.cycle_plan import Candidate
from alerts.labels import Labels
from alerts.notification import Link
from config.monitors import Monitors
from config.ownership import Ownership, ownership_for_labels

__all__ = ["ownership_annotations", "ownership_details", "runbook_links", "with_ownership"]


def ownership_annotations(monitors: Monitors, labels: Mapping[str, str]) -> Labels:
    """``owner`` / ``team`` / ``runbook_url`` for an alert with ``labels`` (its model and slo);
    empty when the config declares none of them."""
    return Labels(ownership_for_labels(monitors, labels).annotations())


def with_ownership(candidates: Sequence[Candidate], monitors: Monitors) -> list[Candidate]:
    """``candidates`` with ownership annotations added. An annotation a candidate already has
    wins (an alert kind may point at a runbook of its own)."""
    out = []
    for candidate in candidates:
        extra = ownership_annotations(monitors, candidate.alert.labels)
        if extra:
            alert = replace(candidate.alert, annotations=extra.merge(candidate.alert.annotations))
            candidate = replace(candidate, alert=alert)
        out.append(candidate)
    return out


def ownership_details(owners: Iterable[Ownership]) -> dict[str, str]:
    """The "Owner" and "Team" detail fields of a page or ticket: each distinct declared value,
    in order of first appearance (a group may hold alerts of several models)."""
    owners = list(owners)
    details: dict[str, str] = {}
    for key, title in (("owner", "Owner"), ("team", "Team")):
        values = dict.fromkeys(value for o in owners if (value := getattr(o, key)))
        if values:
            details[title] = ", ".join(values)
    return details


def runbook_links(runbooks: Iterable[tuple[str, str]]) -> tuple[Link, ...]:
    """One link per distinct runbook URL of ``(url, what it is for)`` pairs: "Runbook" when
    there is one, "Runbook (what)" when a notification holds several."""
    first: dict[str, str] = {}
    for url, what in runbooks:
        first.setdefault(url, what)
    if len(first) == 1:
        return (Link(next(iter(first)), "Runbook"),)
    return tuple(Link(url, f"Runbook ({what})") for url, what in first.items())
