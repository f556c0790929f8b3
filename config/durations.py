"""Durations as written in monitors YAML: ``30d``, ``1h``, ``5m``, ``1h30m``, ``90s`` or seconds.

One parser for SLO windows and alert routing timers, so ``5m`` means the same thing everywhere.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["Duration", "format_duration", "parse_duration"]

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|w|d|h|m|s)")


def parse_duration(value: Any) -> timedelta:
    """Return a timedelta for ``value``: a timedelta, seconds (int/float) or text like ``1h30m``.

    Raises ValueError for an empty, negative or malformed duration (the message names it).
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError(f"duration {value!r} is not a number of seconds or text like '5m'")
    elif isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text == "0":
            return timedelta(0)
        position, seconds = 0, 0.0
        for match in _PART.finditer(text):
            if match.start() != position:
                break
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            position = match.end()
        if not text or position != len(text):
            raise ValueError(f"duration {value!r} is not like '30d', '1h', '5m', '1h30m' or '90s'")
    else:
        raise ValueError(f"duration {value!r} is not a number of seconds or text like '5m'")
    if seconds < 0:
        raise ValueError(f"duration {value!r} is negative")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Return the shortest ``1d2h3m4s`` text for ``value`` (``0s`` for zero), as YAML would say it."""
    total = value.total_seconds()
    if total == 0:
        return "0s"
    parts = []
    remaining = int(total)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    fraction_ms = round((total - int(total)) * 1000)
    if fraction_ms:
        parts.append(f"{fraction_ms}ms")
    return "".join(parts)


# A timedelta field that accepts '5m' text and serialises back to it.
Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)]
