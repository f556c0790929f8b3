"""Deterministic sampling on the prediction id, shared by the SDK, the collector and shadow replay.

The hash is BLAKE2b with an 8-byte digest (``hashlib.blake2b(id.encode("utf-8"), digest_size=8)``)
read as a big-endian unsigned 64-bit integer ``h``. An id is sampled at rate ``r`` iff
``h < floor(r * 2**64)``. Because the decision depends only on the id and the rate, every process
agrees on it, and the ids sampled at a lower rate are a subset of those sampled at a higher one.
Each sampled record stands for ``1 / r`` requests (its weight).
"""

from __future__ import annotations

import math
from hashlib import blake2b

__all__ = ["HASH_SPACE", "id_hash", "is_sampled", "sample_threshold", "sample_weight"]

HASH_SPACE = 1 << 64


def _check_rate(rate: float) -> float:
    rate = float(rate)
    if not (0.0 <= rate <= 1.0) or math.isnan(rate):
        raise ValueError(f"sample rate must be within [0, 1], got {rate!r}")
    return rate


def id_hash(prediction_id: str) -> int:
    """Return the 64-bit sampling hash of ``prediction_id`` (BLAKE2b-64 of its UTF-8, big-endian)."""
    return int.from_bytes(blake2b(prediction_id.encode("utf-8"), digest_size=8).digest(), "big")


def sample_threshold(rate: float) -> int:
    """Return ``floor(rate * 2**64)``: ids whose hash is below it are sampled.

    Raises ValueError when ``rate`` is outside [0, 1].
    """
    rate = _check_rate(rate)
    if rate >= 1.0:
        return HASH_SPACE
    # Exact integer arithmetic: float(rate) * 2**64 is exact, floor of it is an int.
    return math.floor(rate * HASH_SPACE)


def is_sampled(prediction_id: str, rate: float) -> bool:
    """Return True when ``prediction_id`` is in the deterministic sample at ``rate``.

    Rate 1 samples everything, rate 0 nothing. Raises ValueError when ``rate`` is outside [0, 1].
    """
    threshold = sample_threshold(rate)
    if threshold >= HASH_SPACE:
        return True
    if threshold <= 0:
        return False
    return id_hash(prediction_id) < threshold


def sample_weight(rate: float) -> float:
    """Return the weight ``1 / rate`` carried by each sampled record.

    Raises ValueError when ``rate`` is outside (0, 1].
    """
    rate = _check_rate(rate)
    if rate == 0.0:
        raise ValueError("sample rate 0 samples nothing, so a sample has no weight")
    return 1.0 / rate
