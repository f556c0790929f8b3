"""Performance metrics against sklearn.metrics; intervals against textbook formulas and coverage."""

import math

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as sk

from analysis.performance import (
    binary_metrics, expected_accuracy, label_coverage, label_lag, multiclass_metrics, regression_metrics,
)
from analysis.performance.auc import auc_influence
from analysis.stats import wilson_interval

TOL = dict(rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 2, n)
    s = np.clip(0.35 * y + rng.beta(2, 3, n), 0, 1)
    s[:20] = np.round(s[:20], 1)  # ties
    w = rng.uniform(0.5, 3, n)
    return y, s, w


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_metrics_match_sklearn(binary, weighted):
    y, s, w = binary
    sw = w if weighted else None
    r = binary_metrics(y, s, weights=sw)
    pred = (s >= 0.5).astype(int)
    assert r["accuracy"].value == pytest.approx(sk.accuracy_score(y, pred, sample_weight=sw), **TOL)
    assert r["precision"].value == pytest.approx(sk.precision_score(y, pred, sample_weight=sw), **TOL)
    assert r["recall"].value == pytest.approx(sk.recall_score(y, pred, sample_weight=sw), **TOL)
    assert r["f1"].value == pytest.approx(sk.f1_score(y, pred, sample_weight=sw), **TOL)
    assert r["roc_auc"].value == pytest.approx(sk.roc_auc_score(y, s, sample_weight=sw), **TOL)
    assert r["log_loss"].value == pytest.approx(sk.log_loss(y, s, sample_weight=sw), **TOL)
    assert r["brier"].value == pytest.approx(sk.brier_score_loss(y, s, sample_weight=sw), **TOL)
    np.testing.assert_allclose(r.confusion_matrix, sk.confusion_matrix(y, pred, sample_weight=sw), rtol=1e-12)
    for m in r.metrics.values():
        assert m.lower <= m.value <= m.upper, m.name


def test_labels_are_compared_as_text(binary):
    y, s, _ = binary
    as_text = np.array(["yes" if v else "no" for v in y], dtype=object)
    a = binary_metrics(as_text, s, positive_label="yes")
    b = binary_metrics(y.astype(float), s, positive_label="1")
    assert a["f1"].value == b["f1"].value
    with_missing = as_text.copy()
    with_missing[:10] = None
    assert binary_metrics(with_missing, s, positive_label="yes").n_missing_labels == 10


def test_accuracy_interval_is_wilson(binary):
    y, s, _ = binary
    r = binary_metrics(y, s)
    acc = r["accuracy"]
    expected = stats.binomtest(int(round(acc.value * y.size)), y.size).proportion_ci(0.95, method="wilson")
    assert (acc.lower, acc.upper) == (pytest.approx(expected.low, rel=1e-9), pytest.approx(expected.high, rel=1e-9))
    assert acc.interval == "wilson"


def test_auc_variance_is_delong():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300).astype(bool)
    s = rng.normal(size=300) + y
    auc, _, var = auc_influence(s, y, np.ones(300))
    pos, neg = s[y], s[~y]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])  # textbook O(mn)
    v10, v01 = psi.mean(1), psi.mean(0)
    expected = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    assert auc == pytest.approx(psi.mean(), **TOL)
    assert var == pytest.approx(expected, **TOL)


