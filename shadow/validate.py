"""The last registration check: stored rows of the model run through the candidate."""

from __future__ import annotations

import numpy as np
from sqlalchemy.engine import Engine

from config.monitors import FeatureType, Model
from shadow.errors import SampleRunFailed
from shadow.infer import Runnable, infer
from shadow.reads import read_recent

__all__ = ["SAMPLE_ROWS", "sample_run", "synthetic_columns"]

SAMPLE_ROWS = 64


def synthetic_columns(model: Model) -> dict[str, np.ndarray]:
    """One row: 0 (or the range's lower bound) per numeric feature, the first category per
    categorical one; what registration runs when nothing is stored yet."""
    columns: dict[str, np.ndarray] = {}
    for feature in model.features:
        if feature.type is FeatureType.numeric:
            columns[feature.name] = np.array([feature.range[0] if feature.range else 0.0])
        elif feature.type is FeatureType.categorical:
            columns[feature.name] = np.array([(feature.categories or (None,))[0]], dtype=object)
    return columns


def sample_run(engine: Engine, model: Model, runnable: Runnable) -> int:
    """Run up to SAMPLE_ROWS latest stored rows (one synthetic row when none are stored) and
    return how many stored rows ran. Raises SampleRunFailed naming the first failing row, or an
    output class the model does not declare."""
    with engine.connect() as conn:
        batch = read_recent(conn, model, SAMPLE_ROWS)
    features, raw, n = (batch.features, batch.raw, batch.n) if batch.n else (synthetic_columns(model), {}, 1)
    result = infer(runnable, features, raw, n)
    failed = [i for i, e in enumerate(result.errors.tolist()) if e is not None]
    if failed:
        where = f"prediction {batch.prediction_id[failed[0]]!r}" if batch.n else "a synthetic row"
        raise SampleRunFailed(f"{len(failed)} of {n} sample row(s) failed; {where}: {result.errors[failed[0]]}")
    if model.classes:
        unknown = sorted({str(v) for v in result.label.tolist() if v is not None} - set(model.classes))
        if unknown:
            raise SampleRunFailed(f"the candidate predicts class(es) {unknown} that model {model.name!r} does not declare "
                                  f"({list(model.classes)}): declare outputs.classes in the mapping")
    return batch.n
