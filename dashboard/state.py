"""What every page shows -- model, version, time range -- as URL query parameters (pure).

A link carries the whole selection (``?model=fraud&version=v2&range=7d``, or ``from``/``to`` for
a custom range), so a link pasted into a page or a ticket opens the same view. Parsing never
fails: a value that does not parse falls back to the default and is reported as a problem the
page shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

__all__ = ["ALL_VERSIONS", "DEFAULT_RANGE", "RANGES", "Selection", "bucket_minutes", "parse_selection"]

ALL_VERSIONS = "all"
DEFAULT_RANGE = "24h"
CUSTOM = "custom"
RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(hours=24),
    "7d": timedelta(days=7), "30d": timedelta(days=30),
}
# Query keys the selection owns; pages may add their own (feature, slo, candidate, alert).
SELECTION_KEYS = ("model", "version", "range", "from", "to")


@dataclass(frozen=True)
class Selection:
    model: str | None  # None: no model is configured
    version: str  # ALL_VERSIONS or one version
    range: str  # a key of RANGES, or "custom"
    start: datetime
    end: datetime
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def version_filter(self) -> str | None:
        """The version to filter on, None for every version."""
        return None if self.version == ALL_VERSIONS else self.version

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    def query(self) -> dict[str, str]:
        """Query parameters that reproduce this selection (defaults left out)."""
        out: dict[str, str] = {}
        if self.model is not None:
            out["model"] = self.model
        if self.version != ALL_VERSIONS:
            out["version"] = self.version
        if self.range == CUSTOM:
            out["from"], out["to"] = _iso(self.start), _iso(self.end)
        elif self.range != DEFAULT_RANGE:
            out["range"] = self.range
        return out


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time; naive means UTC. Raises ValueError."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def floor_minute(t: datetime) -> datetime:
    """``t`` without seconds: the same minute gives the same cache keys."""
    return t.replace(second=0, microsecond=0)


def _first(params: Mapping[str, str | Sequence[str]], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value[0] if value else None


def parse_selection(params: Mapping[str, str | Sequence[str]], models: Sequence[str], now: datetime,
                    versions: Sequence[str] | None = None) -> Selection:
    """The selection in ``params`` (st.query_params), against the configured ``models`` and,
    when known, the model's ``versions``. ``end`` of a preset range is ``now`` floored to the
    minute."""
    problems: list[str] = []
    model = _first(params, "model")
    if model not in models:
        if model is not None:
            problems.append(f"model {model!r} is not configured; showing {models[0] if models else 'none'}")
        model = models[0] if models else None
    version = _first(params, "version") or ALL_VERSIONS
    if versions is not None and version != ALL_VERSIONS and version not in versions:
        problems.append(f"version {version!r} has no traffic recorded for {model}")
    end = floor_minute(now)
    start_text, end_text = _first(params, "from"), _first(params, "to")
    if start_text or end_text:
        try:
            start = parse_time(start_text) if start_text else None
            stop = parse_time(end_text) if end_text else end
            if start is None:
                raise ValueError("from is missing")
            if start >= stop:
                raise ValueError(f"from {start_text} is not before to {end_text or 'now'}")
            return Selection(model, version, CUSTOM, start, stop, tuple(problems))
        except ValueError as error:
            problems.append(f"custom range ignored: {error}")
    name = _first(params, "range") or DEFAULT_RANGE
    if name not in RANGES:
        problems.append(f"range {name!r} is not one of {', '.join(RANGES)}; showing {DEFAULT_RANGE}")
        name = DEFAULT_RANGE
    return Selection(model, version, name, end - RANGES[name], end, tuple(problems))


def bucket_minutes(span: timedelta) -> int:
    """Time-series step for a range: about 100-300 points, whole minutes that divide an hour or a day."""
    for limit, step in ((timedelta(hours=2), 1), (timedelta(hours=8), 5), (timedelta(days=2), 15),
                        (timedelta(days=8), 60)):
        if span <= limit:
            return step
    return 240
