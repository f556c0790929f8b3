"""Drift benchmark: modelwatch's full drift computation against a plain numpy floor.

    python bench/drift.py                      # everything, as specified in issue 3
    python bench/drift.py --quick              # fewer repeats, smaller simulations

Data: 20 numeric features (normal, lognormal, exponential, uniform, integer-valued; four with
5-20% NaN; four shifted in the current window) and 5 categorical features (5 to 300 categories,
two with None, one with new categories). Reference 100,000 rows; windows of 100,000 and
1,000,000 rows.

- modelwatch: ``compute_drift`` with the default policy: every registered statistic for every
  feature (7 numeric, 6 categorical), decisions, Benjamini-Hochberg -- from string categories.
- numpy floor: per numeric feature ``np.searchsorted`` into the 9 decile edges + ``np.bincount``
  + PSI; per categorical feature ``np.bincount`` + PSI on integer codes prepared before the
  clock starts (so the floor pays nothing for strings: the hardest baseline for us).
- memory: tracemalloc peak during one 1M-row computation vs the bytes of the window's arrays.
- false alarms: no-drift windows at n = 1,000,000 -> share of windows with any drift alert.
- power: a 0.1-standard-deviation mean shift in one feature at n = 10,000 -> share detected.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.drift import fit_profile  # noqa: E402
from analysis.drift.engine import compute_drift  # noqa: E402

N_NUMERIC, N_CATEGORICAL = 20, 5
CARDINALITIES = (5, 12, 40, 120, 300)
EPS = 1e-4


def _categories(k: int) -> np.ndarray:
    return np.array([f"cat{i:03d}" for i in range(k)], dtype=object)


def make_columns(rng: np.random.Generator, n: int, drift: bool) -> dict[str, np.ndarray]:
    """One dataset of the benchmark schema; ``drift`` moves f00-f03, cat0 and cat4."""
    cols: dict[str, np.ndarray] = {}
    for i in range(N_NUMERIC):
        shift = 0.25 if drift and i < 4 else 0.0
        kind = i % 5
        if kind == 0:
            x = rng.normal(shift, 1.0, n)
        elif kind == 1:
            x = rng.lognormal(3.0 + shift, 1.0, n)
        elif kind == 2:
            x = rng.exponential(2.0 * (1 + shift), n)
        elif kind == 3:
            x = rng.uniform(shift, 10.0 + shift, n)
        else:
            x = rng.poisson(4.0 + shift * 4, n).astype(np.float64)
        if i in (2, 7, 11, 16):  # some NaN
            x[rng.random(n) < 0.05 * (1 + i % 4)] = np.nan
        cols[f"f{i:02d}"] = x
    for j, k in enumerate(CARDINALITIES):
        p = 1.0 / np.arange(1, k + 1)  # Zipf-like frequencies
        if drift and j == 0:
            p = p[::-1]
        p /= p.sum()
        values = _categories(k + (5 if drift and j == 4 else 0))  # cat4 gets new categories
        codes = np.searchsorted(np.cumsum(p)[:-1], rng.random(n), side="right")  # = rng.choice(k, n, p=p), faster
        if drift and j == 4:
            codes[rng.random(n) < 0.03] = k + rng.integers(0, 5)
        col = values[codes]
        if j in (1, 3):
            col[rng.random(n) < 0.02] = None
        cols[f"cat{j}"] = col
    return cols


KINDS = {**{f"f{i:02d}": "numeric" for i in range(N_NUMERIC)},
         **{f"cat{j}": "categorical" for j in range(N_CATEGORICAL)}}


class NumpyBaseline:
    """The practical floor: histograms by searchsorted + bincount, PSI from them."""

    def __init__(self, reference: dict[str, np.ndarray]) -> None:
        self.edges, self.ref_p, self.code_of = {}, {}, {}
        for name, kind in KINDS.items():
            if kind == "numeric":
                x = reference[name]
                edges = np.unique(np.nanquantile(x, np.arange(1, 10) / 10))
                self.edges[name] = edges
                counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=edges.size + 1)
            else:
                cats = sorted({v for v in reference[name] if v is not None})
                self.code_of[name] = {c: i for i, c in enumerate(cats)}
                counts = np.bincount(self.encode(name, reference[name]), minlength=len(cats) + 2)
            self.ref_p[name] = counts / counts.sum()

    def encode(self, name: str, values: np.ndarray) -> np.ndarray:
        code_of, unseen = self.code_of[name], len(self.code_of[name])
        return np.fromiter((code_of.get(v, unseen) if v is not None else unseen + 1 for v in values),
                           dtype=np.intp, count=len(values))

    def prepare(self, window: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {n: (window[n] if k == "numeric" else self.encode(n, window[n])) for n, k in KINDS.items()}

    def run(self, prepared: dict[str, np.ndarray]) -> dict[str, float]:
        out = {}
        for name, kind in KINDS.items():
            q = self.ref_p[name]
            if kind == "numeric":
                counts = np.bincount(np.searchsorted(self.edges[name], prepared[name], side="right"),
                                     minlength=q.size)
            else:
                counts = np.bincount(prepared[name], minlength=q.size)
            p = counts / counts.sum()
            out[name] = float(np.sum((p - q) * np.log((p + EPS) / (q + EPS))))
        return out


def timed(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def bench_speed(profile, baseline, rng, repeats: int) -> None:
    print("\n== speed: 25 features (20 numeric + 5 categorical), reference 100,000 rows ==")
    sizes = (100_000, 1_000_000)
    windows = {n: make_columns(rng, n, drift=True) for n in sizes}
    prepared = {n: baseline.prepare(windows[n]) for n in sizes}
    weights = {n: rng.choice([1.0, 2.0, 10.0], size=n) for n in sizes}
    runs = {
        "modelwatch": lambda n: compute_drift(profile, windows[n]),
        "numpy floor": lambda n: baseline.run(prepared[n]),
        "modelwatch, weighted": lambda n: compute_drift(profile, windows[n], weights[n]),
    }
    samples: dict[tuple[str, int], list[float]] = {(k, n): [] for k in runs for n in sizes}
    for _ in range(repeats):  # everything interleaved, so all runs see the same machine load
        for n in sizes:
            for name, run in runs.items():
                samples[(name, n)].append(timed(lambda: run(n), 1))
    t = {key: statistics.median(v) for key, v in samples.items()}
    print(f"{'rows':>10} {'modelwatch':>11} {'numpy floor':>12} {'ratio':>6} {'rows/s':>11} {'weighted':>9} {'ratio':>6}")
    for n in sizes:
        mw, floor, wt = t[("modelwatch", n)], t[("numpy floor", n)], t[("modelwatch, weighted", n)]
        print(f"{n:>10,} {mw * 1e3:>9.0f}ms {floor * 1e3:>10.0f}ms {mw / floor:>6.2f} {n / mw:>11,.0f} "
              f"{wt * 1e3:>7.0f}ms {wt / floor:>6.2f}")
    ratio = t[("modelwatch", 1_000_000)] / t[("numpy floor", 1_000_000)]
    print(f"target: modelwatch within 2x of the numpy floor at 1M rows: {ratio:.2f}x -> "
          f"{'MET' if ratio <= 2 else 'MISSED'}")
    scale = t[("modelwatch", 1_000_000)] / t[("modelwatch", 100_000)]
    floor_scale = t[("numpy floor", 1_000_000)] / t[("numpy floor", 100_000)]
    print(f"linearity: time(1M) / time(100k) = {scale:.1f} for modelwatch, {floor_scale:.1f} for the floor "
          f"(10 = linear; below 10: fixed per-feature costs amortised)")


def bench_memory(profile, rng) -> None:
    print("\n== memory: one 1,000,000-row window ==")
    window = make_columns(rng, 1_000_000, drift=True)
    own = sum(a.nbytes for a in window.values())
    strings = sum(sys.getsizeof(s) for k in KINDS if KINDS[k] == "categorical" for s in set(window[k]) if s)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    compute_drift(profile, window)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    print(f"window arrays: {own / 2**20:.0f} MiB (+ {strings / 2**10:.0f} KiB of distinct strings)")
    print(f"peak extra memory during compute_drift: {peak / 2**20:.1f} MiB = {peak / own:.2f}x the window "
          f"(total peak {(own + peak) / own:.2f}x) -> target total <= 2x: "
          f"{'MET' if own + peak <= 2 * own else 'MISSED'}")


def bench_evidently(reference, rng) -> None:
    print("\n== Evidently DataDriftPreset ==")
    try:
        import pandas as pd
        from evidently import Report  # type: ignore[import-not-found]
        from evidently.presets import DataDriftPreset  # type: ignore[import-not-found]
    except ImportError:
        print("skipped: evidently is not installed (optional; target: modelwatch >= 20x faster)")
        return
    for n in (100_000, 1_000_000):
        window = make_columns(rng, n, drift=True)
        ref_df, cur_df = pd.DataFrame(reference), pd.DataFrame(window)
        t = timed(lambda: Report([DataDriftPreset()]).run(cur_df, ref_df), 1)
        print(f"{n:>10,} rows: {t:.1f} s")


def simulate(profile, rng, windows: int, rows: int, shift: float) -> tuple[float, float, float]:
    """Share of windows with an alert on an unmoved feature, share where f00 (shifted by
    ``shift`` standard deviations; f00 is N(0, 1)) alerts, and the largest effect size /
    threshold ratio of an unmoved feature's alert method (the margin left under no drift)."""
    false_alert = f00 = 0
    worst = 0.0
    for _ in range(windows):
        window = make_columns(rng, rows, drift=False)
        window["f00"] += shift
        report = compute_drift(profile, window)
        quiet = [f for f in report.features if shift == 0 or f.feature != "f00"]
        false_alert += any(f.drift for f in quiet)
        worst = max([worst] + [f.decision.effect_size / f.decision.threshold for f in quiet])
        f00 += report.get("f00").drift
    return false_alert / windows, f00 / windows, worst


