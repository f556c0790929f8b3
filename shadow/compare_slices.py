"""Per-slice disagreement and paired accuracy, with Benjamini-Hochberg across slices so that
looking at many slices does not manufacture a "significantly worse" one."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from analysis.stats.fdr import benjamini_hochberg
from config.monitors import Model, Task
from shadow.columns import PairedColumns
from shadow.comparison import regression_tolerance
from shadow.compare import agreement, value_agreement
from shadow.compare_paired import paired_abs_error, paired_accuracy

__all__ = ["SliceComparison", "compare_slices"]


@dataclass(frozen=True)
class SliceComparison:
    """``difference``: candidate - production accuracy (classifiers) or MAE (regressors) on the
    slice's labelled rows; ``q_value``: BH-adjusted p-value across every slice compared."""

    key: str
    value: str
    n: int
    agreement: float
    labelled: int
    difference: float
    p_value: float
    q_value: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in asdict(self).items()}


def _one(key: str, value: str, rows: PairedColumns, model: Model, confidence: float) -> SliceComparison:
    ran = rows.take(rows.both_ran)
    judged = ran.take(ran.labelled)
    if model.task is Task.regression:
        agree = value_agreement(ran.prod_value, ran.cand_value, regression_tolerance(model, ran.prod_value)).agreement
        test = paired_abs_error(np.abs(judged.prod_value - judged.true_value),
                                np.abs(judged.cand_value - judged.true_value), confidence)
        difference, p = test.difference, test.p_value
    else:
        agree = agreement(ran.prod_label, ran.cand_label).agreement
        acc = paired_accuracy(judged.prod_label == judged.true_label, judged.cand_label == judged.true_label, confidence)
        difference, p = acc.difference, (acc.test.p_value if acc.n else math.nan)
    return SliceComparison(key, value, rows.n, agree, judged.n, difference, p, math.nan)


def compare_slices(columns: PairedColumns, model: Model, confidence: float = 0.95,
                   min_rows: int = 30) -> tuple[SliceComparison, ...]:
    """One entry per declared slice key and value with at least ``min_rows`` rows, lowest
    agreement first. Rows without a value for a key are left out of that key."""
    found = []
    for key, column in columns.slices.items():
        for value in sorted({v for v in column.tolist() if v is not None}):
            mask = column == value
            if int(np.count_nonzero(mask)) >= min_rows:
                found.append(_one(key, value, columns.take(mask), model, confidence))
    q = benjamini_hochberg([f.p_value for f in found]).adjusted if found else np.array([])
    results = [replace(f, q_value=float(qv)) for f, qv in zip(found, q)]
    return tuple(sorted(results, key=lambda s: (np.nan_to_num(s.agreement, nan=2.0), s.key, s.value)))
