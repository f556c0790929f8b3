"""Shadow replay benchmark: modelwatch's inference path against raw ONNX Runtime (the ceiling).

    python bench/shadow.py            # everything
    python bench/shadow.py --quick    # fewer rows and repeats

Models (scikit-learn, converted with skl2onnx, trained here on synthetic data): a tree model
(HistGradientBoostingClassifier, 100 iterations, 31 leaves) and a linear one (LogisticRegression),
on 20 numeric + 2 categorical features (30 input columns after one-hot encoding).

- raw: ``InferenceSession.run`` on float32 arrays encoded before the clock starts.
- session: ``ShadowSession.run`` on the same encoded arrays (the runner's session wrapper:
  provider choice, IOBinding when on CUDA, timing). Same session options as raw.
- replay path: ``shadow.infer.infer`` on the same rows as feature columns, as the replay runs
  it: encode (numeric columns + one-hot), session run, decode to labels and positive-class
  scores, per-row errors.
- for each: batch sizes 1, 64, 1024; intra_op_num_threads 1 and ONNX Runtime's default (0 =
  one per physical core). Passes are interleaved (raw, session, replay, raw, ...). Two rates:
  wall rows/s, each batch's fastest time over the repeats (an estimate of the unloaded cost),
  and rows per CPU-second of the process (immune to other processes on a shared machine; with
  ONNX Runtime's own thread pool it also counts the pool's spinning). p50 / p99: every batch.
- end to end: a backtest of 20,000 stored predictions on SQLite (read, JSON decode, encode,
  run, decode, write outputs and progress), batch 1024.
Every row says which execution provider was really in use (read back from the session). On a
machine with onnxruntime-gpu and a GPU the same script adds CUDA / TensorRT rows unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from functools import partial
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import onnxruntime as ort  # noqa: E402

from config.loader import parse_monitors  # noqa: E402
from shadow.infer import infer  # noqa: E402
from shadow.prepare import prepare  # noqa: E402
from shadow.session import GPU_PROVIDERS, SessionConfig  # noqa: E402

N_NUMERIC = 20
CATEGORIES = {"c0": ["a", "b", "c", "d", "e"], "c1": ["x", "y", "z", "w", "v"]}


def model_spec() -> dict[str, Any]:
    features: list[dict[str, Any]] = [{"name": f"f{i:02d}", "type": "numeric"} for i in range(N_NUMERIC)]
    features += [{"name": k, "type": "categorical", "categories": v} for k, v in CATEGORIES.items()]
    return {"name": "bench", "task": "binary", "classes": ["0", "1"], "positive_class": "1", "features": features}


def make_columns(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {f"f{i:02d}": rng.normal(size=n) for i in range(N_NUMERIC)}
    for k, v in CATEGORIES.items():
        cols[k] = np.array(v, dtype=object)[rng.integers(0, len(v), n)]
    return cols


def matrix(cols: dict[str, np.ndarray]) -> np.ndarray:
    parts = [cols[f"f{i:02d}"][:, None] for i in range(N_NUMERIC)]
    parts += [(cols[k][:, None] == np.array(v, dtype=object)[None, :]).astype(np.float64) for k, v in CATEGORIES.items()]
    return np.hstack(parts).astype(np.float32)


def train(rng: np.random.Generator) -> dict[str, bytes]:
    from skl2onnx import to_onnx
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    cols = make_columns(rng, 20_000)
    x = matrix(cols)
    y = ((x[:, 0] * x[:, 1] + np.sin(x[:, 2]) + (cols["c0"] == "a")) > 0.3).astype(int)
    out = {}
    for name, est in (("tree", HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31, random_state=0)),
                      ("linear", LogisticRegression(max_iter=300))):
        est.fit(x, y)
        out[name] = to_onnx(est, x[:1], options={id(est): {"zipmap": False}}).SerializeToString()
    return out


def raw_session(content: bytes, providers: list[str], threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(content, sess_options=options, providers=providers)


def chunks(n: int, batch: int) -> list[slice]:
    return [slice(i, i + batch) for i in range(0, n - batch + 1, batch)]


def time_pass(steps: list[Callable[[], Any]]) -> tuple[list[float], float]:
    """(wall seconds per batch, process CPU seconds for the whole pass)."""
    times = []
    cpu = time.process_time()
    for step in steps:
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    return times, time.process_time() - cpu


def summary(passes: list[tuple[list[float], float]], batch: int) -> tuple[float, float, float, float]:
    """(rows/s from each batch's fastest repeat, rows per CPU-second of the cheapest pass,
    p50 ms and p99 ms over every timed batch)."""
    wall = np.array([p[0] for p in passes])  # (repeats, batches)
    rows = batch * wall.shape[1]
    return (rows / wall.min(axis=0).sum(), rows / max(min(p[1] for p in passes), 1e-9),
            float(np.quantile(wall, 0.5) * 1e3), float(np.quantile(wall, 0.99) * 1e3))


def bench_inference(onnx: dict[str, bytes], rows: dict[int, int], repeats: int) -> None:
    model = parse_monitors({"version": 1, "models": [model_spec()]}).models[0]
    cols = make_columns(np.random.default_rng(1), max(rows.values()))
    x = matrix(cols)
    available = ort.get_available_providers()
    setups: list[tuple[tuple[str, ...], int]] = [(("CPUExecutionProvider",), 1), (("CPUExecutionProvider",), 0)]
    for gpu in ("CUDAExecutionProvider", "TensorrtExecutionProvider"):
        if gpu in available:
            setups.append(((gpu, "CPUExecutionProvider"), 0))
    print(f"onnxruntime {ort.__version__}, available providers: {', '.join(available)}")
    print("rows/s: wall clock, each batch's fastest of the interleaved repeats; rows/CPU-s: process CPU time "
          "(immune to other processes' load; with threads 0 it includes ONNX Runtime's spinning pool)")
    print(f"{'model':6} {'provider in use':20} {'thr':>3} {'batch':>5} {'raw rows/s':>11} {'replay rows/s (%raw)':>21} "
          f"{'raw rows/CPU-s':>14} {'replay rows/CPU-s':>24} {'session':>8} {'replay p50/p99 ms':>18}")
    for name, content in onnx.items():
        for providers, threads in setups:
            runnable = prepare(content, model, config=SessionConfig(providers=providers, intra_op_threads=threads)).runnable
            raw = raw_session(content, list(providers), threads)
            in_use = runnable.session.provider
            for batch, n in rows.items():
                parts = chunks(n, batch)
                sliced = [{k: v[part] for k, v in cols.items()} for part in parts]
                steps: dict[str, list[Callable[[], Any]]] = {
                    "raw": [partial(raw.run, None, {"X": x[part]}) for part in parts],
                    "session": [partial(runnable.session.run, {"X": x[part]}) for part in parts],
                    "replay": [partial(infer, runnable, c, {}, batch) for c in sliced],
                }
                timed: dict[str, list[tuple[list[float], float]]] = {k: [] for k in steps}
                for _ in range(repeats):  # interleaved, so load from other processes hits all three alike
                    for kind, pass_steps in steps.items():
                        timed[kind].append(time_pass(pass_steps))
                rr, rc, _, _ = summary(timed["raw"], batch)
                _, sc, _, _ = summary(timed["session"], batch)
                sr, src, s50, s99 = summary(timed["replay"], batch)
                thr = str(threads) if in_use not in GPU_PROVIDERS else "-"
                print(f"{name:6} {in_use:20} {thr:>3} {batch:>5} {rr:>11,.0f} {sr:>14,.0f} ({sr / rr:>4.0%}) "
                      f"{rc:>14,.0f} {src:>17,.0f} ({src / rc:>4.0%}) {sc / rc:>7.0%} {s50:>8.3f}/{s99:<8.3f}")


def bench_end_to_end(onnx: dict[str, bytes], n: int) -> None:
    from shadow.registry import load_candidate, register_candidate
    from shadow.replay import backtest
    from store.bootstrap import create_schema
    from store.catalog import sync_models
    from store.engine import create_engine
    from store.records import PredictionRow
    from store.writes import write_predictions

    monitors = parse_monitors({"version": 1, "models": [model_spec()]})
    model = monitors.models[0]
    cols = make_columns(np.random.default_rng(2), n)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    names = list(cols)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/bench.db")
        create_schema(engine)
        sync_models(engine, monitors)
        values = [cols[k].tolist() for k in names]
        write_predictions(engine, [
            PredictionRow(time=start + timedelta(seconds=i), model="bench", version="v1", prediction_id=f"p{i:07d}",
                          features=dict(zip(names, row)), prediction="0", score=0.5)
            for i, row in enumerate(zip(*values))])
        for name, content in onnx.items():
            cand = register_candidate(engine, model, name, content).candidate
            loaded = load_candidate(engine, model, cand)
            outcome = backtest(engine, model, loaded, start, start + timedelta(seconds=n), batch_size=1024)
            print(f"end to end (SQLite, batch 1024): {name:6} {outcome.rows_replayed:,} rows in {outcome.seconds:.2f}s = "
                  f"{outcome.rows_replayed / outcome.seconds:,.0f} rows/s on {outcome.provider}")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = {1: 300, 64: 64 * 40, 1024: 1024 * 16} if args.quick else {1: 1000, 64: 64 * 100, 1024: 1024 * 40}
    repeats = 3 if args.quick else 5
    began = time.perf_counter()
    onnx = train(np.random.default_rng(0))
    bench_inference(onnx, rows, repeats)
    bench_end_to_end(onnx, 5_000 if args.quick else 20_000)
    print(f"({time.perf_counter() - began:.0f}s on {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
