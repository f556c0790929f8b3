"""bench/scheduler: one full analysis cycle -- drift + quality + performance -- over many models.

    python bench/scheduler.py [--models 100] [--rows 10000] [--workers 1] [--slices 1] [--replicas 2]

Starts a throwaway PostgreSQL (tests.conftest.PostgresServer, as bench/ingest.py does; or uses
MODELWATCH_BENCH_DATABASE_URL), declares ``--models`` binary classifiers with 20 numeric + 5
categorical features (some NaN, half the models shifted) and ``--slices`` slice keys of 4 values,
uploads a 5,000-row reference per model, writes one closed hourly window of ``--rows``
predictions per model (COPY, the collector's path) with labels for 60% of them, and fits the
reference profiles once (the steady state: a profile is fitted when first needed, then stored).
Then it times one scheduler cycle (``analysis.jobs.cycle.run_cycle``) and prints the wall time
with its split: read (window + labels from PostgreSQL into numpy), compute (statistics,
decisions, FDR, quality, performance with intervals, slices), write (results + claim, one
transaction per window). With ``--workers`` > 1 the split is summed over threads. Then the same
cycle shared by ``--replicas`` scheduler processes, which split the windows through the claims.

Target (issue 3): 100 models x 25 features x 10,000 rows per hourly window in under 30 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.ingest import machine_busy_seconds, tree_cpu_seconds  # noqa: E402

N_NUMERIC, N_CATEGORICAL = 20, 5
CATEGORIES = [np.array([f"v{j}_{k}" for k in range(8)], dtype=object) for j in range(N_CATEGORICAL)]
REGIONS = np.array(["north", "south", "east", "west"], dtype=object)
LABELED = 0.6


def model_spec(name: str, slices: int) -> dict:
    features = [{"name": f"n{j:02d}", "type": "numeric"} for j in range(N_NUMERIC)]
    features += [{"name": f"c{j}", "type": "categorical"} for j in range(N_CATEGORICAL)]
    return {"name": name, "task": "binary", "classes": ["0", "1"], "positive_class": "1", "features": features,
            "slices": [f"s{k}" for k in range(slices)],
            "analysis": {"schedule": {"window": "1h", "delay": "5m", "catchup": "65m"}}}  # exactly the loaded window


def columns(rng: np.random.Generator, n: int, shift: float) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for j in range(N_NUMERIC):
        x = rng.normal(shift if j < 3 else 0.0, 1.0, n) if j % 2 else rng.lognormal(1.0, 0.5, n)
        if j % 7 == 0:
            x[rng.random(n) < 0.05] = np.nan
        out[f"n{j:02d}"] = x
    for j in range(N_CATEGORICAL):
        out[f"c{j}"] = CATEGORIES[j][rng.integers(0, 8, n)]
    return out


def feature_dicts(cols: dict[str, np.ndarray], n: int) -> list[dict]:
    names = list(cols)
    lists = [[None if isinstance(v, float) and v != v else v for v in cols[k].tolist()] for k in names]
    return [dict(zip(names, row)) for row in zip(*lists)]


def load(engine, monitors, start: datetime, rows: int, slices: int) -> None:
    from store.catalog import sync_models, write_reference
    from store.records import LabelRow, PredictionRow
    from store.writes import write_labels, write_predictions

    sync_models(engine, monitors)
    rng = np.random.default_rng(7)
    for i, model in enumerate(monitors.models):
        write_reference(engine, model, "default", feature_dicts(columns(rng, 5000, 0.0), 5000))
        cols = columns(rng, rows, 0.3 if i % 2 else 0.0)
        feats = feature_dicts(cols, rows)
        score = 1 / (1 + np.exp(-cols["n01"]))
        label = rng.random(rows) < score
        tags = [{f"s{k}": str(REGIONS[rng.integers(4)]) for k in range(slices)} or None for _ in range(rows)]
        step = 3600.0 / rows
        write_predictions(engine, [PredictionRow(
            time=start + timedelta(seconds=r * step), model=model.name, version="v1",
            prediction_id=f"{model.name}-{r}", features=feats[r], prediction="1" if score[r] >= 0.5 else "0",
            score=float(score[r]), slices=tags[r], weight=1.0) for r in range(rows)])
        labeled = np.flatnonzero(rng.random(rows) < LABELED)
        write_labels(engine, [LabelRow(time=start + timedelta(hours=2), model=model.name,
                                       prediction_id=f"{model.name}-{r}", label="1" if label[r] else "0")
                              for r in labeled.tolist()])


def reset(engine) -> None:
    """Every window unanalysed again."""
    from store.schema import analysis_results
    from store.schema_scheduler import analysis_label_scans, analysis_windows

    with engine.begin() as conn:
        for table in (analysis_results, analysis_windows, analysis_label_scans):
            conn.execute(table.delete())


def cycle(engine, monitors, now: datetime, workers: int, args: argparse.Namespace, postmaster: int | None,
          profiles=None) -> None:
    from analysis.jobs.cycle import run_cycle
    from analysis.jobs.profiles import ProfileCache
    from analysis.jobs.run import RunContext

    reset(engine)
    # profiles: cached (a running scheduler's later cycles) or None: read from the store (its
    # first cycle); no label margin: every label was committed before the cycle (with the
    # margin, labels loaded in the last minute rerun windows)
    ctx = RunContext(engine, "bench", profiles=profiles or ProfileCache(), label_margin=timedelta(0))
    t, cpu, pg, busy = time.perf_counter(), time.process_time(), tree_cpu_seconds(postmaster), machine_busy_seconds()
    report = run_cycle(ctx, monitors, now, workers=workers, alerts=False)
    wall = time.perf_counter() - t
    cpu, pg, busy = time.process_time() - cpu, tree_cpu_seconds(postmaster) - pg, machine_busy_seconds() - busy
    done = [o for o in report.outcomes if o.status == "done"]
    read, compute, write = (sum(getattr(o, f) for o in done) for f in ("read_s", "compute_s", "write_s"))
    results = sum(o.n_results for o in done)
    print(f"\none cycle: {len(done)} windows ({sum(o.n_rows for o in done):,} predictions, "
          f"{N_NUMERIC + N_CATEGORICAL} features, {args.slices} slice key(s)) in {wall:.1f}s "
          f"(target < 30 s) with {workers} worker(s), "
          f"{'profiles cached (later cycles)' if profiles else 'profiles read from the store (first cycle)'}")
    print(f"  read {read:.1f}s  compute {compute:.1f}s  write {write:.1f}s  "
          f"other {max(wall * workers - read - compute - write, 0):.1f}s (claims, profile reads)"
          + ("  [summed over workers]" if workers > 1 else ""))
    split = [sum(o.cpu_s[i] for o in done) for i in range(3)]
    print(f"  CPU in the windows: read {split[0]:.1f}s  compute {split[1]:.1f}s  write {split[2]:.1f}s")
    print(f"  CPU: this process {cpu:.1f}s, PostgreSQL {pg:.1f}s, everything else on the machine "
          f"{max(busy - cpu - pg, 0):.1f}s ({os.cpu_count()} cores)")
    print(f"  {results:,} result rows, {sum(o.drift for o in done)} windows with drift "
          f"(expected {args.models // 2}), failed {len(report.failed_windows)}")


def replica(url: str, document: dict, now: datetime, index: int, ready, go, results) -> None:
    """One scheduler process (a replica): warm up, wait for the start, run one cycle."""
    from analysis.jobs.cycle import run_cycle
    from analysis.jobs.run import RunContext
    from config.loader import parse_monitors
    from store.engine import create_engine

    engine = create_engine(url)
    with engine.connect():
        pass
    ctx = RunContext(engine, f"bench-replica-{index}", label_margin=timedelta(0))
    monitors = parse_monitors(document)
    ready.put(index)
    go.wait()
    cpu = time.process_time()
    report = run_cycle(ctx, monitors, now, alerts=False)
    done = [o for o in report.outcomes if o.status == "done"]
    results.put((index, len(done), time.process_time() - cpu, sum(o.n_results for o in done)))
    engine.dispose()


def replicas(url: str, monitors, now: datetime, count: int, engine, postmaster: int | None) -> None:
    """``count`` scheduler processes on one database share the cycle through the window claims."""
    import multiprocessing as mp

    reset(engine)
    context = mp.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    document = {"version": 1, "models": [m.model_dump(mode="json") for m in monitors.models]}
    processes = [context.Process(target=replica, args=(url, document, now, i, ready, go, results))
                 for i in range(count)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=120)
    t, pg, busy = time.perf_counter(), tree_cpu_seconds(postmaster), machine_busy_seconds()
    go.set()
    finished = [results.get(timeout=600) for _ in processes]
    wall = time.perf_counter() - t
    pg, busy = tree_cpu_seconds(postmaster) - pg, machine_busy_seconds() - busy
    for process in processes:
        process.join()
    cpu = sum(f[2] for f in finished)
    print(f"\none cycle shared by {count} scheduler processes (replicas, window claims): "
          f"{sum(f[1] for f in finished)} windows in {wall:.1f}s (target < 30 s); "
          f"windows per replica {sorted(f[1] for f in finished)}")
    print(f"  CPU: schedulers {cpu:.1f}s, PostgreSQL {pg:.1f}s, everything else on the machine "
          f"{max(busy - cpu - pg, 0):.1f}s ({os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--rows", type=int, default=10_000, help="predictions per model in the window")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="models analysed at once; several values: one cycle each, on the same data")
    parser.add_argument("--slices", type=int, default=1, help="slice keys per model (4 values each)")
    parser.add_argument("--replicas", type=int, nargs="*", default=[2],
                        help="then one cycle shared by this many scheduler processes (none: skip)")
    args = parser.parse_args()

    from analysis.jobs.profiles import ProfileCache
    from analysis.jobs.schedule import model_analysis
    from config.loader import parse_monitors
    from store.bootstrap import create_schema
    from store.engine import create_engine

    server = None
    url = os.environ.get("MODELWATCH_BENCH_DATABASE_URL")
    if url is None:
        from tests.conftest import PostgresServer, find_postgres_bindir, free_port

        bindir = find_postgres_bindir()
        if bindir is None:
            raise SystemExit("no PostgreSQL binaries found; set MODELWATCH_BENCH_DATABASE_URL")
        server = PostgresServer(bindir, Path(tempfile.mkdtemp(prefix="mw-bench-scheduler-")), free_port())
        server.start()
        url = server.url
    engine = create_engine(url, pool_size=max(5, max(args.workers) + 2))
    try:
        create_schema(engine)
        monitors = parse_monitors({"version": 1, "models": [model_spec(f"m{i:03d}", args.slices)
                                                            for i in range(args.models)]})
        now = datetime.now(timezone.utc)
        start = (now - timedelta(minutes=5)).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        t = time.perf_counter()
        load(engine, monitors, start, args.rows, args.slices)
        with engine.begin() as conn:  # committed: statistics roll back with their transaction
            conn.exec_driver_sql("ANALYZE")
        print(f"loaded {args.models} models x {args.rows:,} predictions (+{LABELED:.0%} labelled) "
              f"in {time.perf_counter() - t:.1f}s")
        profiles = ProfileCache()
        t = time.perf_counter()
        for model in monitors.models:  # steady state: profiles fitted and stored once, before cycles
            profiles.get(engine, model, model_analysis(model).policy.profile)
        print(f"reference profiles fitted and stored once: {time.perf_counter() - t:.1f}s "
              f"({(time.perf_counter() - t) / args.models * 1000:.0f} ms per model)")
        postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0]) if server else None
        for workers in args.workers:
            cycle(engine, monitors, now, workers, args, postmaster)
            cycle(engine, monitors, now, workers, args, postmaster, profiles)
        for count in args.replicas:
            replicas(url, monitors, now, count, engine, postmaster)
    finally:
        engine.dispose()
        if server is not None:
            server.destroy()


if __name__ == "__main__":
    main()
