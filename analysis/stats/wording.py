"""Numbers as people read them in a verdict: 97.9%, +1.2 pp, p = 0.003, 3.1 ms."""

from __future__ import annotations

import math

__all__ = ["ms", "p_value", "pct", "pp", "relative", "signed"]


def pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100.0 * x:.1f}%"


def pp(x: float) -> str:
    """A difference of proportions in percentage points, signed."""
    return "n/a" if not math.isfinite(x) else f"{100.0 * x:+.1f} pp"


def p_value(p: float, name: str = "p") -> str:
    """``p = 0.003`` (or ``q = ...`` for a BH-adjusted value with ``name="q"``)."""
    if not math.isfinite(p):
        return f"{name} n/a"
    return f"{name} < 0.001" if p < 0.001 else f"{name} = {p:.3f}"


def ms(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.3g} ms"


def signed(x: float, digits: int = 3) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:+.{digits}g}"


def relative(x: float) -> str:
    """A relative change, signed: +35% (0.35)."""
    return "n/a" if not math.isfinite(x) else f"{100.0 * x:+.0f}%"
