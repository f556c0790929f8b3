"""Page scripts of the dashboard: run by Streamlit (st.Page), never imported."""
