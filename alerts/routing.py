"""The routing tree, as in Alertmanager: which receivers get an alert, grouped how, and when.

An alert enters at the root (which matches everything) and walks down depth first: at each
node, children are tried in order; a matching child's own subtree decides; unless that child
has ``continue: true`` the walk stops at the first matching child. A node none of whose
children match handles the alert itself. Unset ``receiver``, ``group_by`` and timers are
inherited from the parent; the root's defaults are Alertmanager's (30s, 5m, 4h).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.alert import Alert
from alerts.labels import Labels
from alerts.matchers import Matcher, matches_all
from config.durations import Duration

__all__ = ["GROUP_BY_ALL", "Route", "RouteSpec", "build_route_tree", "group_key", "group_labels", "route"]

GROUP_BY_ALL = "..."
DEFAULT_GROUP_WAIT = timedelta(seconds=30)
DEFAULT_GROUP_INTERVAL = timedelta(minutes=5)
DEFAULT_REPEAT_INTERVAL = timedelta(hours=4)


class RouteSpec(BaseModel):
    """One node of ``routes:`` in monitors YAML (the top-level mapping is the root)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    receiver: str | None = None
    matchers: tuple[Matcher, ...] = ()
    continue_: bool = Field(default=False, alias="continue")
    group_by: tuple[str, ...] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    routes: tuple[RouteSpec, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> RouteSpec:
        if self.group_by and GROUP_BY_ALL in self.group_by and len(self.group_by) > 1:
            raise ValueError(f"group_by '...' must be alone, got {list(self.group_by)}")
        if self.group_interval is not None and self.group_interval <= timedelta(0):
            raise ValueError("group_interval must be positive")
        if self.repeat_interval is not None and self.repeat_interval <= timedelta(0):
            raise ValueError("repeat_interval must be positive")
        return self


@dataclass(frozen=True)
class Route:
    """A resolved node: every setting filled in from its ancestors."""

    key: str  # stable id: matcher chain and child indexes, e.g. '{}/{severity="page"}[0]'
    receiver: str
    matchers: tuple[Matcher, ...]
    continue_: bool
    group_by: tuple[str, ...]  # ('...',) groups by all labels
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    routes: tuple[Route, ...] = ()

    @property
    def groups_by_all(self) -> bool:
        return self.group_by == (GROUP_BY_ALL,)


def build_route_tree(spec: RouteSpec) -> Route:
    """Resolve inheritance. Raises ValueError if the root has matchers, ``continue`` or no receiver."""
    if spec.matchers or spec.continue_:
        raise ValueError("the root route matches every alert: it cannot have matchers or continue")
    if not spec.receiver:
        raise ValueError("the root route needs a receiver (alerts no child route matches go there)")
    root = Route(
        key="{}",
        receiver=spec.receiver,
        matchers=(),
        continue_=False,
        group_by=spec.group_by or (),
        group_wait=_pick(spec.group_wait, DEFAULT_GROUP_WAIT),
        group_interval=_pick(spec.group_interval, DEFAULT_GROUP_INTERVAL),
        repeat_interval=_pick(spec.repeat_interval, DEFAULT_REPEAT_INTERVAL),
    )
    return _with_children(root, spec)


def _pick(value: timedelta | None, inherited: timedelta) -> timedelta:
    return inherited if value is None else value


def _with_children(node: Route, spec: RouteSpec) -> Route:
    children = []
    for index, child in enumerate(spec.routes):
        resolved = Route(
            key=f"{node.key}/{{{','.join(str(m) for m in child.matchers)}}}[{index}]",
            receiver=child.receiver or node.receiver,
            matchers=child.matchers,
            continue_=child.continue_,
            group_by=node.group_by if child.group_by is None else child.group_by,
            group_wait=_pick(child.group_wait, node.group_wait),
            group_interval=_pick(child.group_interval, node.group_interval),
            repeat_interval=_pick(child.repeat_interval, node.repeat_interval),
        )
        children.append(_with_children(resolved, child))
    return Route(**{**node.__dict__, "routes": tuple(children)})


def route(tree: Route, alert: Alert | Mapping[str, str]) -> tuple[Route, ...]:
    """Return the routes (receivers with grouping and timers) that handle an alert (or labels)."""
    return _match(tree, alert.labels if isinstance(alert, Alert) else alert)


def _match(node: Route, labels: Mapping[str, str]) -> tuple[Route, ...]:
    if not matches_all(node.matchers, labels):
        return ()
    found: list[Route] = []
    for child in node.routes:
        matched = _match(child, labels)
        found.extend(matched)
        if matched and not child.continue_:
            break
    return tuple(found) if found else (node,)


def group_labels(node: Route, labels: Mapping[str, str]) -> Labels:
    """The labels that identify the alert's group on this route (all of them for ``'...'``)."""
    if node.groups_by_all:
        return Labels(labels)
    return Labels(labels).only(node.group_by)


def group_key(node: Route, labels: Mapping[str, str]) -> str:
    """A stable key for the alert's group: route key and group labels, e.g. ``{}/...[0]:{slo="a"}``."""
    return f"{node.key}:{group_labels(node, labels)!r}"
