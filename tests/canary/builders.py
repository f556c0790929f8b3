"""Canary inputs built by hand: counters with exact counts and samples with a chosen number of
right and wrong labelled rows, so each test states its numbers."""

from __future__ import annotations

import numpy as np

from analysis.canary import VersionCounters, VersionSample

BOUNDS = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0)
# share of requests per bucket: p99 falls in (50, 100] ms, 0.5% of requests are slower
FAST = np.array([0.10, 0.30, 0.30, 0.20, 0.095, 0.005, 0.0, 0.0, 0.0])
# the same, with a slow tail: 5% of requests in (250, 500] ms
SLOW_TAIL = np.array([0.10, 0.30, 0.30, 0.15, 0.095, 0.005, 0.05, 0.0, 0.0])


def counters(version: str, requests: int, errors: int = 0, shape: np.ndarray = FAST) -> VersionCounters:
    buckets = np.floor(shape * requests)
    buckets[1] += requests - buckets.sum()  # rounding remainder into a middle bucket
    return VersionCounters(version, requests, errors, float(np.dot(buckets, (0, *BOUNDS[:-1], BOUNDS[-1]))),
                           BOUNDS, buckets)


def sample(version: str, right: int = 0, wrong: int = 0, unlabelled: int = 0, *, seed: int = 0,
           score_shift: float = 0.0, amount_shift: float = 0.0, abs_errors: np.ndarray | None = None) -> VersionSample:
    """``right`` + ``wrong`` labelled rows (or ``abs_errors`` for a regressor) and ``unlabelled``
    rows, with uniform scores (plus ``score_shift``) and a normal ``amount`` feature."""
    rng = np.random.default_rng(seed)
    if abs_errors is not None:
        outcome = np.concatenate([abs_errors, np.full(unlabelled, np.nan)])
    else:
        outcome = np.concatenate([np.ones(right), np.zeros(wrong), np.full(unlabelled, np.nan)])
    n = outcome.shape[0]
    score = np.clip(rng.random(n) + score_shift, 0.0, 1.0)
    prediction = np.where(score >= 0.5, "1", "0").astype(object)
    channel = rng.choice(np.array(["web", "ios", "android"], dtype=object), n)
    return VersionSample(version, np.ones(n), outcome, {"prediction": prediction, "score": score},
                         {"amount": rng.normal(100.0 + amount_shift, 20.0, n), "channel": channel})