def test_undefined_metrics_are_nan_not_zero():
    r = binary_metrics(np.array([0, 0, 1]), np.array([0.1, 0.2, 0.3]))
    assert math.isnan(r["precision"].value)  # nothing predicted positive
    assert r["recall"].value == 0.0
    one_class = binary_metrics(np.array([1, 1, 1]), np.array([0.9, 0.8, 0.7]))
    assert math.isnan(one_class["roc_auc"].value)


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_metrics_match_sklearn(weighted):
    rng = np.random.default_rng(2)
    n, classes = 2500, ["a", "b", "c", "d"]
    y = rng.integers(0, 4, n)
    logits = rng.normal(size=(n, 4))
    logits[np.arange(n), y] += 1.2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array(classes, dtype=object)[y]
    w = rng.uniform(0.5, 2, n) if weighted else None
    r = multiclass_metrics(labels, probs, classes=classes, weights=w)
    pred = np.array(classes, dtype=object)[probs.argmax(1)]
    assert r["accuracy"].value == pytest.approx(sk.accuracy_score(labels, pred, sample_weight=w), **TOL)
    for name, fn in (("precision", sk.precision_score), ("recall", sk.recall_score), ("f1", sk.f1_score)):
        assert r[name].value == pytest.approx(fn(labels, pred, average="macro", sample_weight=w), **TOL)
    assert r["roc_auc"].value == pytest.approx(
        sk.roc_auc_score(y, probs, multi_class="ovr", average="macro", sample_weight=w), **TOL)
    assert r["log_loss"].value == pytest.approx(sk.log_loss(y, probs, sample_weight=w), **TOL)
    assert r["brier"].value == pytest.approx(sk.brier_score_loss(y, probs, sample_weight=w), **TOL)
    np.testing.assert_allclose(r.confusion_matrix, sk.confusion_matrix(labels, pred, labels=classes, sample_weight=w))
    for m in r.metrics.values():
        assert m.lower <= m.value <= m.upper, m.name


def test_multiclass_macro_skips_undefined_classes_like_sklearn_nan():
    labels = np.array(["a", "a", "b", "b"], dtype=object)
    pred = np.array(["a", "b", "b", "b"], dtype=object)
    r = multiclass_metrics(labels, classes=["a", "b", "c"], y_pred=pred)
    assert r["precision"].value == pytest.approx(
        sk.precision_score(labels, pred, labels=["a", "b", "c"], average="macro", zero_division=np.nan))
    assert r["precision"].details["per_class"]["c"] is None
    with pytest.raises(ValueError, match="zz"):
        multiclass_metrics(np.array(["zz"]), classes=["a"], y_pred=np.array(["a"]))


def test_ece_textbook_and_bootstrap_is_seeded(binary):
    y, s, _ = binary
    r1, r2 = binary_metrics(y, s, seed=3), binary_metrics(y, s, seed=3)
    assert (r1["ece"].lower, r1["ece"].upper) == (r2["ece"].lower, r2["ece"].upper)
    conf = np.maximum(s, 1 - s)
    correct = (s >= 0.5) == (y == 1)
    bins = np.clip(np.ceil(conf * 10) - 1, 0, 9)
    ece = sum(abs(correct[bins == b].mean() - conf[bins == b].mean()) * (bins == b).mean()
              for b in range(10) if (bins == b).any())
    assert r1["ece"].value == pytest.approx(ece, **TOL)
    assert r1["ece"].lower <= r1["ece"].value <= r1["ece"].upper


@pytest.mark.parametrize("weighted", [False, True])
def test_regression_metrics_match_sklearn(weighted):
    rng = np.random.default_rng(4)
    y = rng.normal(10, 3, 2000)
    p = y + rng.normal(0, 1, 2000)
    y[0] = 0.0  # MAPE's eps floor
    w = rng.uniform(0.5, 2, 2000) if weighted else None
    r = regression_metrics(y, p, weights=w)
    assert r["mae"].value == pytest.approx(sk.mean_absolute_error(y, p, sample_weight=w), **TOL)
    assert r["rmse"].value == pytest.approx(sk.root_mean_squared_error(y, p, sample_weight=w), **TOL)
    assert r["mape"].value == pytest.approx(sk.mean_absolute_percentage_error(y, p, sample_weight=w), **TOL)
    assert r["r2"].value == pytest.approx(sk.r2_score(y, p, sample_weight=w), **TOL)


