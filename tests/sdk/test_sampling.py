from __future__ import annotations

import hashlib

import pytest

from modelwatch.sampling import HASH_SPACE, id_hash, is_sampled, sample_threshold, sample_weight


def test_hash_is_blake2b_64_big_endian() -> None:
    expected = int.from_bytes(hashlib.blake2b(b"req-123", digest_size=8).digest(), "big")
    assert id_hash("req-123") == expected
    assert 0 <= id_hash("é-unicode-✓") < HASH_SPACE


def test_decision_is_hash_against_rate_times_2_64() -> None:
    for i in range(2000):
        pid = f"req-{i}"
        assert is_sampled(pid, 0.25) == (id_hash(pid) < 0.25 * 2**64)


def test_deterministic_and_nested_across_rates() -> None:
    ids = [f"order-{i}" for i in range(20_000)]
    low = {i for i in ids if is_sampled(i, 0.05)}
    high = {i for i in ids if is_sampled(i, 0.2)}
    assert low == {i for i in ids if is_sampled(i, 0.05)}  # same answer every time
    assert low <= high  # a lower rate samples a subset
    assert 0.04 < len(low) / len(ids) < 0.06
    assert 0.18 < len(high) / len(ids) < 0.22


def test_edges() -> None:
    assert all(is_sampled(f"x{i}", 1.0) for i in range(100))
    assert not any(is_sampled(f"x{i}", 0.0) for i in range(100))
    assert sample_threshold(1.0) == HASH_SPACE
    assert sample_threshold(0.5) == 2**63
    assert sample_weight(0.1) == pytest.approx(10.0)


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan")])
def test_invalid_rate_names_the_value(rate: float) -> None:
    with pytest.raises(ValueError, match="sample rate"):
        is_sampled("x", rate)


def test_weight_of_rate_zero_is_an_error() -> None:
    with pytest.raises(ValueError):
        sample_weight(0.0)
