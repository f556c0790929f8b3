"""bench/ingest_stages: CPU per row of each stage of the ingest path, in one process.

    python bench/ingest_stages.py [--batches 20] [--batch-size 5000]

The same rows as bench/ingest (20 numeric + 5 categorical features). SDK side: building the
wire records and encoding them into a request body (what the SDK's background thread does), and
the columnar body the SDK sends by default (modelwatch/columnar.py). Collector side, for both
kinds of body: decoding, validation and redaction into store columns, the COPY rows, and
the COPY itself into a throwaway PostgreSQL (or MODELWATCH_BENCH_DATABASE_URL), with the
server backend's own CPU. Each figure is the best of three passes over all batches (CPU time,
so other load on the machine inflates it less than wall time). bench/ingest measures the
real processes end to end; this one says where their time goes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import MONITORS, feature_pool, start_postgres, tree_cpu_seconds  # noqa: E402


def best_cpu_per_row(label: str, work: Callable[[Any], Any], inputs: list[Any], rows: int) -> list[Any]:
    """Run ``work`` over every input three times; print the best CPU microseconds per row."""
    best = float("inf")
    outputs: list[Any] = []
    for _ in range(3):
        started = time.process_time()
        outputs = [work(x) for x in inputs]
        best = min(best, time.process_time() - started)
    print(f"  {label:34s} {best / rows * 1e6:6.2f} us/row")
    return outputs


def sdk_items(batch: int, index: int) -> list[tuple[Any, ...]]:
    """What Client.log_prediction buffers for a batch of bench rows."""
    pool = feature_pool(index)
    now = time.time()
    return [(f"p{index}-{i}", now, dict(pool[i % len(pool)]), "1", 0.73, None, 2.5, None, None, None)
            for i in range(batch)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()

    import yaml

    from collector import columnar, ingest, validate
    from collector.app import create_app
    from config.loader import parse_monitors
    from config.settings import Settings
    from modelwatch.columnar import columns_body
    from modelwatch.payloads import EncodeStats, encode_batch, encode_items, prediction_record
    from store import pgcopy
    from store.bootstrap import create_schema
    from store.engine import create_engine
    from store.writes import write_predictions

    rows = args.batches * args.batch_size
    items = [sdk_items(args.batch_size, k) for k in range(args.batches)]
    def build(item: Any, stats: Any) -> dict[str, Any]:
        return prediction_record(item, None, None, stats)

    def encode(batch: list[Any]) -> bytes:
        pieces, _ = encode_items(batch, build, EncodeStats(), print)
        return encode_batch({"model": "bench", "version": "v1", "batch_id": os.urandom(16).hex()}, pieces)

    def encode_columns(batch: list[Any]) -> bytes:
        body = columns_body(batch, {"model": "bench", "version": "v1", "batch_id": os.urandom(16).hex()}, None, EncodeStats())
        assert body is not None, "the bench rows are eligible for columns"
        return body

    print(f"bench/ingest_stages — {args.batches} batches of {args.batch_size}, CPU per row")
    print("SDK background thread")
    bodies = best_cpu_per_row("build + encode records into a body", encode, items, rows)
    column_bodies = best_cpu_per_row("build + encode columnar body", encode_columns, items, rows)

    tmp = Path(tempfile.mkdtemp(prefix="mw-bench-stages-"))
    server = None
    url = os.environ.get("MODELWATCH_BENCH_DATABASE_URL")
    if not url:
        server = start_postgres(tmp)
        url = server.url
    config = tmp / "monitors.yaml"
    config.write_text(MONITORS)
    engine = create_engine(url)
    create_schema(engine)
    state = create_app(Settings(database_url=url, config=config), engine=engine,
                       monitors=parse_monitors(yaml.safe_load(MONITORS))).state.collector
    now = datetime.now(timezone.utc)
    bounds = validate.TimeBounds.at(now)

    print("collector")
    decoded = best_cpu_per_row("decode body (envelope + records)",
                               lambda body: ingest.decode_batch(state, body, "json", {}, "predictions"), bodies, rows)
    columns = best_cpu_per_row("validate + redact -> columns",
                               lambda d: validate.prediction_columns(d[1], d[2], d[0].version, bounds)[0], decoded, rows)
    best_cpu_per_row("COPY rows (JSON encode, zip)", lambda c: pgcopy.prediction_records(c, now), columns, rows)
    print("collector, columnar bodies (the SDK's default)")

    def columnar_batch(body: bytes) -> Any:
        codec = state.codecs["bench"]
        return columnar.fast_columns(codec, codec.columns_envelope.decode(body), bounds)[0]

    from_columns = best_cpu_per_row("decode + check + redact -> columns", columnar_batch, column_bodies, rows)
    best_cpu_per_row("COPY rows (zip; JSON made above)", lambda c: pgcopy.prediction_records(c, now), from_columns, rows)
    postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0]) if server else None
    client = server_cpu = float("inf")
    for _ in range(3):  # best of three, on an emptied table each time (else all duplicates)
        with engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE predictions")
        server_before = tree_cpu_seconds(postmaster)
        started = time.process_time()
        for batch in columns:
            write_predictions(engine, batch)
        client = min(client, time.process_time() - started)
        server_cpu = min(server_cpu, tree_cpu_seconds(postmaster) - server_before)
    print(f"  {'COPY rows + write (client)':34s} {client / rows * 1e6:6.2f} us/row")
    print(f"  {'PostgreSQL (all its processes)':34s} {server_cpu / rows * 1e6:6.2f} us/row")
    engine.dispose()
    if server is not None:
        server.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # the cluster holds GBs of bench rows


if __name__ == "__main__":
    main()
