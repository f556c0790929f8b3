"""What the demo has to show so far, read from the store: drift found, SLO states, pages in the
delivery log, the shadow verdict. The demo prints it; its test checks it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.monitors import Model
from store import schema
from store import schema_alerts as alerts


@dataclass(frozen=True)
class DemoStatus:
    predictions: int
    drifted_windows: int  # analysis windows whose drift decision says the model drifted
    drifted_features: tuple[str, ...]
    slo_states: dict[str, str]  # SLO -> ok | firing | no_data | low_traffic ...
    pages: int  # firing notifications in the outbox (the delivery log)
    pages_sent: int  # ... of which the receiver accepted
    verdict: str | None  # promote | hold | reject, once the runner has replayed something
    verdict_summary: str = ""

    def lines(self) -> list[str]:
        verdict = f"{self.verdict} ({self.verdict_summary})" if self.verdict else "waiting for replayed rows"
        return [
            f"predictions stored: {self.predictions}",
            f"drift: {self.drifted_windows} window(s) drifted"
            + (f" ({', '.join(self.drifted_features)})" if self.drifted_features else ""),
            "SLOs: " + (", ".join(f"{k} {v}" for k, v in sorted(self.slo_states.items())) or "not evaluated yet"),
            f"pages: {self.pages} in the delivery log, {self.pages_sent} delivered",
            f"shadow candidate: {verdict}",
        ]


def _scalar(conn: sa.Connection, query: sa.Select) -> int:
    return int(conn.execute(query).scalar_one() or 0)


def demo_status(engine: Engine, model: Model, now: datetime) -> DemoStatus:
    """The demo's progress for ``model`` as of ``now``."""
    r, n = schema.analysis_results, alerts.notifications
    drift = sa.and_(r.c.model == model.name, r.c.kind == "drift", r.c.metric == "drift", r.c.slice_key == "")
    with engine.connect() as conn:
        predictions = _scalar(conn, sa.select(sa.func.count()).select_from(schema.predictions)
                              .where(schema.predictions.c.model == model.name))
        windows = _scalar(conn, sa.select(sa.func.count()).where(drift, r.c.feature == "", r.c.status == "any_drift"))
        features = tuple(sorted(conn.execute(sa.select(r.c.feature).distinct()
                                             .where(drift, r.c.feature != "", r.c.status == "drift")).scalars()))
        states = dict(conn.execute(sa.select(alerts.slo_status.c.slo, alerts.slo_status.c.state)
                                   .where(alerts.slo_status.c.model == model.name)).all())
        pages = _scalar(conn, sa.select(sa.func.count()).where(n.c.kind == "firing"))
        sent = _scalar(conn, sa.select(sa.func.count()).where(n.c.kind == "firing", n.c.status == "sent"))
    verdict, summary = _verdict(engine, model, now)
    return DemoStatus(predictions, windows, features, states, pages, sent, verdict, summary)


def _verdict(engine: Engine, model: Model, now: datetime) -> tuple[str | None, str]:
    try:
        from shadow.report import shadow_report
    except ImportError:  # no ONNX Runtime: the shadow part of the demo is off
        return None, ""
    report = shadow_report(engine, model, now - timedelta(hours=1), now)
    if not report.candidates or report.candidates[0].comparison.n == 0:
        return None, ""
    verdict = report.candidates[0].verdict
    return str(verdict.decision), verdict.summary
