"""GridLocator equals np.searchsorted(grid, x, side="left") bit for bit."""

import numpy as np
import pytest

from analysis.drift.grid import GridLocator


@pytest.mark.parametrize("name, sample", [
    ("normal", lambda r, n: r.normal(size=n)),
    ("uniform", lambda r, n: r.uniform(-5, 5, size=n)),
    ("lognormal heavy tail", lambda r, n: r.lognormal(0, 2, size=n)),
    ("poisson ties", lambda r, n: r.poisson(2, size=n).astype(float)),
    ("offset", lambda r, n: 1.7e9 + r.normal(size=n)),
    ("tiny scale", lambda r, n: 1e-300 * r.normal(size=n)),
])
def test_matches_searchsorted_on_quantile_grids(name, sample):
    rng = np.random.default_rng(7)
    ref, cur = sample(rng, 20_000), sample(rng, 50_000)
    for k in (1, 2, 10, 200, 1000):
        grid = np.unique(np.quantile(ref, np.linspace(0, 1, k + 1), method="inverted_cdf"))
        probe = np.concatenate((cur, grid, np.nextafter(grid, np.inf), np.nextafter(grid, -np.inf),
                                [np.finfo(float).max, -np.finfo(float).max]))
        assert np.array_equal(GridLocator(grid).locate(probe), np.searchsorted(grid, probe, side="left"))


def test_uses_guide_table_for_ordinary_data_and_falls_back_for_heavy_tails():
    rng = np.random.default_rng(1)
    normal = np.unique(np.quantile(rng.normal(size=10_000), np.linspace(0, 1, 201)))
    heavy = np.unique(np.quantile(rng.lognormal(0, 3, size=10_000), np.linspace(0, 1, 201)))
    assert GridLocator(normal).uses_guide_table
    assert not GridLocator(heavy).uses_guide_table
