"""The decision rule of one statistic: effect-size threshold, significance level, minimum n."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ALPHA = 0.05
DEFAULT_MIN_N = 100


@dataclass(frozen=True)
class DecisionRule:
    """Threshold on the effect size (None: informational), significance level, minimum n_eff."""

    threshold: float | None
    alpha: float = DEFAULT_ALPHA
    min_n: float = DEFAULT_MIN_N

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.min_n < 0:
            raise ValueError(f"min_n must be >= 0, got {self.min_n}")
        if self.threshold is not None and not self.threshold >= 0:
            raise ValueError(f"threshold must be >= 0, got {self.threshold}")
