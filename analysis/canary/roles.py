"""Which version is stable and which is the canary (pure).

Stable: the version named in the request, else the policy's ``stable``, else the version that
served first (its first traffic or deploy, whichever is known earlier). Canary: the version named
in the request, else the newest other version with traffic in the window. With more than two
versions serving, the others are left out and said so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.canary_reads import VersionSeen

__all__ = ["CanaryError", "Roles", "VersionSeen", "choose_roles"]


class CanaryError(LookupError):
    """No canary to analyse: a named version served no traffic, or only one version did."""


@dataclass(frozen=True)
class Roles:
    stable: str
    canary: str
    others: tuple[str, ...]  # further versions serving in the window, left out of the comparison
    why: str  # how the stable version was chosen, in words

    @property
    def note(self) -> str | None:
        if not self.others:
            return None
        return (f"{len(self.others) + 2} versions served in the window; compared canary {self.canary} with stable "
                f"{self.stable} and left out {', '.join(self.others)}")


def _order(seen: VersionSeen) -> tuple[bool, datetime | None, str]:
    # unknown first-seen times sort last (newest): a version without a record is a new one
    return seen.since is None, seen.since, seen.version


def choose_roles(seen: Sequence[VersionSeen], stable: str | None = None, canary: str | None = None,
                 policy_stable: str | None = None) -> Roles:
    """The roles among the versions ``seen`` with traffic in the window (any order). A policy
    stable that served nothing in the window (or is the named canary) is passed over, and the
    reason says so.

    Raises CanaryError when a named version has no traffic in the window or fewer than two
    versions served, and ValueError when stable and canary name the same version."""
    serving = sorted((s for s in seen if s.requests > 0 or s.sampled > 0), key=_order)
    names = [s.version for s in serving]
    if stable is not None and canary is not None and stable == canary:
        raise ValueError(f"stable and canary are both {stable!r}: name two different versions")
    for role, name in (("stable", stable), ("canary", canary)):
        if name is not None and name not in names:
            served = ", ".join(names) or "none"
            raise CanaryError(f"{role} version {name!r} served no traffic in the window (versions serving: {served})")
    if len(names) < 2:
        raise CanaryError(f"a canary needs two versions serving in the window; "
                          f"{'only ' + names[0] if names else 'none'} served")
    if stable is not None:
        chosen, why = stable, "named in the request"
    elif policy_stable is not None and policy_stable in names and policy_stable != canary:
        chosen, why = policy_stable, "the canary policy's stable version"
    else:
        chosen = next(n for n in names if n != canary)
        why = "the version that served first" + (
            f" (the canary policy's stable {policy_stable} served no traffic in the window)"
            if policy_stable is not None and policy_stable not in names else "")
    if canary is None:
        canary = [n for n in names if n != chosen][-1]
    return Roles(chosen, canary, tuple(n for n in names if n not in (chosen, canary)), why)