def test_mae_interval_is_the_t_free_textbook_interval():
    rng = np.random.default_rng(5)
    y, p = rng.normal(size=500), rng.normal(size=500)
    mae = regression_metrics(y, p)["mae"]
    a = np.abs(y - p)
    half = stats.norm.ppf(0.975) * a.std(ddof=1) / np.sqrt(a.size)
    assert (mae.lower, mae.upper) == (pytest.approx(a.mean() - half, **TOL), pytest.approx(a.mean() + half, **TOL))


def test_interval_coverage_by_simulation():
    """95% intervals cover the population value in ~95% of repeated samples."""
    rng = np.random.default_rng(6)
    covered = {"accuracy": 0, "roc_auc": 0, "r2": 0}
    # scores sigmoid(z +- 1.5): accuracy = Phi(1.5), AUC = Phi(3 / sqrt 2); y = x + e: R2 = 1/2
    accuracy, auc = stats.norm.cdf(1.5), stats.norm.cdf(3 / np.sqrt(2))
    trials = 300
    for _ in range(trials):
        y = rng.integers(0, 2, 400)
        s = 1 / (1 + np.exp(-(rng.normal(size=400) + 1.5 * (2 * y - 1))))
        r = binary_metrics(y, s)
        covered["accuracy"] += r["accuracy"].lower <= accuracy <= r["accuracy"].upper
        covered["roc_auc"] += r["roc_auc"].lower <= auc <= r["roc_auc"].upper
        x = rng.normal(size=400)
        yr = x + rng.normal(size=400)
        reg = regression_metrics(yr, x)["r2"]
        covered["r2"] += reg.lower <= 0.5 <= reg.upper
    for name, hits in covered.items():
        assert 0.90 <= hits / trials <= 0.99, (name, hits / trials)


def test_expected_accuracy_poisson_binomial():
    rng = np.random.default_rng(7)
    p = rng.uniform(size=5000)
    est = expected_accuracy(p)
    conf = np.maximum(p, 1 - p)
    assert est.estimated and est.value == pytest.approx(conf.mean(), **TOL)
    half = stats.norm.ppf(0.975) * np.sqrt(np.sum(conf * (1 - conf))) / p.size
    assert est.upper - est.lower == pytest.approx(2 * half, **TOL)
    # calibrated scores: the realized accuracy falls in the interval ~95% of the time
    hits = 0
    for _ in range(400):
        y = rng.random(p.size) < p
        hits += est.lower <= np.mean((p >= 0.5) == y) <= est.upper
    assert hits / 400 >= 0.9


def test_expected_accuracy_becomes_realized_as_labels_arrive():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    partial = expected_accuracy(probs, correct=np.array([1.0, np.nan, 0.0]))
    assert partial.estimated and partial.value == pytest.approx((1 + 0.8 + 0) / 3)
    done = expected_accuracy(probs, correct=np.array([1.0, 0.0, 0.0]))
    assert not done.estimated and done.value == pytest.approx(1 / 3) and done.lower == done.upper


def test_label_coverage_and_lag():
    cov = label_coverage(np.array([True] * 30 + [False] * 70))
    assert cov.value == 0.3 and (cov.lower, cov.upper) == (
        pytest.approx(wilson_interval(0.3, 100).lower), pytest.approx(wilson_interval(0.3, 100).upper))
    t0 = np.array(["2026-01-01T00:00", "2026-01-01T00:00", "2026-01-01T00:00"], dtype="datetime64[s]")
    t1 = np.array(["2026-01-01T01:00", "NaT", "2026-01-02T00:00"], dtype="datetime64[s]")
    lag = label_lag(t0, t1)
    assert lag.n == 2 and lag.max == 86400 and lag.p50 == pytest.approx((3600 + 86400) / 2)


def test_expected_accuracy_follows_the_decision_threshold():
    p = np.array([0.3, 0.6, 0.9])
    assert expected_accuracy(p).value == pytest.approx((0.7 + 0.6 + 0.9) / 3)
    assert expected_accuracy(p, threshold=0.2).value == pytest.approx((0.3 + 0.6 + 0.9) / 3)
