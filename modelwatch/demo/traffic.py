"""The demo's synthetic model: its features, the ground truth, the production model's answers,
and the timeline (a feature drifting, a short outage, labels arriving late).

Pure functions of a random generator and the seconds since the demo started; the thread that
sends them through the SDK is ``TrafficGenerator``, a thin shell at the bottom.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

MODEL = "demo-fraud"
COUNTRIES = ("US", "DE", "FR", "BR")
CHANNELS = ("web", "ios", "android")
NUMERIC = ("amount", "account_age_days", "hour_of_day")


@dataclass(frozen=True)
class Timeline:
    """What happens when, in seconds since the demo started (history is replayed at start)."""

    rate_per_s: float = 20.0  # live predictions per second
    history_s: float = 15 * 60  # the last 15 minutes are replayed at start...
    history_per_s: float = 3.0  # ...at this rate of the time they stand for
    drift_from_s: float = -8 * 60  # amounts from 8 minutes before the start on are larger
    outage_s: tuple[float, float] = (20.0, 45.0)  # serving fails for these seconds
    outage_error_share: float = 0.7
    label_delay_s: float = 10.0  # ground truth arrives this long after the prediction

    def drifting(self, t: float) -> bool:
        return t >= self.drift_from_s

    def failing(self, t: float) -> bool:
        return self.outage_s[0] <= t < self.outage_s[1]


def features(rng: random.Random, drifted: bool) -> dict[str, Any]:
    """One request's features; drift multiplies amounts by about 2.5 (a new merchant mix)."""
    amount = rng.lognormvariate(3.5, 0.8) * (2.5 if drifted else 1.0)
    return {
        "amount": round(amount, 2),
        "account_age_days": rng.randint(0, 3000),
        "hour_of_day": rng.randint(0, 23),
        "country": rng.choices(COUNTRIES, weights=(5, 2, 2, 1))[0],
        "channel": rng.choices(CHANNELS, weights=(6, 3, 2))[0],
    }


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def fraud_probability(f: dict[str, Any]) -> float:
    """The ground truth the labels are drawn from (what a perfect model would score)."""
    z = -0.8 + 1.3 * (math.log1p(f["amount"]) - 3.5) - 0.0009 * f["account_age_days"]
    z += 2.5 * (f["country"] == "BR") + 1.5 * (f["channel"] == "android") + 1.5 * (f["hour_of_day"] < 6)
    return _sigmoid(z)


def production_score(f: dict[str, Any]) -> float:
    """The model in production: older, it knows amounts and account age only."""
    return _sigmoid(-0.2 + 1.0 * (math.log1p(f["amount"]) - 3.5) - 0.0006 * f["account_age_days"])


def true_label(rng: random.Random, f: dict[str, Any]) -> str:
    return "1" if rng.random() < fraud_probability(f) else "0"


def encode(f: dict[str, Any]) -> list[float]:
    """The candidate's input row: numerics in declared order, then one-hot country and channel
    (what shadow replay feeds a one-input model by default)."""
    return ([float(f[name]) for name in NUMERIC] + [1.0 if f["country"] == c else 0.0 for c in COUNTRIES]
            + [1.0 if f["channel"] == c else 0.0 for c in CHANNELS])


class TrafficGenerator:
    """Sends the demo's traffic through a ``modelwatch.Client`` until ``stop`` is set."""

    def __init__(self, client: Any, timeline: Timeline | None = None, seed: int = 7,
                 clock: Any = time.time) -> None:
        self.client = client
        self.timeline = timeline or Timeline()
        self.rng = random.Random(seed)
        self.clock = clock
        self.stop = threading.Event()
        self.sent = 0
        self.labelled = 0
        self._labels: deque[tuple[float, str, str]] = deque()  # (due, prediction id, label)
        self._start = clock()

    def _one(self, at: float, t: float) -> None:
        f = features(self.rng, self.timeline.drifting(t))
        score = production_score(f)
        prediction_id = f"demo-{self.sent}"
        failing = self.timeline.failing(t) and self.rng.random() < self.timeline.outage_error_share
        self.client.log_prediction(prediction_id, f, "1" if score >= 0.5 else "0", score=round(score, 4),
                                   latency_ms=self.rng.uniform(3, 40) * (4 if failing else 1),
                                   error="UpstreamTimeout: feature store did not answer" if failing else None,
                                   slices={"channel": f["channel"]}, timestamp=at)
        self._labels.append((at + self.timeline.label_delay_s, prediction_id, true_label(self.rng, f)))
        self.sent += 1

    def _due_labels(self, now: float) -> None:
        while self._labels and self._labels[0][0] <= now:
            due, prediction_id, label = self._labels.popleft()
            self.client.log_label(prediction_id, label, timestamp=due)
            self.labelled += 1

    def replay_history(self) -> None:
        """The last ``history_s`` seconds at a low rate, stamped with their past times."""
        n = int(self.timeline.history_s * self.timeline.history_per_s)
        for i in range(n):
            t = -self.timeline.history_s + i / self.timeline.history_per_s
            self._one(self._start + t, t)
        self._due_labels(self._start)

    def run(self) -> None:
        """Live traffic at ``rate_per_s``, labels as they come due, until ``stop``."""
        period = 1.0 / self.timeline.rate_per_s
        next_at = self.clock()
        while not self.stop.is_set():
            now = self.clock()
            while next_at <= now:
                self._one(next_at, next_at - self._start)
                next_at += period
            self._due_labels(now)
            self.stop.wait(0.05)
