"""Every statistic equals scipy or the textbook formula to 1e-9 on golden vectors."""

import math

import numpy as np
import pytest
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

from analysis.drift import REGISTRY, fit_categorical, fit_numeric
from analysis.drift.binned import EPSILON
from analysis.drift.exact import ks_exact, wasserstein_exact

TOL = dict(rel=1e-9, abs=1e-12)


def stat(name, kind, ref, cur):
    return REGISTRY.get(name, kind).compute(ref, cur)


@pytest.fixture(scope="module")
def numeric_case():
    rng = np.random.default_rng(42)
    ref = rng.normal(10, 2, size=4000)
    cur = rng.normal(10.6, 2.5, size=3000)
    ref[rng.random(4000) < 0.02] = np.nan
    cur[rng.random(3000) < 0.05] = np.nan
    profile = fit_numeric(ref, bins=10)
    return ref, cur, profile, profile.summarise(cur)


def textbook_proportions(profile, values):
    """Right-closed bins (e_{k-1}, e_k] at the profile's edges, open ends, then NaN."""
    x = np.asarray(values, float)
    finite = np.isfinite(x)
    edges = profile.grid[profile.edges]
    counts = np.bincount(np.searchsorted(edges, x[finite], side="left"), minlength=edges.size + 1)
    counts = np.append(counts, (~finite).sum()).astype(float)
    return counts / counts.sum()


def smoothed(p):
    return (p + EPSILON) / (1 + p.size * EPSILON)


def test_numeric_bins_are_reference_deciles(numeric_case):
    ref, _, profile, _ = numeric_case
    p = textbook_proportions(profile, ref)
    assert p.size == 11
    np.testing.assert_allclose(p[:10] / p[:10].sum(), 0.1, atol=1e-3)


def test_psi_kl_js_hellinger_match_formulas(numeric_case):
    ref, cur, r, c = numeric_case
    pr, pc = textbook_proportions(r, ref), textbook_proportions(r, cur)
    sr, sc = smoothed(pr), smoothed(pc)
    assert stat("psi", "numeric", r, c).value == pytest.approx(np.sum((sc - sr) * np.log(sc / sr)), **TOL)
    kl = stat("kl", "numeric", r, c).value
    assert kl == pytest.approx(special.rel_entr(sc, sr).sum(), **TOL)
    assert kl == pytest.approx(stats.entropy(sc, sr), **TOL)
    assert stat("jensen_shannon", "numeric", r, c).value == pytest.approx(jensenshannon(pc, pr, base=2), **TOL)
    hel = np.sqrt(0.5 * np.sum((np.sqrt(pr) - np.sqrt(pc)) ** 2))
    assert stat("hellinger", "numeric", r, c).value == pytest.approx(hel, **TOL)


def test_binned_p_value_is_chi2_contingency(numeric_case):
    ref, cur, r, c = numeric_case
    table = np.vstack([textbook_proportions(r, ref) * ref.size, textbook_proportions(r, cur) * cur.size])
    expected = stats.chi2_contingency(table, correction=False)
    for name in ("psi", "kl", "jensen_shannon", "hellinger"):
        result = stat(name, "numeric", r, c)
        assert result.p_value == pytest.approx(expected.pvalue, **TOL)
        assert result.details["chi2"] == pytest.approx(expected.statistic, **TOL)


def test_ks_and_wasserstein_match_scipy_on_grid_data():
    # every value on the grid (<= sketch_size + 1 distinct values): the profile path is exact
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 60, size=900).astype(float) * 0.25
    cur = rng.integers(5, 70, size=700).astype(float) * 0.25
    r = fit_numeric(ref)
    c = r.summarise(cur)
    expected = stats.ks_2samp(ref, cur, method="asymp")
    ks = stat("ks", "numeric", r, c)
    assert ks.value == pytest.approx(expected.statistic, **TOL)
    assert ks.p_value == pytest.approx(expected.pvalue, **TOL)
    w1 = stats.wasserstein_distance(ref, cur)
    assert stat("wasserstein", "numeric", r, c).value == pytest.approx(w1, **TOL)
    assert stat("wasserstein_norm", "numeric", r, c).value == pytest.approx(w1 / np.std(ref), **TOL)


def test_weighted_ks_and_wasserstein_match_textbook_on_grid_data():
    rng = np.random.default_rng(4)
    ref = rng.integers(0, 40, size=600).astype(float)
    cur = rng.integers(3, 45, size=500).astype(float)
    wr, wc = rng.uniform(0.5, 3, size=600), rng.choice([1.0, 10.0], size=500)
    r = fit_numeric(ref, wr)
    c = r.summarise(cur, wc)
    points = np.union1d(ref, cur)
    f_r = np.array([wr[ref <= x].sum() for x in points]) / wr.sum()
    f_c = np.array([wc[cur <= x].sum() for x in points]) / wc.sum()
    d = np.max(np.abs(f_r - f_c))
    ks = stat("ks", "numeric", r, c)
    assert ks.value == pytest.approx(d, **TOL)
    n_r, n_c = wr.sum() ** 2 / (wr**2).sum(), wc.sum() ** 2 / (wc**2).sum()
    assert ks.n_eff_current == pytest.approx(n_c, **TOL)
    assert ks.p_value == pytest.approx(stats.kstwo.sf(d, round(n_r * n_c / (n_r + n_c))), **TOL)
    w1 = stats.wasserstein_distance(ref, cur, wr, wc)
    assert stat("wasserstein", "numeric", r, c).value == pytest.approx(w1, **TOL)
    std = np.sqrt(np.average((ref - np.average(ref, weights=wr)) ** 2, weights=wr))
    assert stat("wasserstein_norm", "numeric", r, c).value == pytest.approx(w1 / std, **TOL)


