"""What a page needs, built by the app shell on each run: the store URL, the monitors config and
the selection. Engines and the parsed config are Streamlit resources, made on first use and
shared by every session of the server (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import streamlit as st
from sqlalchemy.engine import Engine

from config.monitors import Model, Monitors
from dashboard.state import Selection

__all__ = ["PageContext", "engine_for", "monitors_for", "page_context", "set_page_context"]

_KEY = "_modelwatch_context"


@st.cache_resource(show_spinner=False)
def engine_for(database_url: str) -> Engine:
    """One engine (one pool) per database URL for the whole server."""
    from store.engine import create_engine

    return create_engine(database_url)


@st.cache_resource(show_spinner=False, max_entries=8)
def _monitors(path: str, mtime_ns: int) -> Monitors:
    from config.loader import load_monitors

    return load_monitors(path)


def monitors_for(path: str) -> Monitors:
    """The monitors file, parsed again only when it changes on disk. Raises ConfigError / OSError."""
    return _monitors(path, os.stat(path).st_mtime_ns)


@dataclass(frozen=True)
class PageContext:
    database_url: str
    config_path: str
    monitors: Monitors
    selection: Selection

    @property
    def model(self) -> Model:
        """The selected model (the shell runs a page only when one is selected)."""
        found = self.monitors.model(self.selection.model) if self.selection.model is not None else None
        if found is None:
            raise LookupError(f"model {self.selection.model!r} is not in the monitors config")
        return found


def set_page_context(context: PageContext) -> None:
    st.session_state[_KEY] = context


def page_context() -> PageContext:
    """The context the shell made for this run; stops the page with a message when a page
    script is run on its own instead of through dashboard/app.py."""
    context = st.session_state.get(_KEY)
    if context is None:
        st.error("Open the dashboard through its entry point: `modelwatch dashboard` (dashboard/app.py).")
        st.stop()
    return context
