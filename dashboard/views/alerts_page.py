"""Alerts: when each alert was active, its state now, every notification's delivery per
receiver with its attempts, retrain triggers sent and held back, and silences."""

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from config.ownership import alert_ownership
from dashboard import charts, data, fmt
from dashboard.context import page_context
from dashboard.silence_form import render_silences
from dashboard.widgets import OWNERSHIP_COLUMNS, ownership_cells, range_caption, show_chart

ctx = page_context()
sel = ctx.selection
model = ctx.model
url = ctx.database_url
st.title("Alerts")
range_caption(sel)
now = datetime.now(timezone.utc)

rows = data.alerts(url, model.name)
focus = st.query_params.get("alert")
st.subheader("Timeline")
shown = [a for a in rows if (a.active_since or a.fired_at) and (a.resolved_at is None or a.resolved_at >= sel.start)]
if not shown:
    st.info(f"No alert for {model.name} in this range.")
else:
    show_chart(charts.alert_timeline(pd.DataFrame([{
        "alert": f"{a.alertname} {a.labels.get('slo') or a.labels.get('feature', '')} ({a.severity})",
        "severity": a.severity, "state": a.state, "from": max(a.active_since or a.fired_at or sel.start, sel.start),
        "to": min(a.resolved_at or now, sel.end)} for a in shown]), sel.start, sel.end,
        data.deploys(url, model.name, sel.start, sel.end)))

st.subheader("State")
if rows:
    table = pd.DataFrame([{
        "alert": a.alertname, "severity": a.severity, "state": a.state,
        "on": a.labels.get("slo") or a.labels.get("feature", ""), "active since": fmt.when(a.active_since),
        "fired": fmt.when(a.fired_at), "resolved": fmt.when(a.resolved_at),
        "muted": "silenced" if a.silenced else ("inhibited" if a.inhibited else ""),
        "summary": a.annotations.get("summary", ""),
        **ownership_cells(alert_ownership(ctx.monitors, a.labels, a.annotations)), "fingerprint": a.fingerprint,
    } for a in rows])
    if focus in set(table["fingerprint"]):  # linked from a page or a notification: that alert first
        table = pd.concat([table[table["fingerprint"] == focus], table[table["fingerprint"] != focus]])
    st.dataframe(table, hide_index=True, width="stretch", column_config=OWNERSHIP_COLUMNS)
else:
    st.success(f"{model.name} has no alert on record.")

st.subheader("Delivery log")
log = data.delivery_log(url, sel.start, sel.end, model.name)
if not log:
    st.info("No notification sent or queued in this range. Notifications go out when an alert fires or "
            "resolves, to the receivers its route names (`routes:` / `receivers:` in the monitors YAML).")
else:
    receivers = sorted({d.receiver for d in log})
    for tab, receiver in zip(st.tabs(receivers), receivers):
        mine = [d for d in log if d.receiver == receiver]
        sent = sum(d.status == "sent" for d in mine)
        tab.caption(f"{len(mine)} notification(s): {sent} sent, {sum(d.status == 'pending' for d in mine)} "
                    f"pending, {sum(d.status == 'failed' for d in mine)} failed")
        tab.dataframe(pd.DataFrame([{
            "created": fmt.when(d.created_at), "kind": d.kind, "status": d.status, "attempts": d.attempts,
            "title": d.title, "sent": fmt.when(d.sent_at), "last response": d.last_status,
            "last error": d.last_error or "", "id": d.id} for d in mine]), hide_index=True, width="stretch")
        attempts = data.delivery_attempts(url, tuple(d.id for d in mine))
        if attempts:
            with tab.expander(f"Every attempt ({len(attempts)})"):
                st.dataframe(pd.DataFrame([{
                    "notification": a.notification, "attempt": a.attempt, "at": fmt.when(a.at), "ok": a.ok,
                    "response": a.status, "error": a.error or "", "ms": round(a.duration_ms, 1)} for a in attempts]),
                    hide_index=True, width="stretch")

st.subheader("Retrain triggers")
triggers = data.retrain_triggers(url, model.name, sel.start, sel.end)
if not triggers:
    st.info(f"No retrain trigger for {model.name} in this range. A route to a `type: retrain` receiver calls a "
            "retrain webhook for sustained alerts, at most once per cooldown and `max_per_day` in 24 h "
            "(docs/retrain.md).")
else:
    n_sent = sum(t.status == "sent" for t in triggers)
    st.caption(f"{n_sent} retrain webhook(s) called, {len(triggers) - n_sent} held back (cooldown or daily cap; "
               "one row per alert group and window)")
    st.dataframe(pd.DataFrame([{
        "time": fmt.when(t.time), "status": t.status, "receiver": t.receiver,
        "alerts": "; ".join(fmt.trigger_alert(a) for a in t.details.get("alerts", [])),
        "version": t.details.get("version") or "", "24 h count": t.details.get("sent_in_last_24h"),
        "next allowed": fmt.when(datetime.fromisoformat(t.details["next_allowed_at"]))
        if t.details.get("next_allowed_at") else "",
        "delivery": t.delivery or "", "id": t.id,
    } for t in triggers]), hide_index=True, width="stretch")

st.subheader("Silences")
render_silences(url, model.name)
