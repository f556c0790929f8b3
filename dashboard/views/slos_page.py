"""SLOs: each SLO's budget burndown over the range, its burn rate per alert window, and when
the budget runs out at the current burn."""

import pandas as pd
import streamlit as st

from config.durations import format_duration
from config.ownership import ownership_of
from dashboard import charts, data, fmt
from dashboard.context import page_context
from dashboard.widgets import ownership_caption, range_caption, show_chart

ctx = page_context()
sel = ctx.selection
model = ctx.model
url = ctx.database_url
st.title("SLOs")
range_caption(sel)

statuses = {s.slo: s for s in data.slo_statuses(url, model.name)}
history = data.slo_history(url, model.name, sel.start, sel.end)
if not model.slos:
    st.info(f"{model.name} declares no SLOs — add them under `slos:` in `{ctx.config_path}` "
            "(kinds: availability, latency, quality, label_freshness, drift_free).")
    st.stop()

focus = st.query_params.get("slo")
specs = sorted(model.slos, key=lambda s: s.name != focus)  # a linked SLO (alerts link here) comes first
points = [{"hour": p.hour, "slo": name, "budget": p.budget_remaining}
          for name, series in history.items() for p in series if p.budget_remaining is not None]
if points:
    st.markdown("**Error budget burndown** (hourly; below 0 the SLO is missed over its window)")
    show_chart(charts.burndown(pd.DataFrame(points), data.deploys(url, model.name, sel.start, sel.end)))
elif statuses:
    st.info("No burndown points in this range yet — one is kept per hour the scheduler evaluates the SLOs.")

for spec in specs:
    status = statuses.get(spec.name)
    st.subheader(f"{spec.name} · {spec.kind.value} · objective {fmt.pct(spec.objective, 3)} over "
                 f"{format_duration(spec.window)}")
    if spec.description:
        st.caption(spec.description)
    ownership_caption(ownership_of(model, spec))
    if status is None:
        st.info("Not evaluated yet — the scheduler evaluates SLOs every cycle (`modelwatch up`).")
        continue
    cols = st.columns(5)
    cols[0].metric("State", fmt.state(status.state))
    cols[1].metric("SLI", fmt.pct(status.sli, 3), help=f"{fmt.count(status.events_bad)} bad of "
                   f"{fmt.count(status.events_total)} events over the SLO window")
    cols[2].metric("Budget left", fmt.pct(status.budget_remaining, 1))
    cols[3].metric("Burn now", fmt.burn(status.current_burn), help="Over the shortest long alert window.")
    cols[4].metric("Budget runs out in", fmt.budget_end(status.budget_remaining, status.time_to_exhaustion_s))
    if status.state == "insufficient_labels":
        st.warning(f"Label coverage {fmt.pct(status.label_coverage, 1)} is below the minimum "
                   f"{fmt.pct(spec.min_label_coverage, 0)} — labels arrive via POST /v1/labels.")
    elif status.state in ("no_data", "low_traffic"):
        st.warning("Too few events to judge this SLO now — no data is not the same as meeting it.")
    rules = pd.DataFrame([{
        "rule": r.get("name"), "severity": r.get("severity"), "threshold": r.get("threshold"),
        "long window burn": r.get("long_burn"), "short window burn": r.get("short_burn"), "state": r.get("state"),
    } for r in status.rules])
    st.dataframe(rules, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="%.2fx") for c in ("threshold", "long window burn", "short window burn")})
    st.caption(f"Evaluated {fmt.when(status.evaluated_at)} over windows ending {fmt.when(status.window_end)}.")
