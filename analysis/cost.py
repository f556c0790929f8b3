"""Cost per inference from the exact request counters (pure: plain values in, typed results out).

The input is one row per (version, UTC clock hour) in which the version served at least one
request: ``(version, hour_start, requests)``, as store.cost_reads aggregates ``request_counters``.
A version's price is its cost model (config.deploys.CostModel, resolved by Model.cost_model):

    request_cost = requests * per_request
    fleet_cost   = active_hours * per_hour      active_hours: UTC clock hours with >= 1 request
    cost         = fleet_cost + request_cost
    cost per 1,000 predictions = cost / requests * 1000

Whole clock hours, not active minutes / 60: a fleet that serves one request a minute runs (and
is billed) the whole hour, and an operator can recount the hours from their own logs. Ranges are
therefore whole hours too (``hour_range``), so that every figure adds up across ranges and days.
Requests of a version without a cost model are counted apart (``unpriced_requests``), never in
the denominator of a price. Conventions, with worked examples: docs/cost.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from config.deploys import CostModel

__all__ = [
    "CostSummary", "DayProjection", "DaySpend", "Pricing", "ServedHours", "VersionCost", "ceil_hour", "day_start",
    "daily_spend", "floor_hour", "hour_range", "money", "project_day", "summarize",
]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# (version, UTC hour start, requests in that hour): the shape store.cost_reads returns.
ServedHours = Iterable[tuple[str, datetime, int]]
Pricing = Callable[[str], CostModel | None]


def floor_hour(t: datetime) -> datetime:
    """The start of ``t``'s UTC clock hour (aware)."""
    return t.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def ceil_hour(t: datetime) -> datetime:
    """The first whole UTC hour at or after ``t``."""
    start = floor_hour(t)
    return start if start == t else start + HOUR


def day_start(t: datetime) -> datetime:
    """Midnight UTC of ``t``'s day."""
    return t.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def hour_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """``[start, end)`` widened to whole UTC hours: the range every cost figure is over."""
    return floor_hour(start), ceil_hour(end)


@dataclass(frozen=True)
class VersionCost:
    """What one version cost over a range; ``price`` is None when no cost model covers it."""

    version: str
    requests: int
    active_hours: int
    price: CostModel | None

    @property
    def fleet_cost(self) -> float:
        return self.active_hours * (self.price.per_hour or 0.0) if self.price else 0.0

    @property
    def request_cost(self) -> float:
        return self.requests * (self.price.per_request or 0.0) if self.price else 0.0

    @property
    def cost(self) -> float:
        return self.fleet_cost + self.request_cost

    @property
    def per_1k_predictions(self) -> float | None:
        """cost / requests * 1000; None without a price or without requests."""
        if self.price is None or self.requests == 0:
            return None
        return self.cost / self.requests * 1000.0


@dataclass(frozen=True)
class CostSummary:
    """Every version's cost over ``[start, end)`` and the model's totals over the priced ones."""

    start: datetime
    end: datetime
    versions: tuple[VersionCost, ...]

    @property
    def priced(self) -> tuple[VersionCost, ...]:
        return tuple(v for v in self.versions if v.price is not None)

    @property
    def currency(self) -> str | None:
        """The priced versions' currency (config keeps one per model); None when none is priced."""
        currencies = {v.price.currency for v in self.priced if v.price is not None}
        if len(currencies) > 1:
            raise ValueError(f"cost models mix currencies {sorted(currencies)}: totals would be meaningless")
        return next(iter(currencies), None)

    @property
    def requests(self) -> int:
        """Requests of priced versions: the denominator of cost per 1,000 predictions."""
        return sum(v.requests for v in self.priced)

    @property
    def unpriced_requests(self) -> int:
        return sum(v.requests for v in self.versions if v.price is None)

    @property
    def fleet_cost(self) -> float:
        return math.fsum(v.fleet_cost for v in self.versions)

    @property
    def request_cost(self) -> float:
        return math.fsum(v.request_cost for v in self.versions)

    @property
    def cost(self) -> float:
        return math.fsum(v.cost for v in self.versions)

    @property
    def per_1k_predictions(self) -> float | None:
        """Total cost / priced requests * 1000 (a request-weighted mean of the versions')."""
        return self.cost / self.requests * 1000.0 if self.requests else None


