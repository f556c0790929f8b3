"""Small pieces every page uses: the range caption and choices kept in the URL query."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import altair as alt
import streamlit as st

from config.ownership import Ownership
from dashboard import fmt
from dashboard.html_table import Column, html_table
from dashboard.state import Selection

__all__ = ["OWNERSHIP_COLUMNS", "ownership_caption", "ownership_cells", "ownership_markdown", "page_link_url",
           "range_caption", "show_chart", "show_table", "url_choice"]

# column_config for tables whose rows carry ownership_cells()
OWNERSHIP_COLUMNS = {"runbook": st.column_config.LinkColumn(display_text="runbook")}


def range_caption(selection: Selection, analysis_note: bool = True) -> None:
    """'fraud · all versions · 2025-03-01 10:00 UTC → 2025-03-02 10:00 UTC' and what the version covers."""
    version = "all versions" if selection.version_filter is None else f"version {selection.version}"
    note = ""
    if analysis_note and selection.version_filter is not None:
        note = " · analysis results and SLOs cover every version of the model"
    st.caption(f"{selection.model} · {version} · {fmt.when(selection.start)} → {fmt.when(selection.end)}{note}")


def url_choice(label: str, options: Sequence[str], param: str, default: str | None = None,
               format_func: Callable[[str], str] = str) -> str | None:
    """A selectbox whose choice lives in the URL query under ``param`` (shareable links)."""
    if not options:
        return None
    wanted = st.query_params.get(param)
    initial = wanted if wanted in options else (default if default in options else options[0])
    key = f"mw_choice_{param}"
    if st.session_state.get(key) not in options:
        st.session_state[key] = initial
    choice = st.selectbox(label, list(options), key=key, format_func=format_func)
    if st.query_params.get(param) != choice:
        st.query_params[param] = choice
    return choice


def page_link_url(page: str, selection: Selection, **extra: str) -> str:
    """A relative link to ``page`` (its url path) with the selection and ``extra`` in its query."""
    from urllib.parse import urlencode

    return f"./{page}?{urlencode({**selection.query(), **extra})}"


def show_chart(chart: alt.Chart | alt.LayerChart) -> None:
    """A chart across the page at the height its spec asks for (Streamlit's "content" height
    squeezed layered charts to about half of it)."""
    height = getattr(chart, "height", alt.Undefined)
    st.altair_chart(chart, width="stretch", height=int(height) + 60 if isinstance(height, int) else "content")


def show_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, Column] | None = None,
               where: Any = st) -> None:
    """A small table as HTML (dashboard.html_table: much lighter in the browser than a grid);
    ``where`` is st or a column/container."""
    where.html(html_table(rows, columns))


def ownership_markdown(ownership: Ownership) -> str:
    """'Owner: **alice** · Team: **payments-ml** · [Runbook](https://...)', the parts declared."""
    parts = [f"{title}: **{value}**" for title, value in (("Owner", ownership.owner), ("Team", ownership.team)) if value]
    if ownership.runbook_url:
        # Parentheses would end the markdown link early; percent-encoded they open the same page.
        parts.append(f"[Runbook]({ownership.runbook_url.replace('(', '%28').replace(')', '%29')})")
    return " · ".join(parts)


def ownership_caption(ownership: Ownership, where: Any = st, missing: str | None = None) -> None:
    """Who owns a model or SLO and its runbook, as a caption under its header (``where``: st,
    st.sidebar or a column); ``missing`` is said instead when the config declares none."""
    if ownership.declared:
        where.caption(ownership_markdown(ownership))
    elif missing:
        where.caption(missing)


def ownership_cells(ownership: Ownership) -> dict[str, str | None]:
    """``owner`` and ``runbook`` cells of a table row (show with ``OWNERSHIP_COLUMNS``)."""
    owner = " · ".join(v for v in (ownership.owner, ownership.team) if v)
    return {"owner": owner, "runbook": ownership.runbook_url}
