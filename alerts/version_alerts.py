"""Traffic from a version nobody expected, as page alert candidates.

A model whose monitors YAML lists ``expected_versions`` pages when its request counters over the
lookback (15 minutes by default) include requests from any other version: the wrong artifact
went out, or an old one is still serving. One alert per (model, version); it stays active while
that version keeps serving and resolves once the lookback holds none of its requests.

    unexpected_version_candidates(models, traffic, lookback)   # pure decision
    version_candidates(conn, models, now, lookback)             # reads the counters, then decides
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from alerts.labels import Labels
from alerts.slo_alerts import AlertCandidate
from config.durations import format_duration
from config.monitors import Model
from store.deploy_reads import VersionTraffic, version_traffic

__all__ = ["ALERTNAME", "DEFAULT_LOOKBACK", "SEVERITY", "unexpected_version_candidates", "version_candidates"]

ALERTNAME = "UnexpectedModelVersion"
SEVERITY = "page"
DEFAULT_LOOKBACK = timedelta(minutes=15)
_SHA_SHOWN = 12  # hex characters of the artifact's SHA-256 in the summary; the full one is its own annotation


def _summary(model: Model, t: VersionTraffic, lookback: timedelta) -> str:
    text = (f"{model.name} served {t.requests:,} request(s) from version {t.version} in the last "
            f"{format_duration(lookback)}; expected: {', '.join(model.expected_versions)}")
    return text + (f" (artifact sha256 {t.artifact_sha256[:_SHA_SHOWN]})" if t.artifact_sha256 else "")


def unexpected_version_candidates(models: Iterable[Model], traffic: Iterable[VersionTraffic],
                                  lookback: timedelta) -> list[AlertCandidate]:
    """One active page candidate per (model, version) that served requests (``traffic``, summed
    over ``lookback``) while not in the model's non-empty ``expected_versions``."""
    watched = {m.name: m for m in models if m.expected_versions}
    out: list[AlertCandidate] = []
    for t in traffic:
        model = watched.get(t.model)
        if model is None or t.requests <= 0 or t.version in model.expected_versions:
            continue
        labels = Labels({"alertname": ALERTNAME, "model": model.name, "version": t.version, "severity": SEVERITY,
                         "team": model.team or ""})
        annotations = {"summary": _summary(model, t, lookback), "requests": str(t.requests),
                       "expected_versions": ", ".join(model.expected_versions)}
        if t.artifact_sha256:
            annotations["artifact_sha256"] = t.artifact_sha256
        out.append(AlertCandidate(labels, Labels(annotations), True))
    return out


def version_candidates(conn: Connection, models: Sequence[Model], now: datetime,
                       lookback: timedelta = DEFAULT_LOOKBACK) -> list[AlertCandidate]:
    """Candidates from the request counters of minutes in ``[now - lookback, now)``; only models
    with expected versions are read."""
    watched = [m for m in models if m.expected_versions]
    if not watched:
        return []
    traffic = version_traffic(conn, [m.name for m in watched], now - lookback, now)
    return unexpected_version_candidates(watched, traffic, lookback)
