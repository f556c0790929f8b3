"""Typed results as JSON-ready dicts."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

__all__ = ["plain"]


def plain(result: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, non-finite floats as None (JSON has no NaN)."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(result).items()}