def test_sketch_accuracy_on_continuous_data():
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(size=50_000), rng.normal(0.3, 1.3, size=20_000)
    r = fit_numeric(ref)
    c = r.summarise(cur)
    ks = stat("ks", "numeric", r, c)
    d = stats.ks_2samp(ref, cur).statistic
    assert ks.value <= d + 1e-12 <= ks.details["d_upper"] + 1e-12  # bracketed
    assert ks.details["d_upper"] - ks.value < 0.01
    w1 = stat("wasserstein", "numeric", r, c).value
    assert w1 == pytest.approx(stats.wasserstein_distance(ref, cur), rel=2e-3)
    moved = rng.normal(0.5, 1.0, size=20_000)  # a location shift: the CDFs barely cross
    assert stat("wasserstein", "numeric", r, r.summarise(moved)).value == pytest.approx(
        stats.wasserstein_distance(ref, moved), rel=1e-4)


def test_exact_path_matches_scipy():
    rng = np.random.default_rng(6)
    ref, cur = rng.normal(size=800), rng.standard_t(5, size=600)
    wr, wc = rng.uniform(size=800), rng.uniform(size=600)
    expected = stats.ks_2samp(ref, cur, method="asymp")
    ks = ks_exact(ref, cur)
    assert (ks.value, ks.p_value) == (pytest.approx(expected.statistic, **TOL), pytest.approx(expected.pvalue, **TOL))
    assert wasserstein_exact(ref, cur, wr, wc).value == pytest.approx(stats.wasserstein_distance(ref, cur, wr, wc), **TOL)
    assert wasserstein_exact(ref, cur, normalised=True).value == pytest.approx(
        stats.wasserstein_distance(ref, cur) / np.std(ref), **TOL)


@pytest.fixture(scope="module")
def categorical_case():
    cats = np.array(["a", "b", "c", "d", "e"], dtype=object)
    rng = np.random.default_rng(8)
    ref = cats[rng.choice(5, size=3000, p=[0.4, 0.3, 0.15, 0.1, 0.05])]
    ref[:30] = None
    cur = cats[rng.choice(5, size=2000, p=[0.3, 0.3, 0.2, 0.1, 0.1])]
    cur[:50] = "zz"  # unseen
    cur[50:90] = np.nan  # missing
    r = fit_categorical(ref, top_k=3)
    return ref, cur, r, r.summarise(cur)


def categorical_textbook(ref, cur):
    """Bins a, b, c (top 3), other {d, e}, unseen, missing."""
    def counts(x):
        s = [v if isinstance(v, str) else None for v in x]
        return np.array([s.count("a"), s.count("b"), s.count("c"), s.count("d") + s.count("e"),
                         sum(v not in (None, "a", "b", "c", "d", "e") for v in s), s.count(None)], float)
    return counts(ref), counts(cur)


def test_categorical_statistics_match_formulas(categorical_case):
    ref, cur, r, c = categorical_case
    cr, cc = categorical_textbook(ref, cur)
    np.testing.assert_array_equal(r.counts, cr)
    np.testing.assert_array_equal(c.counts, cc)
    pr, pc = cr / cr.sum(), cc / cc.sum()
    sr, sc = smoothed(pr), smoothed(pc)
    assert stat("psi", "categorical", r, c).value == pytest.approx(np.sum((sc - sr) * np.log(sc / sr)), **TOL)
    assert stat("kl", "categorical", r, c).value == pytest.approx(stats.entropy(sc, sr), **TOL)
    assert stat("jensen_shannon", "categorical", r, c).value == pytest.approx(jensenshannon(pc, pr, base=2), **TOL)
    assert stat("hellinger", "categorical", r, c).value == pytest.approx(
        np.sqrt(0.5 * np.sum((np.sqrt(pr) - np.sqrt(pc)) ** 2)), **TOL)
    chi2 = stat("chi2", "categorical", r, c)
    expected = stats.chi2_contingency(np.vstack([cr, cc])[:, (cr + cc) > 0], correction=False)
    assert (chi2.value, chi2.p_value) == (pytest.approx(expected.statistic, **TOL), pytest.approx(expected.pvalue, **TOL))
    assert chi2.effect_size == pytest.approx(math.sqrt(np.sum((sc - sr) ** 2 / sr)), **TOL)
    card = stat("cardinality", "categorical", r, c)
    assert card.value == pytest.approx(6 / 5 - 1, **TOL)
    assert card.details["new_categories"] == 1


def test_weighted_chi2_uses_effective_counts(categorical_case):
    _, cur, r, _ = categorical_case
    w = np.random.default_rng(9).uniform(0.2, 5, size=cur.size)
    c = r.summarise(cur, w)
    n_eff = w.sum() ** 2 / (w**2).sum()
    table = np.vstack([r.counts, c.counts * n_eff / c.counts.sum()])
    expected = stats.chi2_contingency(table[:, table.sum(0) > 0], correction=False)
    assert stat("chi2", "categorical", r, c).p_value == pytest.approx(expected.pvalue, **TOL)
