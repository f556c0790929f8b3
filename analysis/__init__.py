"""modelwatch analysis: pure statistics over windows of predictions and labels.

- ``analysis.drift``: reference profiles (fitted once, stored as JSON, mergeable), the statistic
  registry (PSI, KL, Jensen-Shannon, Hellinger, KS, Wasserstein, chi-square, cardinality),
  decisions that stay quiet at large n, and ``compute_drift`` for a whole window.
- ``analysis.quality``: data-quality findings (types, nulls, ranges, missing rate, new
  categories, volume).
- ``analysis.performance``: metrics from delayed labels with confidence intervals, label
  coverage and lag, and the label-free expected accuracy.
- ``analysis.stats``: sample weights, Benjamini-Hochberg, intervals, the typed ``AnalysisPolicy``.

Conventions (formulas, bins, smoothing, defaults): docs/statistics.md.
"""
