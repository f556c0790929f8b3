"""Alert state machine, routing and receivers (issue 4).

Pure decisions, each a function of values (time passed in):

- ``labels``, ``matchers``, ``alert``: label sets with a stable fingerprint, Alertmanager matchers.
- ``state``: inactive / pending / firing / resolved per fingerprint (``step``).
- ``slo_alerts``: SLO evaluations (analysis.slo) as alert candidates.
- ``routing``, ``grouping``, ``inhibition``, ``silences``: Alertmanager-like routing tree,
  aggregation-group timers and dedup, inhibition rules, silences with expiry.
- ``render``: page content (burn per window, budget, time to exhaustion, slices, deploys).
- ``retry``, ``delivery``: backoff with full jitter, token buckets, outbox entry decisions.
- ``config``: typed ``routes`` / ``receivers`` / ``inhibit_rules`` sections of monitors YAML.

I/O lives only in ``receivers`` (one module per channel behind ``Receiver.send``).
"""
