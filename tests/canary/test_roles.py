"""Which version is stable and which is the canary (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from analysis.canary import CanaryError, choose_roles
from store.canary_reads import VersionSeen

T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)


def seen(version: str, hours: float | None, requests: int = 100, sampled: int = 10) -> VersionSeen:
    return VersionSeen(version, requests, sampled, None if hours is None else T0 + timedelta(hours=hours))


def test_stable_served_first_and_the_canary_is_the_newest_other() -> None:
    roles = choose_roles([seen("2.5.0", 5), seen("2.4.1", 0)])
    assert (roles.stable, roles.canary, roles.others, roles.why) == ("2.4.1", "2.5.0", (), "the version that served first")
    assert roles.note is None


def test_more_than_two_versions_compare_the_newest_and_say_so() -> None:
    roles = choose_roles([seen("v1", 0), seen("v3", None), seen("v2", 3), seen("v0", 1, requests=0, sampled=0)])
    assert (roles.stable, roles.canary, roles.others) == ("v1", "v3", ("v2",))  # no record sorts as newest
    assert roles.note == "3 versions served in the window; compared canary v3 with stable v1 and left out v2"


def test_the_policy_and_the_request_choose_the_stable_version() -> None:
    versions = [seen("v1", 0), seen("v2", 1)]
    assert choose_roles(versions, policy_stable="v2").stable == "v2"
    assert choose_roles(versions, policy_stable="v2").canary == "v1"
    assert choose_roles(versions, stable="v2", policy_stable="v1").why == "named in the request"
    fallback = choose_roles(versions, policy_stable="v0")
    assert fallback.stable == "v1"
    assert fallback.why == "the version that served first (the canary policy's stable v0 served no traffic in the window)"
    assert choose_roles(versions, canary="v1", policy_stable="v1").stable == "v2"


def test_no_canary_to_compare_is_an_error_that_names_the_versions() -> None:
    with pytest.raises(CanaryError, match=r"a canary needs two versions serving in the window; only v1 served"):
        choose_roles([seen("v1", 0), seen("v2", 1, requests=0, sampled=0)])
    with pytest.raises(CanaryError, match=r"none served"):
        choose_roles([])
    with pytest.raises(CanaryError, match=r"canary version 'v9' served no traffic in the window \(versions serving: v1, v2\)"):
        choose_roles([seen("v1", 0), seen("v2", 1)], canary="v9")
    with pytest.raises(ValueError, match="both 'v1'"):
        choose_roles([seen("v1", 0), seen("v2", 1)], stable="v1", canary="v1")
