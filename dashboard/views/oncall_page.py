"""On-call: latency and errors over time with deploys, burn rates against their thresholds,
what is firing, and what was deployed."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from analysis.canary.verdict import HEADLINES
from analysis.stats.histogram import histogram_quantile
from config.ownership import alert_ownership, ownership_of
from dashboard import charts, data, fmt
from dashboard.context import page_context
from dashboard.state import bucket_minutes
from dashboard.widgets import OWNERSHIP_COLUMNS, ownership_caption, ownership_cells, page_link_url, range_caption, show_chart
from modelwatch.counters import DEFAULT_BOUNDS_MS
from store.slo_reads import minute_time

ctx = page_context()
sel = ctx.selection
model = ctx.model
url = ctx.database_url
st.title("On-call")
range_caption(sel)
ownership_caption(ownership_of(model))

bounds = tuple(sorted({*DEFAULT_BOUNDS_MS, *(b for s in model.slos for b in s.buckets_ms)}))
series = data.traffic_series(url, model.name, sel.start, sel.end, bucket_minutes(sel.span), sel.version_filter, bounds)
# one read serves the chart annotations (those in the range) and the recent-deploys table
deploys = data.deploys(url, model.name, min(sel.start, sel.end - timedelta(days=30)), sel.end)
total = series.total_buckets
cols = st.columns(5)
cols[0].metric("Current version", data.current_version(url, model.name, sel.end) or fmt.MISSING)
cols[1].metric("Latency p95", fmt.ms(float(histogram_quantile(0.95, series.bounds_ms, total))),
               help="From the SDK's latency histograms over the range (bucket interpolation).")
cols[2].metric("Latency p99", fmt.ms(float(histogram_quantile(0.99, series.bounds_ms, total))))
cols[3].metric("Error rate", fmt.pct(series.total_errors / series.total_requests, 3) if series.total_requests else fmt.MISSING)
cols[4].metric("Requests", fmt.count(series.total_requests))

st.subheader("Active alerts")
active = [a for a in data.alerts(url, model.name) if a.state in ("firing", "pending")]
if not active:
    st.success(f"Nothing firing for {model.name}.")
else:
    st.dataframe(pd.DataFrame([{
        "alert": a.alertname, "severity": a.severity, "state": a.state, "SLO / feature":
        a.labels.get("slo") or a.labels.get("feature", ""), "since": fmt.when(a.fired_at or a.active_since),
        "summary": a.annotations.get("summary", ""), "muted": "silenced" if a.silenced else
        ("inhibited" if a.inhibited else ""), "details": page_link_url("alerts", sel, alert=a.fingerprint),
        **ownership_cells(alert_ownership(ctx.monitors, a.labels, a.annotations)),
    } for a in active]), hide_index=True, width="stretch", column_config={
        "details": st.column_config.LinkColumn(display_text="open"), **OWNERSHIP_COLUMNS,
    })

if series.total_requests == 0:
    st.info(f"No requests counted for {model.name} in this range — the SDK sends request counters with every "
            "batch (POST /v1/counters); check that the serving code calls `modelwatch.init(...)`.")
else:
    times = [minute_time(int(m)) for m in series.starts]
    p95 = histogram_quantile(0.95, series.bounds_ms, series.buckets)
    p99 = histogram_quantile(0.99, series.bounds_ms, series.buckets)
    latency = pd.DataFrame({"time": times * 2, "series": ["p95"] * len(times) + ["p99"] * len(times),
                            "value": [*p95, *p99]}).dropna()
    st.markdown(f"**Latency** (ms, per {series.step_minutes} min, dashed lines: deploys)")
    show_chart(charts.time_series(latency, "ms", deploys, sel.start, sel.end))
    rate = [e / r if r else None for e, r in zip(series.errors, series.requests)]
    errors = pd.DataFrame({"time": times, "series": "error rate", "value": rate}).dropna()
    st.markdown("**Error rate**")
    show_chart(charts.time_series(errors, "errors / requests", deploys, sel.start, sel.end, percent=True))

st.subheader("Burn rate per window")
statuses = data.slo_statuses(url, model.name)
if not statuses:
    st.info("No SLO evaluated yet — the scheduler evaluates SLOs every cycle (`modelwatch up`)."
            if model.slos else f"{model.name} declares no SLOs — add them under `slos:` in the monitors YAML.")
else:
    rows = []
    for s in statuses:
        for rule in s.rules:
            rows.append({"SLO": s.slo, "rule": rule.get("name"), "severity": rule.get("severity"),
                         "threshold": fmt.burn(rule.get("threshold")), "long window": fmt.burn(rule.get("long_burn")),
                         "short window": fmt.burn(rule.get("short_burn")), "state": rule.get("state")})
    st.dataframe(pd.DataFrame(rows), hide_index=True)

st.subheader("Recent deploys")
recent = [d for d in deploys if d.at >= sel.end - timedelta(days=30)]
if not recent:
    st.info("No deploys recorded in the last 30 days — record one with `modelwatch deploy record` or "
            "POST /v1/deploys; a version is also recorded when its first traffic arrives.")
else:
    st.dataframe(pd.DataFrame([{"version": d.version, "deployed": fmt.when(d.at), "recorded by": d.source or "first traffic",
                                "sha256": (d.artifact_sha256 or "")[:12], "note": d.note or ""}
                               for d in recent[:10]]), hide_index=True, width="stretch")

st.subheader("Canary")
canary = data.canary_report(url, model.model_dump_json(), model.name, sel.end, model)
window = fmt.duration(model.canary.window.total_seconds())
if canary is None:
    st.info(f"No canary: fewer than two versions of {model.name} served in the {window} before the range's end. "
            "When a canary serves beside the stable version, they are compared here (docs/canary.md).")
else:
    verdict = canary["verdict"]
    announce = {"promote": st.success, "rollback": st.error, "keep_watching": st.warning}[verdict["decision"]]
    announce(f"**{HEADLINES[verdict['decision']]}** over the last {window}: {verdict['summary']}")
    st.markdown("\n".join(f"- {reason}" for reason in verdict["reasons"]))
    if verdict["notes"]:
        st.caption(" · ".join(verdict["notes"]))