def bench_simulations(profile, rng, fa_windows: int, fa_rows: int, power_windows: int) -> None:
    print("\n== false alarms and power ==")
    t0 = time.perf_counter()
    alarms, _, worst = simulate(profile, rng, fa_windows, fa_rows, 0.0)
    print(f"no drift, {fa_windows} windows x {fa_rows:,} rows: windows with any alert = {alarms:.2%} "
          f"(target <= 1%: {'MET' if alarms <= 0.01 else 'MISSED'}); largest effect size / threshold "
          f"{worst:.2f} [{time.perf_counter() - t0:.0f} s]")
    t0 = time.perf_counter()
    others, power, worst = simulate(profile, rng, power_windows, 10_000, 0.1)
    print(f"0.1-std mean shift in f00, {power_windows} windows x 10,000 rows: detected = {power:.1%} "
          f"(target >= 95%: {'MET' if power >= 0.95 else 'MISSED'}); windows with an alert on another "
          f"feature {others:.1%} (largest effect size / threshold {worst:.2f}) [{time.perf_counter() - t0:.0f} s]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 repeats, 50 + 200 simulated windows")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--fa-windows", type=int, default=1000)
    parser.add_argument("--fa-rows", type=int, default=1_000_000)
    parser.add_argument("--power-windows", type=int, default=1000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["speed", "memory", "evidently", "simulations"])
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.fa_windows, args.power_windows = 3, 50, 200
    rng = np.random.default_rng(2026)
    reference = make_columns(rng, 100_000, drift=False)
    t0 = time.perf_counter()
    profile = fit_profile(reference, KINDS)
    print(f"reference profile: 100,000 rows, 25 features, fitted in {time.perf_counter() - t0:.2f} s, "
          f"{len(profile.to_json()) / 1024:.0f} KiB as JSON")
    baseline = NumpyBaseline(reference)
    if "speed" not in args.skip:
        bench_speed(profile, baseline, rng, args.repeats)
    if "memory" not in args.skip:
        bench_memory(profile, rng)
    if "evidently" not in args.skip:
        bench_evidently(reference, rng)
    if "simulations" not in args.skip:
        bench_simulations(profile, rng, args.fa_windows, args.fa_rows, args.power_windows)


if __name__ == "__main__":
    main()
