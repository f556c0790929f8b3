"""The sidebar every page shares: page links that carry the selection, and the model, version
and time-range controls, kept in step with the URL query (st.query_params)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard.state import ALL_VERSIONS, CUSTOM, DEFAULT_RANGE, RANGES, SELECTION_KEYS, Selection, parse_selection

__all__ = ["render_links", "selection_controls"]

_MODEL, _VERSION, _RANGE, _FROM, _TO = "mw_model", "mw_version", "mw_range", "mw_from", "mw_to"


def _seed_state(selection: Selection) -> tuple[str, ...]:
    """Widgets start from the URL the session opened with; after that they own the value.
    Returns the link's problems on that first run (afterwards the widgets hold valid values)."""
    first = _MODEL not in st.session_state
    defaults = {_MODEL: selection.model, _VERSION: selection.version, _RANGE: selection.range,
                _FROM: selection.start.strftime("%Y-%m-%d %H:%M") if selection.range == CUSTOM else "",
                _TO: selection.end.strftime("%Y-%m-%d %H:%M") if selection.range == CUSTOM else ""}
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    return selection.problems if first else ()


def selection_controls(models: Sequence[str], versions_of: Callable[[str], Sequence[str]]) -> Selection:
    """Render the controls; returns the selection they show and writes it to the URL."""
    now = datetime.now(timezone.utc)
    params = st.query_params.to_dict()
    problems = _seed_state(parse_selection(params, models, now))
    if not models:
        return parse_selection({}, models, now)
    if st.session_state[_MODEL] not in models:
        st.session_state[_MODEL] = models[0]
    model = st.sidebar.selectbox("Model", list(models), key=_MODEL)
    try:
        versions = [ALL_VERSIONS, *versions_of(model)]
    except SQLAlchemyError:
        versions = [ALL_VERSIONS]  # the page explains the database problem; the link's problems show first
    if st.session_state[_VERSION] not in versions:
        st.session_state[_VERSION] = ALL_VERSIONS
    st.sidebar.selectbox("Version", versions, key=_VERSION,
                         help="Traffic, latency and failures follow the version; analysis and SLOs cover the model.")
    ranges = [*RANGES, CUSTOM]
    if st.session_state[_RANGE] not in ranges:
        st.session_state[_RANGE] = DEFAULT_RANGE
    chosen = st.sidebar.selectbox("Time range", ranges, key=_RANGE, format_func=lambda r: f"last {r}" if r in RANGES else r)
    raw: dict[str, str] = {"model": model, "version": st.session_state[_VERSION]}
    if chosen == CUSTOM:
        raw["from"] = st.sidebar.text_input("From (UTC)", key=_FROM, placeholder="2025-03-01 00:00")
        raw["to"] = st.sidebar.text_input("To (UTC)", key=_TO, placeholder="now")
    else:
        raw["range"] = chosen
    selection = parse_selection(raw, models, now, versions[1:])
    _write_query(selection)
    return replace(selection, problems=problems + selection.problems)


def _write_query(selection: Selection) -> None:
    """Selection keys as the selection says, page keys (feature, slo, ...) kept."""
    wanted = selection.query()
    current = st.query_params.to_dict()
    if {k: v for k, v in current.items() if k in SELECTION_KEYS} == wanted:
        return
    st.query_params.from_dict({**{k: v for k, v in current.items() if k not in SELECTION_KEYS}, **wanted})


def render_links(pages: Sequence[tuple[st.Page, str]], selection: Selection) -> None:
    """Links to every page with the selection in their query, so it follows the reader."""
    for page, icon in pages:
        st.sidebar.page_link(page, label=page.title, icon=icon, query_params=selection.query())
