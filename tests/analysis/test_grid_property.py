"""Property test: GridLocator equals np.searchsorted on arbitrary grids and values."""

import numpy as np
import pytest

pytest.importorskip("hypothesis")  # a dev dependency; the example-based tests in test_grid.py always run

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from analysis.drift.grid import GridLocator  # noqa: E402

FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=200, deadline=None)
@given(grid=hnp.arrays(np.float64, st.integers(0, 40), elements=FINITE, unique=True),
       x=hnp.arrays(np.float64, st.integers(0, 60), elements=FINITE))
def test_property_equals_searchsorted(grid, x):
    grid = np.sort(grid)
    assert np.array_equal(GridLocator(grid).locate(x), np.searchsorted(grid, x, side="left"))
