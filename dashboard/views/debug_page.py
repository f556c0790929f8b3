"""Debug: which features drifted and how, reference vs current for one feature, data-quality
findings, accuracy per slice with intervals and the worst slices, and failed requests' inputs."""

import streamlit as st

from analysis.jobs.schedule import model_analysis
from config.monitors import FeatureType, Task
from dashboard import data, fmt
from dashboard import html_table as table
from dashboard.context import page_context
from dashboard.histogram import Overlay
from dashboard.html_bars import histogram_html
from dashboard.widgets import range_caption, show_table, url_choice

ctx = page_context()
sel = ctx.selection
model = ctx.model
url = ctx.database_url
st.title("Debug")
range_caption(sel)

st.subheader("Drift per feature")
drift = data.drift_table(url, model.name, sel.start, sel.end)
if not drift.features:
    st.info("No drift results in this range — the scheduler analyses each closed window (`modelwatch up`, or "
            "`modelwatch analyze` to backfill); drift needs a reference dataset (POST /v1/references).")
else:
    st.caption(f"Latest window {fmt.when(drift.window_start)} → {fmt.when(drift.window_end)}; "
               f"history over {drift.windows} window(s) in the range.")
    ordered = sorted(drift.features, key=lambda f: (f.status != "drift", -(f.value or 0.0), f.feature))
    show_table([{
        "feature": f.feature, "statistic": f.method, "value": f.value, "threshold": f.threshold,
        "decision": f.status, "p (adjusted)": f.p_adjusted, "n": f.n,
        "windows drifted": f"{f.windows_drifted}/{drift.windows}", "effect size over time": f.history,
    } for f in ordered], {
        "value": table.number(".3f"), "threshold": table.number(".3f"), "p (adjusted)": table.number(".2g"),
        "n": table.number(",d"), "effect size over time": table.sparkline("effect size"),
    })

features = [f for f in model.features if f.type is not FeatureType.text]
default = next((f.feature for f in sorted(drift.features, key=lambda f: -(f.value or 0.0))), None)
feature = url_choice("Feature", [f.name for f in features], "feature", default)
chosen = model.feature(feature) if feature is not None else None
if feature is not None and chosen is not None:
    stats = next((f.statistics for f in drift.features if f.feature == feature), ())
    if stats:
        # filled only while open (a rerun on toggle): nothing to draw for it on the first paint
        details = st.expander(f"Every statistic for {feature} (latest window)", key="mw_statistics",
                              on_change="rerun")
        if details.open:
            show_table([{"statistic": s.metric, "value": s.value, "threshold": s.threshold, "decision": s.status,
                         "p": s.p_value} for s in stats],
                       {"value": table.number(".4g"), "threshold": table.number(".4g"), "p": table.number(".2g")},
                       where=details)
    # the current side is the latest analysed window, the same rows the drift decision judged
    start, end = sel.start, sel.end
    if drift.window_start is not None and drift.window_end is not None:
        start, end = drift.window_start, drift.window_end
    found = data.feature_overlay(url, model.name, feature, chosen.type is FeatureType.numeric,
                                 model_analysis(model).schedule.reference, start, end)
    if isinstance(found, Overlay):
        st.markdown(f"**{feature}: reference vs current** ({fmt.when(start)} → {fmt.when(end)})")
        st.html(histogram_html(found))
    else:
        st.info(found)

st.subheader("Data quality")
findings = data.quality_findings(url, model.name, sel.start, sel.end)
if not findings:
    if drift.windows:
        st.success("No data-quality violation in this range.")
    else:
        st.info("No data-quality results in this range — they are computed with drift, per analysed window.")
else:
    show_table([{
        "check": q.check, "feature": q.feature, "slice": q.slice or "(all)", "value": q.value,
        "threshold": q.threshold, "n": q.n, "windows": q.windows, "last seen": fmt.when(q.last_window_end),
    } for q in findings], {"value": table.number(".4g"), "threshold": table.number(".4g"), "n": table.number(",d"),
                           "windows": table.number("d")})

metric = "mae" if model.task is Task.regression else "accuracy"
st.subheader(f"{metric.upper() if metric == 'mae' else 'Accuracy'} per slice")
perf = data.slice_performance(url, model.name, sel.start, sel.end, metric)
if perf is None:
    st.info("No labels yet for this window — labels arrive via POST /v1/labels (or `modelwatch.log_label`), "
            "joined to predictions by id; the scheduler re-runs windows as they arrive.")
else:
    o = perf.overall
    st.caption(f"Window {fmt.when(perf.window_start)} → {fmt.when(perf.window_end)}: {metric} {o.value:.3f} "
               f"[{fmt.MISSING if o.lower is None else f'{o.lower:.3f}'}, "
               f"{fmt.MISSING if o.upper is None else f'{o.upper:.3f}'}] on {o.n:,} labelled predictions; label "
               f"coverage {fmt.pct(perf.coverage.value if perf.coverage else None, 1)}.")
    if perf.slices:
        show_table([{"slice": f"{k}={v}", metric: m.value, "lower": m.lower, "upper": m.upper, "n": m.n,
                     "interval": (m.lower, m.value, m.upper)} for k, v, m in perf.slices], {
            **{c: table.number(".3f") for c in (metric, "lower", "upper")}, "n": table.number(",d"),
            "interval": table.interval(help=f"{metric} with its interval; every row on the same scale")})
    if perf.worst:
        st.markdown("**Worst slices** (significantly worse than the rest of the traffic)")
        loss = perf.worst[0].loss or "loss"  # one window's worst slices share its task's loss
        show_table([{
            "slice": f"{w.slice_key}={w.slice_value}", loss: w.slice_loss, "rest": w.rest_loss,
            "excess": w.excess, "n": w.n, "p (adjusted)": w.p_adjusted} for w in perf.worst],
            {loss: table.number(".4g"), "rest": table.number(".4g"), "excess": table.number(".4g"),
             "n": table.number(",d"), "p (adjusted)": table.number(".2g")})

st.subheader("Recent failures")
failures = data.recent_failures(url, model.name, sel.start, sel.end, sel.version_filter)
if not failures:
    st.success("No failed request among the sampled predictions in this range.")
else:
    st.caption("Sampled inputs as stored: PII was redacted by the SDK and the collector before storage.")
    show_table([{"time": fmt.when(f.time), "version": f.version, "prediction id": f.prediction_id,
                 "error": f.error, "latency": fmt.ms(f.latency_ms), **{k: fmt.value(v) for k, v in f.features.items()}}
                for f in failures])
