"""Verdict rules on constructed paired rows (pure): each rule fires with its numbers."""

from __future__ import annotations

import numpy as np

from config.loader import parse_monitors
from config.monitors import Model
from shadow.columns import PairedColumns
from shadow.compare import LatencyStats
from shadow.compare_slices import compare_slices
from shadow.comparison import NoiseFloor, compare
from shadow.verdict import VerdictPolicy, decide, policy_for
from tests.shadow.conftest import model_spec, regression_spec

MODELS = parse_monitors({"version": 1, "models": [model_spec(), regression_spec()]})
BINARY, REGRESSION = MODELS.model("fraud"), MODELS.model("prices")


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def classifier_rows(n: int, prod_right: float, cand_right: float, seed: int = 0, labelled: float = 1.0,
                    cand_failed: float = 0.0, cand_latency: float = 0.01, slices: np.ndarray | None = None) -> PairedColumns:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    prod = np.where(rng.random(n) < prod_right, truth, 1 - truth)
    cand = np.where(rng.random(n) < cand_right, truth, 1 - truth)
    failed = rng.random(n) < cand_failed
    label = _objects([str(t) if rng.random() < labelled else None for t in truth])
    return PairedColumns(
        prediction_id=_objects([f"p{i}" for i in range(n)]), weight=np.ones(n),
        prod_label=_objects([str(v) for v in prod]), prod_score=np.where(prod == 1, 0.8, 0.2), prod_value=np.full(n, np.nan),
        prod_latency_ms=np.full(n, 2.0), prod_failed=np.zeros(n, dtype=bool),
        cand_label=_objects([None if f else str(v) for v, f in zip(cand, failed)]),
        cand_score=np.where(failed, np.nan, np.where(cand == 1, 0.7, 0.3)), cand_value=np.full(n, np.nan),
        cand_latency_ms=np.where(failed, np.nan, cand_latency), cand_failed=failed,
        true_label=label, true_value=np.full(n, np.nan),
        slices={"country": slices if slices is not None else _objects(["DE"] * n)})


def verdict(columns: PairedColumns, model: Model = BINARY, noise: NoiseFloor | None = None,
            policy: VerdictPolicy | None = None):
    comparison = compare(columns, model)
    return decide(comparison, model.task, noise, compare_slices(columns, model), policy or policy_for(model))


def noise(agreement: float = 1.0, p99: float = 0.01) -> NoiseFloor:
    return NoiseFloor("production-x", 1000, agreement, 0.0, LatencyStats(1000, p99, p99, p99, p99))


def test_significantly_better_promotes_with_numbers() -> None:
    v = verdict(classifier_rows(2000, 0.80, 0.86))
    assert v.decision == "promote"
    assert v.reasons[0].startswith("significantly better: accuracy +")
    assert "McNemar p < 0.001" in v.reasons[0] and "95% CI" in v.summary and "agreement" in v.summary


def test_significantly_worse_rejects_with_numbers() -> None:
    v = verdict(classifier_rows(2000, 0.86, 0.80))
    assert v.decision == "reject"
    assert "significantly less accurate: -" in v.reasons[0] and "discordant pairs" in v.reasons[0]


def test_a_higher_error_rate_rejects_even_when_accurate() -> None:
    v = verdict(classifier_rows(2000, 0.80, 0.90, cand_failed=0.02))
    assert v.decision == "reject"
    assert v.reasons[0].startswith("error rate 1.7% (33 of 2000) vs production 0.0%")


def test_latency_over_the_latency_slo_threshold_rejects() -> None:
    v = verdict(classifier_rows(2000, 0.80, 0.90, cand_latency=150.0), policy=VerdictPolicy(latency_budget_ms=100.0))
    assert v.decision == "reject" and "over the latency SLO threshold 100 ms" in v.reasons[0]


def test_too_few_labels_or_rows_hold() -> None:
    v = verdict(classifier_rows(1000, 0.80, 0.86, labelled=0.1))
    assert v.decision == "hold" and any("labelled rows (need 200)" in r for r in v.reasons)
    v = verdict(classifier_rows(120, 0.80, 0.80))
    assert v.decision == "hold" and any("only 120 rows replayed" in r for r in v.reasons)


def test_a_replay_that_does_not_reproduce_production_holds() -> None:
    v = verdict(classifier_rows(2000, 0.80, 0.86), noise=noise(agreement=0.95))
    assert v.decision == "hold" and "agrees with logged production on only 95.0%" in v.reasons[0]


def test_identical_holds_unless_faster_than_the_production_onnx() -> None:
    rows = classifier_rows(2000, 0.85, 0.85, seed=4)
    same = PairedColumns(**{**rows.__dict__, "cand_label": rows.prod_label.copy()})
    held = verdict(same, noise=noise(p99=0.0105))
    assert held.decision == "hold" and held.reasons[0].startswith("non-inferior but not better")
    promoted = verdict(same, noise=noise(p99=0.02))
    assert promoted.decision == "promote" and "faster" in promoted.reasons[1]


def test_a_significantly_worse_slice_holds() -> None:
    n = 4000
    rng = np.random.default_rng(5)
    country = _objects(list(np.where(rng.random(n) < 0.15, "FR", "DE")))
    good = classifier_rows(n, 0.85, 0.92, seed=6, slices=country)  # better overall...
    bad = classifier_rows(n, 0.90, 0.75, seed=7, slices=country)  # ...but worse on FR
    fr = country == "FR"
    rows = PairedColumns(**{**good.__dict__, "cand_label": np.where(fr, bad.cand_label, good.cand_label),
                            "prod_label": np.where(fr, bad.prod_label, good.prod_label),
                            "true_label": np.where(fr, bad.true_label, good.true_label)})
    v = verdict(rows)
    assert v.decision == "hold"
    assert any(r.startswith("significantly worse on slice country=FR") for r in v.reasons)


def regression_rows(n: int, prod_sd: float, cand_sd: float, seed: int = 0) -> PairedColumns:
    rng = np.random.default_rng(seed)
    truth = rng.normal(10, 3, n)
    base = classifier_rows(n, 1.0, 1.0)
    return PairedColumns(**{**base.__dict__, "prod_label": _objects([None] * n), "cand_label": _objects([None] * n),
                            "prod_score": np.full(n, np.nan), "cand_score": np.full(n, np.nan),
                            "prod_value": truth + rng.normal(0, prod_sd, n), "cand_value": truth + rng.normal(0, cand_sd, n),
                            "true_label": _objects([None] * n), "true_value": truth})


def test_regression_verdicts_use_the_paired_absolute_errors() -> None:
    worse = verdict(regression_rows(1000, 1.0, 1.3), REGRESSION)
    assert worse.decision == "reject" and "Wilcoxon p < 0.001" in worse.reasons[0]
    better = verdict(regression_rows(1000, 1.3, 1.0), REGRESSION)
    assert better.decision == "promote" and "MAE -" in better.reasons[0]
