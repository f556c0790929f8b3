"""One version's rows of a window (store.analysis_reads.WindowData) as a VersionSample (pure):
its outputs, inputs, weights, and per labelled row whether it was right (classifiers, judged
as the performance job judges them) or its absolute error (regressors)."""

from __future__ import annotations

import numpy as np

from analysis.canary.inputs import VersionSample
from analysis.jobs.performance_job import correctness
from config.monitors import Model, Task
from store.analysis_reads import WindowData

__all__ = ["output_columns", "version_sample"]


def output_columns(model: Model, data: WindowData) -> tuple[str, ...]:
    """The outputs compared between versions: the predicted label of a classifier (and the
    positive-class score of a binary one, when scores were sent), the value of a regressor."""
    if model.task is Task.regression:
        return ("prediction_value",)
    if model.task is Task.binary and np.isfinite(data.score).any():
        return ("prediction", "score")
    return ("prediction",)


def version_sample(model: Model, data: WindowData, version: str, threshold: float = 0.5) -> VersionSample:
    """The rows of ``version``; ``threshold``: a binary score at or above it predicts the
    positive class (the model's ``analysis.performance.decision_threshold``)."""
    rows = np.flatnonzero(data.version == version)
    if model.task is Task.regression:
        error = np.abs(data.label_value[rows] - data.prediction_value[rows])
        outcome = np.where(data.labeled[rows] & np.isfinite(error), error, np.nan)
    else:
        outcome = correctness(model, data, rows, threshold)
    columns = {"prediction": data.prediction, "score": data.score, "prediction_value": data.prediction_value}
    return VersionSample(
        version=version, weight=data.weight[rows], outcome=outcome,
        outputs={name: columns[name][rows] for name in output_columns(model, data)},
        features={name: column[rows] for name, column in data.features.items()},
    )
