"""The canary report of a model over a window -- the thin I/O shell: read which versions served,
their counters and samples and the reference profile, then compare and decide (pure). What
``GET /v1/models/{name}/canary`` and ``modelwatch canary report`` return."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from analysis.canary.comparison import CanaryComparison, compare
from analysis.canary.inputs import VersionCounters
from analysis.canary.roles import Roles, choose_roles
from analysis.canary.samples import version_sample
from analysis.canary.verdict import CanaryVerdict, decide
from analysis.jobs.profiles import ProfileCache
from analysis.jobs.schedule import model_analysis
from config.monitors import Model, Task
from store.analysis_reads import read_window
from store.canary_reads import serving_versions
from store.dashboard_reads import traffic_series

__all__ = ["CanaryReport", "canary_report"]


@dataclass(frozen=True, eq=False)
class CanaryReport:
    model: str
    start: datetime
    end: datetime
    roles: Roles
    reference: str | None  # the reference the versions' inputs were compared with, if stored
    comparison: CanaryComparison
    verdict: CanaryVerdict

    def to_dict(self) -> dict[str, Any]:
        notes = [n for n in (self.roles.note,) if n] + list(self.verdict.notes)
        return {"model": self.model, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "stable": self.roles.stable, "canary": self.roles.canary, "stable_chosen_by": self.roles.why,
                "left_out": list(self.roles.others), "reference": self.reference,
                "verdict": {**self.verdict.to_dict(), "notes": notes}, "comparison": self.comparison.to_dict()}


def _counters(engine: Engine, model: str, version: str, start: datetime, end: datetime) -> VersionCounters:
    # one bucket spanning the window (two when it straddles a step boundary): only totals matter;
    # no extra bounds: a bound no client used would misplace the requests of the bucket it splits
    step = max(1, math.ceil((end - start).total_seconds() / 60.0))
    series = traffic_series(engine, model, start, end, step, version=version, bounds_ms=())
    return VersionCounters(version, series.total_requests, series.total_errors, float(series.latency_sum_ms.sum()),
                           series.bounds_ms, series.total_buckets)


def canary_report(engine: Engine, model: Model, start: datetime, end: datetime, stable: str | None = None,
                  canary: str | None = None, profiles: ProfileCache | None = None) -> CanaryReport:
    """Compare the canary of ``model`` with its stable version over ``[start, end)`` and decide.
    ``stable`` / ``canary`` override the choice (analysis/canary/roles.py); ``profiles`` caches
    reference profiles across calls. Raises CanaryError when there is no canary to compare and
    ValueError when stable and canary are the same version."""
    roles = choose_roles(serving_versions(engine, model.name, start, end), stable, canary, model.canary.stable)
    analysis = model_analysis(model)
    policy = analysis.policy
    data = read_window(engine, model, start, end)
    threshold = policy.performance.decision_threshold
    pairs = [(_counters(engine, model.name, v, start, end), version_sample(model, data, v, threshold))
             for v in (roles.stable, roles.canary)]
    reference_name = analysis.schedule.reference
    reference = (profiles or ProfileCache()).get(engine, model, policy.profile, reference_name)
    comparison = compare(pairs[0], pairs[1], regression=model.task is Task.regression, policy=policy,
                         reference=reference, confidence=1.0 - model.canary.alpha)
    return CanaryReport(model.name, start, end, roles, reference_name if reference is not None else None,
                        comparison, decide(comparison, model.canary))
