"""Overview: the fleet by risk, and the selected model's health in five numbers."""

import streamlit as st

from config.ownership import ownership_of
from dashboard import data, fmt
from dashboard import html_table as table
from dashboard.context import page_context
from dashboard.cost_panel import cost_panel
from dashboard.widgets import ownership_caption, range_caption, show_table

ctx = page_context()
sel = ctx.selection
model = ctx.model
st.title("Overview")
range_caption(sel, analysis_note=False)

fleet = data.fleet(ctx.database_url, tuple((m.name, m.team) for m in ctx.monitors.models), sel.start, sel.end)
st.subheader("Fleet, riskiest first")
show_table([{
    "model": r.model, "risk": r.risk, "availability": r.availability, "requests": r.requests,
    "budget left": r.budget_remaining, "worst SLO": r.worst_slo or "",
    "exhausts in": fmt.budget_end(r.budget_remaining, r.time_to_exhaustion_s) if r.budget_remaining is not None else "",
    "accuracy": r.accuracy.value if r.accuracy else None,
    "accuracy is": r.accuracy.kind if r.accuracy else "no data",
    "deploys/wk": r.deploys_per_week, "incidents": r.pages + r.tickets,
} for r in fleet], {
    "availability": table.percent(3), "requests": table.number(",d"), "budget left": table.bar(1),
    "accuracy": table.percent(1), "deploys/wk": table.number(".1f", help="deploys per week over the range"),
    "incidents": table.number("d", help="alerts firing now (pages and tickets)"),
})

mine = next(r for r in fleet if r.model == model.name)
st.subheader(f"{model.name}" + (f" — {model.description}" if model.description else ""))
ownership_caption(ownership_of(model))
cols = st.columns(5)
cols[0].metric("Availability", fmt.pct(mine.availability, 3),
               help="Requests without an error over the range, from the SDK's exact counters.")
if mine.accuracy is not None:
    a = mine.accuracy
    cols[1].metric(f"Accuracy ({a.kind})", fmt.pct(a.value, 1),
                   help=("Realized from labels" if a.kind == "realized" else
                         "Estimated without labels from calibrated scores (labels not in yet)")
                   + f" in the window ending {fmt.when(a.window_end)}; interval "
                   f"{fmt.pct(a.lower, 1)} – {fmt.pct(a.upper, 1)}, label coverage {fmt.pct(a.coverage, 0)}.")
else:
    cols[1].metric("Accuracy", fmt.MISSING, help="No analysed window with labels or scores in this range.")
cols[2].metric("Budget left (worst SLO)", fmt.pct(mine.budget_remaining, 1),
               help=f"SLO {mine.worst_slo}" if mine.worst_slo else "No SLO evaluated yet.")
cols[3].metric("Deploys / week", f"{mine.deploys_per_week:.1f}")
cols[4].metric("Open incidents", str(mine.pages + mine.tickets),
               help=f"{mine.pages} paging, {mine.tickets} ticket alert(s) firing")
if mine.requests == 0:
    st.info(f"No requests counted for {model.name} in this range — the SDK sends counters with every batch "
            "(`modelwatch.init(...)` in the serving code, POST /v1/counters).")
if mine.accuracy is None and model.task.value != "regression":
    st.info("No accuracy yet for this range — the scheduler estimates it from scores each window, and "
            "realizes it as labels arrive via POST /v1/labels.")

cost_panel(ctx.database_url, model, sel)  # nothing when the model declares no costs

st.markdown("**Error budget remaining per SLO** (over each SLO's own window)")
statuses = data.slo_statuses(ctx.database_url, model.name)
if not model.slos:
    st.info(f"{model.name} declares no SLOs — add them under `slos:` in `{ctx.config_path}`.")
elif not statuses:
    st.info("No SLO evaluated yet — the scheduler evaluates SLOs every cycle (`modelwatch up` or "
            "`modelwatch scheduler`).")
else:
    show_table([{
        "SLO": s.slo, "kind": s.kind, "objective": s.objective, "state": s.state, "SLI": s.sli,
        "budget left": s.budget_remaining, "burn now": fmt.burn(s.current_burn),
        "exhausts in": fmt.budget_end(s.budget_remaining, s.time_to_exhaustion_s), "evaluated": fmt.when(s.evaluated_at),
    } for s in statuses], {"objective": table.percent(2), "SLI": table.percent(3), "budget left": table.bar(1)})
