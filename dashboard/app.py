"""Entry point of the dashboard: ``streamlit run dashboard/app.py`` (``modelwatch dashboard``
runs it, passing its settings through MODELWATCH_* environment variables)."""

from dashboard.shell import run_app

run_app()
