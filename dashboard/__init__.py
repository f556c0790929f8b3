"""Streamlit dashboards (issue 6)."""
