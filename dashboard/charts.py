"""Altair charts of the dashboard (pure: frames in, chart specs out). Times are UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import altair as alt
import pandas as pd

from store.dashboard_reads import Deploy

__all__ = ["alert_timeline", "burndown", "daily_bars", "time_series"]

HEIGHT = 220


def _deploy_frame(deploys: Sequence[Deploy], start: datetime, end: datetime) -> pd.DataFrame:
    """One row per deploy inside ``[start, end)``: time, label, how it was recorded, artifact, note."""
    shown = [d for d in deploys if start <= d.at < end]
    return pd.DataFrame({
        "time": [d.at for d in shown], "version": [f"deploy {d.version}" for d in shown],
        "source": [d.source or "first traffic" for d in shown],
        "artifact": [(d.artifact_sha256 or "")[:12] for d in shown], "note": [d.note or "" for d in shown],
    })


def _deploy_layer(deploys: Sequence[Deploy], start: datetime, end: datetime) -> list[alt.Chart]:
    """Vertical rules with the version name at each deploy inside the range (every chart over
    time carries them, so a change in a line can be read against what was rolled out)."""
    frame = _deploy_frame(deploys, start, end)
    if frame.empty:
        return []
    rule = alt.Chart(frame).mark_rule(color="#7f7f7f", strokeDash=[4, 3]).encode(
        x="time:T", tooltip=[alt.Tooltip("version:N"), alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"),
                             alt.Tooltip("source:N", title="recorded by"), alt.Tooltip("artifact:N", title="sha256"),
                             alt.Tooltip("note:N")])
    text = alt.Chart(frame).mark_text(align="left", dx=3, dy=-4, fontSize=11, color="#555").encode(
        x="time:T", y=alt.value(8), text="version:N")
    return [rule, text]


def time_series(frame: pd.DataFrame, value_title: str, deploys: Sequence[Deploy], start: datetime, end: datetime,
                percent: bool = False) -> alt.LayerChart:
    """Lines of ``frame`` (columns time, series, value) with deploy annotations."""
    axis = alt.Axis(format="%" if percent else ",.0f", title=value_title)
    lines = alt.Chart(frame).mark_line(point=len(frame) < 60).encode(
        x=alt.X("time:T", title=None, scale=alt.Scale(domain=[start.isoformat(), end.isoformat()])),
        y=alt.Y("value:Q", axis=axis),
        color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("time:T", format="%Y-%m-%d %H:%M"), "series:N",
                 alt.Tooltip("value:Q", format=".2%" if percent else ".1f")],
    )
    return alt.LayerChart(layer=[lines, *_deploy_layer(deploys, start, end)]).properties(height=HEIGHT)


def daily_bars(frame: pd.DataFrame, value: str, value_title: str, deploys: Sequence[Deploy], start: datetime,
               end: datetime) -> alt.LayerChart:
    """One bar per UTC day (columns day, day_end as ISO dates, ``value``) on a time axis, so the
    deploys inside ``[start, end)`` mark the days they happened on like every other chart."""
    bars = alt.Chart(frame).mark_bar(opacity=0.85).encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%b %d")), x2="day_end:T",
        y=alt.Y(f"{value}:Q", title=value_title),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d", title="UTC day"), alt.Tooltip(f"{value}:Q", format=",.2f")],
    )
    return alt.LayerChart(layer=[bars, *_deploy_layer(deploys, start, end)]).properties(height=160)


def burndown(frame: pd.DataFrame, deploys: Sequence[Deploy] = ()) -> alt.LayerChart:
    """Budget remaining per hour (columns hour, slo, budget) with the zero line, and the deploys
    within the hours shown."""
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#d62728").encode(y="y:Q")
    lines = alt.Chart(frame).mark_line(interpolate="step-after").encode(
        x=alt.X("hour:T", title=None), y=alt.Y("budget:Q", axis=alt.Axis(format="%", title="error budget left")),
        color=alt.Color("slo:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("hour:T", format="%Y-%m-%d %H:%M"), "slo:N", alt.Tooltip("budget:Q", format=".1%")])
    start = pd.Timestamp(frame["hour"].min()).to_pydatetime()
    end = pd.Timestamp(frame["hour"].max()).to_pydatetime() + timedelta(hours=1)
    # Deploys first: drawn under the budget lines.
    return alt.LayerChart(layer=[*_deploy_layer(deploys, start, end), zero, lines]).properties(height=HEIGHT)


def alert_timeline(frame: pd.DataFrame, start: datetime, end: datetime, deploys: Sequence[Deploy] = ()) -> alt.LayerChart:
    """Bars from when each alert became active to when it resolved (or now), by severity, with a
    mark where each began (an alert that fired this minute has no width yet), and the deploys."""
    base = alt.Chart(frame).encode(
        x=alt.X("from:T", title=None, scale=alt.Scale(domain=[start.isoformat(), end.isoformat()])),
        y=alt.Y("alert:N", title=None, axis=alt.Axis(labelLimit=260)),
        color=alt.Color("severity:N", legend=alt.Legend(orient="top")),
        tooltip=["alert:N", "state:N", alt.Tooltip("from:T", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("to:T", format="%Y-%m-%d %H:%M")])
    bars = base.mark_bar(height=12).encode(x2="to:T")
    starts = base.mark_point(shape="triangle-right", filled=True, size=80)
    layers = [bars, starts, *_deploy_layer(deploys, start, end)]
    return alt.LayerChart(layer=layers).properties(height=int(28 * frame["alert"].nunique() + 20))
