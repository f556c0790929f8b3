"""The cost panel of the overview page: cost per 1,000 predictions, daily spend and a small daily
spend chart for the selected model. Nothing at all when the model declares no ``costs:``.

Figures follow docs/cost.md: whole UTC hours, exact request counters, the model's cost models.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from analysis.cost import DAY, day_start, money
from config.monitors import Model
from dashboard import charts, data, fmt
from dashboard.state import Selection
from dashboard.widgets import show_chart
from store.types import utc_now

__all__ = ["CHART_DAYS", "cost_panel"]

CHART_DAYS = 14  # the daily spend chart: the UTC days up to the end of the range


def cost_panel(url: str, model: Model, selection: Selection) -> None:
    """Render the panel (returns without a trace when ``model`` has no cost model)."""
    if not model.costs:
        return
    now = utc_now().replace(second=0, microsecond=0)  # one minute's reruns share the cache
    key = json.dumps([c.model_dump(mode="json") for c in model.costs], sort_keys=True)
    currency = model.costs[0].currency
    ranged = data.cost_report(url, model.name, key, selection.start, selection.end, now, model)
    midnight = day_start(selection.end)
    last_day_end = midnight if midnight == selection.end else midnight + DAY  # the range's last day, whole
    recent = data.cost_report(url, model.name, key, last_day_end - CHART_DAYS * DAY, selection.end, now, model)
    full = [d for d in recent.days if d.complete]
    s = ranged.summary
    st.markdown("**Cost** (from the exact request counters and the cost models in the monitors config)")
    cols = st.columns(4)
    cols[0].metric("Cost / 1,000 predictions",
                   money(s.per_1k_predictions, currency) if s.per_1k_predictions is not None else fmt.MISSING,
                   help=f"Cost / requests x 1000 over {fmt.when(s.start)} → {fmt.when(s.end)} (whole UTC hours); "
                   f"{s.requests:,} priced requests" + (f", {s.unpriced_requests:,} of versions without a cost model"
                                                          if s.unpriced_requests else "") + ".")
    cols[1].metric("Spend in range", money(s.cost, currency),
                   help=f"Fleet {money(s.fleet_cost, currency)} (per_hour x hours with traffic) + requests "
                   f"{money(s.request_cost, currency)} (per_request x requests).")
    cols[2].metric("Spend last full day", money(full[-1].cost, currency) if full else fmt.MISSING,
                   help=f"UTC day {full[-1].day.isoformat()}" if full else "No complete UTC day before the range end.")
    today = ranged.today
    cols[3].metric("Spend today (projected)", money(today.projected, currency),
                   help=f"UTC day {today.day.isoformat()}: {money(today.spent, currency)} so far; the rest at the "
                   "recent request rate with the fleets still serving kept running.")
    frame = pd.DataFrame({"day": [d.day.isoformat() for d in recent.days],
                          "day_end": [(d.day + DAY).isoformat() for d in recent.days],
                          "spend": [d.cost for d in recent.days]})
    st.caption(f"Spend per UTC day ({currency}), the last {CHART_DAYS} days of the range; the last bar may be a "
               "day still running; dashed lines: deploys.")
    chart_start = last_day_end - CHART_DAYS * DAY
    deploys = data.deploys(url, model.name, chart_start, selection.end)
    show_chart(charts.daily_bars(frame, "spend", currency, deploys, chart_start, selection.end))
