"""The report end to end: backtests of real candidates, numbers against hand computation from
the seeded data, verdicts (worse rejected with numbers, better promoted, identical not
rejected), the noise floor and the would-be SLO burn. SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shadow.registry import list_candidates, load_candidate, register_candidate
from shadow.replay import backtest
from shadow.report import ShadowReport, shadow_report
from tests.shadow.conftest import Models, Seed


def replay_all(seed: Seed, models: Models) -> ShadowReport:
    register_candidate(seed.engine, seed.model, "better", models.onnx["better"], production=models.onnx["production"])
    register_candidate(seed.engine, seed.model, "worse", models.onnx["worse"])
    register_candidate(seed.engine, seed.model, "same", models.onnx["same"])
    for cand in list_candidates(seed.engine, "fraud"):
        backtest(seed.engine, seed.model, load_candidate(seed.engine, seed.model, cand), seed.start, seed.end)
    return shadow_report(seed.engine, seed.model, seed.start, seed.end)


def test_verdicts_and_numbers(seed: Seed, models: Models) -> None:
    report = replay_all(seed, models)
    by_name = {c.candidate.name: c for c in report.candidates}
    assert set(by_name) == {"better", "worse", "same"}  # production's ONNX is the noise floor, not a candidate
    assert report.noise_floor is not None and report.noise_floor.n == len(seed.ids)
    assert report.noise_floor.agreement >= 0.999 and report.noise_floor.score_delta_abs_p99 < 1e-5

    x, y, lab = seed.data.matrix(), seed.data.y.astype(str), seed.labelled
    prod = models.production.predict_proba(x)[:, 1]
    prod_label = (prod > 0.5).astype(int).astype(str)  # as logged by the seed
    for name, estimator in (("better", models.better), ("worse", models.worse)):
        c = by_name[name].comparison
        cand_label = estimator.predict(x).astype(str)
        prod_right, cand_right = prod_label[lab] == y[lab], cand_label[lab] == y[lab]
        assert c.n == len(seed.ids) and c.labelled == int(lab.sum())
        assert c.agreement.agreement == pytest.approx(np.mean(cand_label == prod_label), abs=2e-3)
        a = c.accuracy
        assert a is not None
        assert a.production == pytest.approx(prod_right.mean()) and a.candidate == pytest.approx(cand_right.mean(), abs=2e-3)
        b_, c_ = int(np.sum(prod_right & ~cand_right)), int(np.sum(~prod_right & cand_right))
        assert abs(a.test.b - b_) <= 2 and abs(a.test.c - c_) <= 2  # float32 ties at 0.5 may move a row
        assert c.rank_correlation == pytest.approx(
            stats.spearmanr(prod, estimator.predict_proba(x)[:, 1]).statistic, abs=1e-3)
        burn = c.burns[0]
        assert burn.slo == "accuracy" and burn.burn_candidate == pytest.approx((1 - a.candidate) / 0.2)
        assert burn.burn_production == pytest.approx((1 - a.production) / 0.2)

    worse = by_name["worse"].verdict
    assert worse.decision == "reject"
    assert worse.reasons[0].startswith("significantly less accurate: -") and "McNemar p < 0.001" in worse.reasons[0]
    assert "agreement" in worse.summary and "p99 latency" in worse.summary and "ms" in worse.summary
    better = by_name["better"].verdict
    assert better.decision == "promote" and better.reasons[0].startswith("significantly better: accuracy +")
    same = by_name["same"]
    assert same.comparison.agreement.agreement == 1.0 and same.verdict.decision in ("promote", "hold")
    assert same.comparison.accuracy is not None and same.comparison.accuracy.difference == 0.0
    # Slices: every declared country, each with enough rows.
    assert {(s.key, s.value) for s in by_name["worse"].slices} == {("country", "DE"), ("country", "FR"), ("country", "US")}
    assert by_name["better"].progress[0].rows_done == len(seed.ids)
    assert by_name["better"].candidate.provider == "CPUExecutionProvider"


def test_report_of_one_candidate_and_a_range_without_data(seed: Seed, models: Models) -> None:
    register_candidate(seed.engine, seed.model, "worse", models.onnx["worse"])
    cand = list_candidates(seed.engine, "fraud")[0]
    backtest(seed.engine, seed.model, load_candidate(seed.engine, seed.model, cand), seed.start, seed.end)
    report = shadow_report(seed.engine, seed.model, seed.end, seed.end + (seed.end - seed.start), candidate="worse")
    only = report.candidates[0]
    assert only.comparison.n == 0 and only.verdict.decision == "hold"
    assert "only 0 rows replayed" in only.verdict.reasons[0]
    document = report.to_dict()
    assert document["candidates"][0]["comparison"]["agreement"]["agreement"] is None  # NaN is null in JSON
