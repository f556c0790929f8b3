"""Every read a page makes, cached for a short time (st.cache_data, keyed by the database URL
and the arguments), so reruns from widget clicks and several people on one page cost one query.

Pages call these and nothing else for data; the queries themselves are store/dashboard_reads*.
Selections end on a whole minute (dashboard.state), so one minute's views share cache entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import streamlit as st

from dashboard.context import engine_for
from dashboard.histogram import Overlay, overlay
from dashboard.risk import FleetRow, fleet_rows
from store import dashboard_reads as traffic
from store import dashboard_reads_alerts as alerting
from store import dashboard_reads_analysis as analysis
from store import dashboard_reads_samples as samples
from store import retrain_reads as retrain

TTL_S = 30  # seconds: fresh enough for on-call, and a scheduler cycle is minutes apart


@st.cache_data(ttl=TTL_S, show_spinner=False)
def traffic_series(url: str, model: str, start: datetime, end: datetime, step: int, version: str | None,
                   bounds_ms: tuple[float, ...]) -> traffic.TrafficSeries:
    return traffic.traffic_series(engine_for(url), model, start, end, step, version, bounds_ms)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def fleet(url: str, models: tuple[tuple[str, str | None], ...], start: datetime, end: datetime,
          min_coverage: float = 0.5) -> list[FleetRow]:
    engine = engine_for(url)
    names = [m for m, _ in models]
    return fleet_rows(models, traffic.fleet_traffic(engine, names, start, end), alerting.slo_statuses(engine, names),
                      analysis.accuracy_proxies(engine, names, start, end, min_coverage),
                      traffic.deploy_counts(engine, names, start, end), alerting.open_alert_counts(engine, names),
                      (end - start).total_seconds() / 86400.0)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def deploys(url: str, model: str, start: datetime, end: datetime) -> list[traffic.Deploy]:
    return traffic.deploys(engine_for(url), model, start, end)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def versions(url: str, model: str) -> list[str]:
    return traffic.model_versions(engine_for(url), model)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def current_version(url: str, model: str, end: datetime) -> str | None:
    return traffic.current_version(engine_for(url), model, end)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def slo_statuses(url: str, model: str) -> list[alerting.SloStatus]:
    return alerting.slo_statuses(engine_for(url), [model])


@st.cache_data(ttl=TTL_S, show_spinner=False)
def slo_history(url: str, model: str, start: datetime, end: datetime) -> dict[str, list[alerting.BurndownPoint]]:
    return alerting.slo_history(engine_for(url), model, start, end)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def alerts(url: str, model: str | None) -> list[alerting.AlertRow]:
    return alerting.alert_rows(engine_for(url), model)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def delivery_log(url: str, start: datetime, end: datetime, model: str | None) -> list[alerting.Delivery]:
    return alerting.delivery_log(engine_for(url), start, end, model)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def delivery_attempts(url: str, ids: tuple[int, ...]) -> list[alerting.Attempt]:
    return alerting.delivery_attempts(engine_for(url), ids)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def retrain_triggers(url: str, model: str, start: datetime, end: datetime) -> list[retrain.TriggerRow]:
    return retrain.read_triggers(engine_for(url), model, start, end)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def drift_table(url: str, model: str, start: datetime, end: datetime) -> analysis.DriftTable:
    return analysis.drift_table(engine_for(url), model, start, end)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def quality_findings(url: str, model: str, start: datetime, end: datetime) -> list[analysis.QualityFinding]:
    return analysis.quality_findings(engine_for(url), model, start, end)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def slice_performance(url: str, model: str, start: datetime, end: datetime,
                      metric: str) -> analysis.SlicePerformance | None:
    return analysis.slice_performance(engine_for(url), model, start, end, metric)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def recent_failures(url: str, model: str, start: datetime, end: datetime,
                    version: str | None) -> list[samples.FailedPrediction]:
    return samples.recent_failures(engine_for(url), model, start, end, version)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def feature_overlay(url: str, model: str, feature: str, numeric: bool, reference: str, start: datetime,
                    end: datetime) -> Overlay | str:
    """The histogram overlay, or why there is none (a sentence saying what to do)."""
    from store.profiles import stored_reference

    engine = engine_for(url)
    stored = stored_reference(engine, model, reference)
    if stored is None:
        return (f"no reference dataset {reference!r} for {model} — upload one with POST /v1/references "
                "to compare against")
    document = (stored.profile or {}).get("features", {}).get(feature)
    if document is None:
        return f"the reference profile has no {feature!r} yet — it is fitted at the next analysis run"
    values, weights = samples.feature_values(engine, model, feature, numeric, start, end)
    if values.shape[0] == 0:
        return f"no sampled predictions between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
    return overlay(feature, document, values, weights if np.isfinite(weights).all() else None)


@st.cache_data(ttl=TTL_S, show_spinner=False)
def shadow_report(url: str, spec_json: str, model: str, start: datetime, end: datetime,
                  _model_spec: Any) -> dict[str, Any]:
    """The shadow report as its JSON document (what the API returns); ``spec_json`` (the
    model spec as JSON) stands for ``_model_spec`` in the cache key."""
    from shadow.report import shadow_report as report

    return report(engine_for(url), _model_spec, start, end).to_dict()


@st.cache_data(ttl=TTL_S, show_spinner=False)
def canary_report(url: str, spec_json: str, model: str, end: datetime, _model_spec: Any) -> dict[str, Any] | None:
    """The canary report over the model's canary window ending at ``end`` as its JSON document
    (what the API returns); None when fewer than two versions served then. ``spec_json``
    stands for ``_model_spec`` in the cache key."""
    from analysis.canary.report import canary_report as report
    from analysis.canary.roles import CanaryError

    try:
        return report(engine_for(url), _model_spec, end - _model_spec.canary.window, end).to_dict()
    except CanaryError:
        return None


@st.cache_data(ttl=TTL_S, show_spinner=False)
def cost_report(url: str, model: str, costs_json: str, start: datetime, end: datetime, now: datetime,
                _model_spec: Any) -> Any:
    """analysis.cost_figures.CostReport of ``_model_spec`` over the range; ``costs_json`` (its
    cost models as JSON) stands for it in the cache key."""
    from analysis.cost_figures import cost_report as report

    with engine_for(url).connect() as conn:
        return report(conn, _model_spec, start, end, now)
