"""bench/ingest: SDK -> collector -> PostgreSQL, sustained, with the raw COPY ceiling in the same run.

    python bench/ingest.py [--seconds 30] [--producers 4] [--workers CORES] [--batch-size 10000]

Starts a throwaway PostgreSQL (or uses MODELWATCH_BENCH_DATABASE_URL), a real collector process
(`modelwatch collector`), and producer processes that call `Client.log_prediction` as fast as the
pipeline takes them (each producer waits while its SDK buffer is over half full, so the SDK never
has to drop). Predictions have 20 numeric + 5 categorical features. It then loads the same kind of
rows straight into the same table with psycopg binary COPY (store.pgcopy, the collector's own
write path) as the ceiling, and prints both, their ratio, loss/duplicate checks and the
collector's memory over the run. It also prints the CPU each tier spent per stored row
(producers, collector, PostgreSQL) and what everything else on the machine took meanwhile: on a
shared machine the rows/s move with other load, the CPU per row much less.

Targets (issue 2): >= 100,000 predictions/s end to end on 2 cores, >= 40% of the raw COPY figure,
no row lost, none duplicated, collector memory flat.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

N_NUMERIC = 20
CATEGORIES = {f"c{j}": [f"v{j}_{k}" for k in range(8)] for j in range(5)}

MONITORS = "version: 1\nmodels:\n  - name: bench\n    task: binary\n    positive_class: '1'\n    features:\n" + "".join(
    f"      - {{name: n{j:02d}, type: numeric}}\n" for j in range(N_NUMERIC)
) + "".join(f"      - {{name: {name}, type: categorical}}\n" for name in CATEGORIES)


def feature_pool(seed: int, size: int = 2000) -> list[dict]:
    """Realistic values: money-like numbers with 2 decimals, small categorical vocabularies."""
    rng = random.Random(seed)
    pool = []
    for _ in range(size):
        row: dict = {f"n{j:02d}": round(rng.gauss(100.0, 30.0), 2) for j in range(N_NUMERIC)}
        row.update({name: rng.choice(values) for name, values in CATEGORIES.items()})
        pool.append(row)
    return pool


@dataclass(frozen=True)
class Load:
    seconds: float
    warmup: float
    batch_size: int
    backlog: int  # a producer waits while its SDK buffer holds more than this


def produce(url: str, token: str, load: Load, index: int, results: mp.Queue) -> None:
    import modelwatch

    client = modelwatch.Client(url, token, "bench", "v1", batch_size=load.batch_size,
                               max_queue_size=2 * load.backlog, flush_interval=0.5, retry_deadline=300.0)
    pool = feature_pool(index)
    logged = 0
    started = time.monotonic()
    deadline = started + load.seconds
    cpu_at_warm = None
    while (now := time.monotonic()) < deadline:
        if cpu_at_warm is None and now >= started + load.warmup:
            cpu_at_warm = (time.process_time(), logged)
        # Closed loop: offer load only as fast as the pipeline drains it, so nothing is dropped.
        if client.stats().buffered_predictions > load.backlog:
            time.sleep(0.002)
            continue
        for _ in range(1000):
            client.log_prediction(f"p{index}-{logged}", pool[logged % len(pool)], "1", score=0.73,
                                  latency_ms=2.5)
            logged += 1
    # CPU (both threads) per row logged in the steady part of the run.
    cpu0, logged0 = cpu_at_warm or (0.0, 0)
    cpu_per_row = (time.process_time() - cpu0) / max(1, logged - logged0)
    flushed = client.flush(timeout=300)
    stats = client.stats()
    client.close()
    results.put((index, logged, flushed, dict(stats.dropped), cpu_per_row))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its exited children (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (collector workers, PostgreSQL backends)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(root: int | None) -> float:
    return float("nan") if root is None else sum(cpu_seconds(pid) for pid in process_tree(root))


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (anything but idle and iowait)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def rss_mib(root: int) -> float:
    """Resident memory of ``root`` and its descendants (with --workers, the uvicorn workers)."""
    total = 0
    for pid in process_tree(root):
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    return total / 1024


def start_postgres(root: Path):
    from tests.conftest import PostgresServer, find_postgres_bindir, free_port

    bindir = find_postgres_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries found; set MODELWATCH_BENCH_DATABASE_URL")
    server = PostgresServer(bindir, root, free_port())
    server.start()
    return server


def raw_copy_rows_per_s(engine, total: int, batch: int) -> float:
    """The ceiling: the same rows through psycopg binary COPY (store.pgcopy), in-process, handed
    over as the column batches the collector builds (made before the clock starts)."""
    from store.records import PredictionColumns, PredictionRow
    from store.writes import write_predictions

    pool = feature_pool(99)
    now = datetime.now(timezone.utc)
    rows = [
        PredictionRow(time=now, model="bench", version="v1", prediction_id=f"raw-{i}",
                      features=pool[i % len(pool)], prediction="1", score=0.73, latency_ms=2.5)
        for i in range(total)
    ]
    batches = [PredictionColumns.from_rows(rows[offset:offset + batch]) for offset in range(0, total, batch)]
    start = time.perf_counter()
    for columns in batches:
        write_predictions(engine, columns)
    return total / (time.perf_counter() - start)


WARMUP_S = 3


@dataclass(frozen=True)
class Snapshot:
    at: float
    stored: int
    collector_cpu: float
    postgres_cpu: float
    machine_busy: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--producers", type=int, default=4,
                        help="serving processes, each with its SDK client (each ships one batch at a time, "
                             "so fewer than ~2 per collector worker leave cores idle between batches)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="collector processes (default: one per core, as README.md 'Beyond one machine' advises)")
    parser.add_argument("--raw-rows", type=int, default=500_000)
    parser.add_argument("--batch-size", type=int, default=10_000, help="SDK batch size")
    parser.add_argument("--backlog", type=int, default=20_000,
                        help="a producer pauses while its SDK buffer holds more rows than this (two batches: "
                             "enough to keep the pipeline fed; a deeper buffer only gives the GC more to scan)")
    args = parser.parse_args()

    import httpx
    import sqlalchemy as sa

    from store.bootstrap import create_schema
    from store.engine import create_engine
    from store.tokens import create_token
    from tests.conftest import free_port, wait_for_port

    tmp = Path(tempfile.mkdtemp(prefix="mw-bench-ingest-"))
    server = None
    url = os.environ.get("MODELWATCH_BENCH_DATABASE_URL")
    if not url:
        server = start_postgres(tmp)
        url = server.url
    engine = create_engine(url)
    with engine.begin() as conn:
        # alembic_version too, so create_schema builds the tables again on a reused database.
        conn.execute(sa.text("DROP TABLE IF EXISTS predictions, labels, request_counters, alembic_version CASCADE"))
    create_schema(engine)
    token = create_token(engine, scopes=["ingest"], name="bench")
    config = tmp / "monitors.yaml"
    config.write_text(MONITORS)

    port = free_port()
    env = {**os.environ, "MODELWATCH_LOG_LEVEL": "warning"}
    cmd = [sys.executable, "-m", "modelwatch.cli", "collector", "--db", url, "--config", str(config),
           "--port", str(port)]
    if args.workers > 1:
        cmd += ["--workers", str(args.workers)]
    collector = subprocess.Popen(cmd, env=env)
    wait_for_port("127.0.0.1", port, timeout=60)
    base = f"http://127.0.0.1:{port}"
    httpx.get(f"{base}/healthz").raise_for_status()

    postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0]) if server else None
    memory: list[float] = []
    window: list[Snapshot] = []
    stop = threading.Event()

    def snapshot(conn: sa.Connection) -> Snapshot:
        count = conn.execute(sa.text("SELECT count(*) FROM predictions")).scalar_one()
        conn.commit()
        return Snapshot(time.monotonic(), count, tree_cpu_seconds(collector.pid),
                        tree_cpu_seconds(postmaster), machine_busy_seconds())

    def monitor() -> None:
        # Rows are counted only at the window's two ends: a count(*) every second would itself
        # take a growing share of the two cores.
        with engine.connect() as conn:
            for at in (started + WARMUP_S, started + args.seconds):
                while not stop.is_set() and time.monotonic() < at:
                    memory.append(rss_mib(collector.pid))
                    stop.wait(min(1.0, max(0.0, at - time.monotonic())))
                if stop.is_set():
                    return
                window.append(snapshot(conn))

    ctx = mp.get_context("spawn")
    results: mp.Queue = ctx.Queue()
    load = Load(args.seconds, WARMUP_S, args.batch_size, args.backlog)
    producers = [ctx.Process(target=produce, args=(base, token, load, i, results))
                 for i in range(args.producers)]
    started = time.monotonic()
    watcher = threading.Thread(target=monitor, daemon=True)
    watcher.start()
    for p in producers:
        p.start()
    outcomes = [results.get(timeout=args.seconds + 600) for _ in producers]
    for p in producers:
        p.join()
    producers_done = time.monotonic()
    stop.set()
    watcher.join()

    logged = sum(o[1] for o in outcomes)
    dropped = {k: v for o in outcomes for k, v in o[3].items()}
    producer_cpu = statistics.mean(o[4] for o in outcomes)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM predictions")).scalar_one()
        distinct = conn.execute(sa.text("SELECT count(DISTINCT prediction_id) FROM predictions")).scalar_one()
    collector.terminate()
    collector.wait(timeout=30)

    # Sustained rate: rows stored per second between the warm-up and the producers' deadline.
    if len(window) == 2:
        first, last = window
        rows = last.stored - first.stored
        e2e = rows / (last.at - first.at)
        per_row = lambda a, b: (b - a) / rows * 1e6 if rows else float("nan")  # noqa: E731
        collector_us = per_row(first.collector_cpu, last.collector_cpu)
        postgres_us = per_row(first.postgres_cpu, last.postgres_cpu)
        busy_us = per_row(first.machine_busy, last.machine_busy)
    else:
        e2e = collector_us = postgres_us = busy_us = float("nan")
    overall = stored / (producers_done - started)
    memory = memory[WARMUP_S:] or memory or [float("nan")]

    raw = raw_copy_rows_per_s(engine, args.raw_rows, args.batch_size)
    engine.dispose()
    if server is not None:
        server.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # the cluster holds GBs of bench rows

    ratio = e2e / raw
    producers_us = producer_cpu * 1e6
    others_us = busy_us - collector_us - postgres_us - producers_us
    print("\nbench/ingest — SDK -> collector -> PostgreSQL (20 numeric + 5 categorical features)")
    print(f"  producers={args.producers} collector workers={args.workers} batch={args.batch_size} "
          f"backlog={args.backlog} duration={args.seconds:.0f}s cpus={os.cpu_count()}")
    print(f"  end to end, sustained      {e2e:>12,.0f} rows/s   target >= 100,000  {'MET' if e2e >= 100_000 else 'NOT MET'}")
    print(f"  end to end, whole run      {overall:>12,.0f} rows/s   (incl. start-up and final flush)")
    print(f"  raw binary COPY ceiling    {raw:>12,.0f} rows/s")
    print(f"  e2e / raw COPY             {ratio:>12.0%}         target >= 40%      {'MET' if ratio >= 0.4 else 'NOT MET'}")
    print(f"  logged {logged:,}  stored {stored:,}  distinct ids {distinct:,}  SDK drops {dropped or 'none'}")
    print(f"  lost {logged - stored:,}  duplicated {stored - distinct:,}   "
          f"{'OK' if logged == stored == distinct and not dropped else 'FAILED'}")
    print(f"  collector RSS MiB: first {memory[0]:.0f}  median {statistics.median(memory):.0f}  "
          f"max {max(memory):.0f}  last {memory[-1]:.0f}   (flat = last within 20% of first: "
          f"{'yes' if memory[-1] <= memory[0] * 1.2 else 'no'})")
    ours_us = producers_us + collector_us + postgres_us
    cores = os.cpu_count() or 1
    print(f"  CPU per stored row (us): producers {producers_us:.1f}  collector {collector_us:.1f}  "
          f"postgres {postgres_us:.1f}  = {ours_us:.1f};  other load on the machine {others_us:.1f}  "
          f"({cores} cores at this rate = {cores * 1e6 / e2e if e2e else float('nan'):.1f} us/row)")
    # Not a measurement: what the measured CPU costs would allow if nothing else ran here.
    print(f"  projection: {cores} idle cores at these costs would carry ~{cores * 1e6 / ours_us:,.0f} rows/s")


if __name__ == "__main__":
    main()
