"""How numbers read on the dashboard (pure): one place, so every page writes 99.95 % the same way."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

__all__ = ["budget_end", "burn", "count", "duration", "ms", "pct", "state", "trigger_alert", "value", "when"]

MISSING = "—"


def _bad(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def pct(value: float | None, digits: int = 2) -> str:
    """A ratio as a percentage: 0.99951 -> '99.95 %'."""
    return MISSING if _bad(value) else f"{100.0 * value:.{digits}f} %"  # type: ignore[operator]


def ms(value: float | None) -> str:
    """Milliseconds with sensible precision: '4.2 ms', '187 ms', '2.50 s'."""
    if _bad(value):
        return MISSING
    v = float(value)  # type: ignore[arg-type]
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if 0 < v < 0.1:
        return f"{v * 1000:.1f} µs"
    return f"{v:.1f} ms" if v < 10 else f"{v:.0f} ms"


def burn(value: float | None) -> str:
    """A burn rate: '14.4x'."""
    return MISSING if _bad(value) else f"{value:.1f}x" if value < 100 else f"{value:.0f}x"  # type: ignore[operator]


def count(value: float | None) -> str:
    """An event count with thousands separators."""
    return MISSING if _bad(value) else f"{value:,.0f}"


def duration(seconds: float | None) -> str:
    """'3d 4h', '5h 12m', '42m', or 'not burning' for None (no exhaustion in sight)."""
    if _bad(seconds):
        return "not burning"
    s = max(float(seconds), 0.0)  # type: ignore[arg-type]
    days, rest = divmod(int(s), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def when(t: datetime | None) -> str:
    """A UTC time to the minute: '2025-03-01 14:05 UTC'."""
    return MISSING if t is None else t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def budget_end(budget_remaining: float | None, seconds: float | None) -> str:
    """When the budget runs out: 'exhausted' once it is spent, else as ``duration``."""
    if budget_remaining is not None and math.isfinite(budget_remaining) and budget_remaining <= 0:
        return "exhausted"
    return duration(seconds)


def value(v: object) -> str:
    """A sampled input value as text: floats to 4 significant digits, None as a dash."""
    if v is None:
        return MISSING
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


STATES = {"insufficient_labels": "few labels", "no_data": "no data", "low_traffic": "low traffic"}


def state(value: str) -> str:
    """An SLO or rule state in a few words: 'insufficient_labels' -> 'few labels'."""
    return STATES.get(value, value.replace("_", " "))


def trigger_alert(entry: Mapping[str, Any]) -> str:
    """One alert of a retrain trigger (store.retrain_reads details): 'FeatureDrift amount (psi 0.31)'."""
    text = f"{entry.get('alertname')} {entry.get('feature') or entry.get('slo') or ''}".strip()
    return text + (f" ({entry.get('metric')} {entry['value']:.3g})" if entry.get("value") is not None else "")