@dataclass(frozen=True)
class DaySpend:
    """Spend of one UTC day (or the part of it inside the range); ``complete`` when the whole
    day lies in the range and has ended."""

    day: date
    summary: CostSummary
    complete: bool

    @property
    def cost(self) -> float:
        return self.summary.cost


@dataclass(frozen=True)
class DayProjection:
    """Spend of ``now``'s UTC day so far (``summary``, per version), and projected to midnight
    (see ``project_day``)."""

    day: date
    now: datetime
    summary: CostSummary
    projected: float

    @property
    def spent(self) -> float:
        return self.summary.cost


def money(value: float, currency: str) -> str:
    """An amount as people read it: cents from 1 up (``1,234.50 USD``), three significant digits
    below (``0.0213 USD``, where cost per 1,000 predictions of a cheap model lives)."""
    text = f"{value:,.2f}" if value == 0 or abs(value) >= 1 else f"{value:.3g}"
    return f"{text} {currency}"


def _tally(hours: ServedHours, start: datetime, end: datetime) -> dict[str, tuple[int, set[datetime]]]:
    """version -> (requests, active hour starts) for hours in ``[start, end)``."""
    out: dict[str, tuple[int, set[datetime]]] = {}
    for version, hour, requests in hours:
        if requests <= 0 or not start <= hour < end:
            continue
        total, active = out.get(version, (0, set()))
        active.add(floor_hour(hour))
        out[version] = (total + int(requests), active)
    return out


def summarize(hours: ServedHours, pricing: Pricing, start: datetime, end: datetime) -> CostSummary:
    """The cost of every version with requests in ``[start, end)`` (whole hours: see
    ``hour_range``), versions in name order."""
    tally = _tally(hours, start, end)
    versions = tuple(VersionCost(v, n, len(active), pricing(v)) for v, (n, active) in sorted(tally.items()))
    return CostSummary(start, end, versions)


def daily_spend(hours: ServedHours, pricing: Pricing, start: datetime, end: datetime,
                now: datetime) -> tuple[DaySpend, ...]:
    """Spend per UTC day for every day that ``[start, end)`` touches, oldest first; a day cut by
    the range covers only its part inside, and is ``complete`` only if whole and over at ``now``."""
    by_day: dict[datetime, list[tuple[str, datetime, int]]] = {}
    for row in hours:
        by_day.setdefault(day_start(row[1]), []).append(row)
    out: list[DaySpend] = []
    day = day_start(start)
    while day < end:
        part_start, part_end = max(day, start), min(day + DAY, end)
        complete = part_start == day and part_end == day + DAY and part_end <= now
        out.append(DaySpend(day.date(), summarize(by_day.get(day, ()), pricing, part_start, part_end), complete))
        day += DAY
    return tuple(out)


def project_day(hours: ServedHours, pricing: Pricing, now: datetime) -> DayProjection:
    """Spend of ``now``'s UTC day so far, and projected to midnight.

    Only versions still serving (a request in the current or the previous clock hour) add to
    the projection, each with: ``per_hour`` for every hour left after the current one (and the
    current one too while it has no request yet), plus ``per_request`` times the requests left,
    at the rate of the recent window ``[previous hour start, now)``. ``hours`` must cover the
    hour before today as well as today.
    """
    today, current = day_start(now), floor_hour(now)
    rows = list(hours)
    spent = summarize(rows, pricing, today, today + DAY)
    charged = _tally(rows, today, today + DAY)
    recent = _tally(rows, current - HOUR, current + HOUR)
    window = max(now - (current - HOUR), timedelta(minutes=1))
    left = today + DAY - now
    rest: list[float] = []
    for version, (requests, _active) in sorted(recent.items()):
        price = pricing(version)
        if price is None:
            continue
        current_charged = current in charged.get(version, (0, set()))[1]
        hours_left = round((today + DAY - current) / HOUR) - (1 if current_charged else 0)
        requests_left = requests * (left / window)
        rest.append(hours_left * (price.per_hour or 0.0) + requests_left * (price.per_request or 0.0))
    return DayProjection(today.date(), now, spent, spent.cost + math.fsum(rest))
