"""Scheduled analysis jobs: the I/O shell around the pure statistics.

- ``schedule``: the ``analysis.schedule`` settings and fixed-window arithmetic.
- ``compute`` (with ``drift_job``, ``quality_job``, ``performance_job``): every result row of a
  window from its data and the reference profile -- pure.
- ``run``: one claimed window read, computed and written in one transaction (fenced by the claim).
- ``late_labels``: performance reruns for windows whose labels arrived later.
- ``cycle``: one pass over every due model, then the alert cycle; ``scheduler``: APScheduler;
  ``backfill``: ``modelwatch analyze``.
"""
