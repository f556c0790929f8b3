"""The app shell: settings, config, navigation, sidebar, then the chosen page -- with every
failure to reach the config or the database explained in a sentence, never a stack trace."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from config.monitors import Monitors
from config.ownership import ownership_of
from dashboard.context import PageContext, monitors_for, set_page_context
from dashboard.sidebar import render_links, selection_controls
from dashboard.widgets import ownership_caption

__all__ = ["PAGES", "run_app"]

VIEWS = Path(__file__).resolve().parent / "views"
# (file in views/, title, url path, icon)
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("overview_page.py", "Overview", "overview", ":material/dashboard:"),
    ("oncall_page.py", "On-call", "oncall", ":material/notifications_active:"),
    ("debug_page.py", "Debug", "debug", ":material/troubleshoot:"),
    ("slos_page.py", "SLOs", "slos", ":material/speed:"),
    ("shadow_page.py", "Shadow", "shadow", ":material/compare_arrows:"),
    ("alerts_page.py", "Alerts", "alerts", ":material/campaign:"),
)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 -- a malformed URL is shown as "the configured database"
        return "the configured database"


def _explain_database_error(url: str, error: SQLAlchemyError) -> None:
    text = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error) else type(error).__name__
    if "no such table" in text or "does not exist" in text:
        st.warning(f"The database at `{_safe_url(url)}` has no modelwatch tables yet. Create them with "
                   f"`modelwatch db upgrade --db <url>`, or start the service with `modelwatch up`.")
    else:
        st.error(f"The database at `{_safe_url(url)}` cannot be read: {text}. Check that it is running and "
                 "that `--db` / MODELWATCH_DATABASE_URL points at it; this page retries on the next refresh.")


def _model_ownership(monitors: Monitors, name: str | None) -> None:
    """Owner, team and runbook of the selected model, under the controls on every page."""
    model = monitors.model(name) if name else None
    if model is not None:
        ownership_caption(ownership_of(model), st.sidebar,
                          missing="No owner or runbook declared: add `owner:` and `runbook_url:` to the model.")


def run_app() -> None:
    """One run of the dashboard for one browser session."""
    from config.settings import Settings
    from dashboard import data

    st.set_page_config(page_title="modelwatch", page_icon=":material/monitoring:", layout="wide")
    settings = Settings()
    try:
        monitors = monitors_for(str(settings.config))
    except Exception as error:  # noqa: BLE001 -- ConfigError / OSError / YAML: told, not raised
        st.error(f"Cannot load the monitors config `{settings.config}`: {error}. "
                 f"Check it with `modelwatch check {settings.config}`.")
        st.stop()
    pages = [st.Page(VIEWS / file, title=title, url_path=path, icon=icon, default=i == 0)
             for i, (file, title, path, icon) in enumerate(PAGES)]
    current = st.navigation(pages, position="hidden")
    st.sidebar.markdown("### modelwatch")
    url = settings.database_url
    try:
        selection = selection_controls([m.name for m in monitors.models], lambda model: data.versions(url, model))
        _model_ownership(monitors, selection.model)
        render_links([(p, icon) for p, (_, _, _, icon) in zip(pages, PAGES)], selection)
        for problem in selection.problems:
            st.warning(problem)
        if selection.model is None:
            st.info(f"No model is declared in `{settings.config}`. Add one under `models:` "
                    "(see examples/monitors.yaml) and reload.")
            st.stop()
        set_page_context(PageContext(url, str(settings.config), monitors, selection))
        current.run()
    except SQLAlchemyError as error:
        _explain_database_error(url, error)
