"""The hourly SLI rollup's per-cycle budget on a real database (SQLite and PostgreSQL): SLOs
left behind read their hour rings straight from request_counters and get exactly the counts
the rollup gives; build_rollups (run by the scheduler after the alert cycle) catches them up,
and the cycles after it read them from the rollup."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alerts.slo_counts import build_rollups, read_slo_counts
from analysis.jobs.cycle import run_alerts
from analysis.jobs.run import RunContext
from analysis.slo import SliCounts, SloSpec, evaluate_slo
from analysis.slo.horizon import plan_reads
from config.loader import parse_monitors
from config.slo import SloKind
from store import schema_alerts
from store.slo_reads import epoch_minute
from tests.alerts_io.conftest import T0
from tests.alerts_io.streams import write_counters

AVAILABILITY = SloSpec(name="availability", kind=SloKind.availability, objective=0.999)
LATENCY = SloSpec(name="fast", kind=SloKind.latency, objective=0.99, threshold_ms=100)
MODELS = ("a", "b", "c")
MINUTES = 3 * 1440 + 130
SLOS = [(m, spec) for m in MODELS for spec in (AVAILABILITY, LATENCY)]
KEYS = {(m, spec.name) for m, spec in SLOS}


def counters(engine: Engine) -> None:
    for k, model in enumerate(MODELS):
        rng = np.random.default_rng(k)
        requests = rng.poisson(30, MINUTES).astype(float)
        errors = rng.binomial(requests.astype(int), 0.002 * (k + 1)).astype(float)
        slow = np.minimum(rng.poisson(0.3 * (k + 1), MINUTES), requests - errors).astype(float)
        write_counters(engine, model, T0, requests, errors, slow)


def marks(engine: Engine) -> set[tuple[str, str]]:
    r = schema_alerts.sli_rollups
    with engine.connect() as conn:
        return {(row.model, row.slo) for row in conn.execute(sa.select(r.c.model, r.c.slo))}


def summary(counts: dict[tuple[str, str], SliCounts]) -> dict[tuple[str, str], tuple]:
    """Every window sum each SLO's evaluation uses."""
    out = {}
    for (model, name), series in counts.items():
        spec = AVAILABILITY if name == "availability" else LATENCY
        ev = evaluate_slo(spec, series)
        out[(model, name)] = (ev.budget.total, ev.budget.bad, *((r.long.total, r.long.bad, r.short.total, r.short.bad)
                                                               for r in ev.rules))
    return out


def test_slos_behind_the_budget_read_the_counters_and_get_the_same_counts(engine: Engine) -> None:
    counters(engine)
    end = epoch_minute(T0) + MINUTES - 17
    direct = read_slo_counts(engine, SLOS, end, rollup_budget=0)
    assert marks(engine) == set()  # nothing rolled up: every hour ring came from the counters
    plan = plan_reads(AVAILABILITY, end)  # the same windows for both SLOs
    one_slo = (plan.detail_start - plan.edges[0]) // 60 + 1  # one SLO's 30 days of hours, not two
    partly = read_slo_counts(engine, SLOS, end, rollup_budget=one_slo)
    assert len(marks(engine)) == 1
    full = read_slo_counts(engine, SLOS, end, rollup_budget=None)
    assert marks(engine) == KEYS
    assert summary(direct) == summary(partly) == summary(full)
    # the long windows really span the rolled-up hours (not only the last 6 h of minutes)
    assert summary(full)[("a", "availability")][0] > 3 * 1440 * 20


def test_build_rollups_catches_up_what_the_cycle_left_behind(engine: Engine) -> None:
    counters(engine)
    end = epoch_minute(T0) + MINUTES - 17
    before = summary(read_slo_counts(engine, SLOS, end, rollup_budget=0))
    assert build_rollups(engine, SLOS, end) > 0 and marks(engine) == KEYS
    assert build_rollups(engine, SLOS, end) == 0  # nothing left to roll up
    # an hour later the cycle only adds the new hour to each rollup, within any budget
    later = end + 60
    assert summary(read_slo_counts(engine, SLOS, later, rollup_budget=len(SLOS))) == \
        summary(read_slo_counts(engine, SLOS, later, rollup_budget=0))
    assert summary(read_slo_counts(engine, SLOS, end, rollup_budget=0)) == before


def test_the_scheduler_builds_the_rollup_after_the_alert_cycle(engine: Engine) -> None:
    counters(engine)
    monitors = parse_monitors({"version": 1, "models": [
        {"name": m, "task": "binary", "positive_class": "1", "features": [{"name": "x", "type": "numeric"}],
         "slos": [AVAILABILITY.model_dump(mode="json", by_alias=True), LATENCY.model_dump(mode="json", by_alias=True)]}
        for m in MODELS]})
    run_alerts(RunContext(engine, "test"), monitors, T0 + timedelta(minutes=MINUTES))
    assert marks(engine) == KEYS
    with engine.connect() as conn:
        states = conn.execute(sa.select(schema_alerts.slo_status.c.state)).scalars().all()
    assert len(states) == len(SLOS)
