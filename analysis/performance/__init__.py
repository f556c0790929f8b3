"""Performance from delayed labels (classification, regression) with confidence intervals,
label coverage and lag, and the label-free expected accuracy."""

from analysis.performance.classification import ClassificationReport, binary_metrics, multiclass_metrics
from analysis.performance.estimate import expected_accuracy
from analysis.performance.labels import LabelLag, label_coverage, label_lag
from analysis.performance.metric import MetricEstimate
from analysis.performance.regression import RegressionReport, regression_metrics

__all__ = [
    "ClassificationReport",
    "LabelLag",
    "MetricEstimate",
    "RegressionReport",
    "binary_metrics",
    "expected_accuracy",
    "label_coverage",
    "label_lag",
    "multiclass_metrics",
    "regression_metrics",
]
