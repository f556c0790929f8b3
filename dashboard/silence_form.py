"""Silences on the Alerts page: the list, and create / expire -- the dashboard's only writes,
allowed only with an admin token typed into the page (checked against the store on every
write, never kept in the URL), and audited under the token's name like the API's."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import streamlit as st

from dashboard import fmt
from dashboard.context import engine_for

__all__ = ["render_silences"]

DURATIONS = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "12h": timedelta(hours=12),
             "1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}


def _admin(url: str, token: str) -> str | None:
    """The actor name for the audit log when ``token`` is a live admin token, else None
    (and the reason is shown)."""
    from store.tokens import verify_token

    if not token:
        st.error("Enter an admin token to change silences (create one with `modelwatch token create --scope admin`).")
        return None
    info = verify_token(engine_for(url), token.strip())
    if info is None:
        st.error("That token is unknown or revoked.")
        return None
    if not info.allows("admin"):
        st.error(f"Token {info.prefix}… has scopes {', '.join(sorted(info.scopes))}; changing silences needs admin.")
        return None
    return f"dashboard:{info.name}"


def _list(url: str, now: datetime, include_ended: bool) -> list:
    from alerts.silence_service import list_silences

    return list_silences(engine_for(url), now, include_expired=include_ended)


def render_silences(url: str, model: str) -> None:
    """List silences; create and expire them with an admin token."""
    from alerts.silence_service import create_silence, expire_silence

    now = datetime.now(timezone.utc)
    include_ended = st.toggle("Show ended silences", key="mw_silences_ended")
    views = _list(url, now, include_ended)
    if not views:
        st.info("No active or pending silence.")
    else:
        st.dataframe(pd.DataFrame([{
            "id": v.silence.id, "state": v.state.value, "matchers": ", ".join(str(m) for m in v.silence.matchers),
            "starts": fmt.when(v.silence.starts_at), "ends": fmt.when(v.silence.ends_at),
            "author": v.silence.created_by, "comment": v.silence.comment} for v in views]),
            hide_index=True, width="stretch")
    token = st.text_input("Admin token", type="password", key="mw_admin_token",
                          help="Needed to create or expire silences; checked against the store, never stored here.")
    with st.form("mw_new_silence", clear_on_submit=False):
        st.markdown("**New silence**")
        matchers = st.text_input("Matchers (comma separated)", value=f'model="{model}"')
        duration = st.selectbox("For", list(DURATIONS), index=1)
        author = st.text_input("Author")
        comment = st.text_input("Comment", placeholder="why, and the ticket")
        if st.form_submit_button("Create silence"):
            actor = _admin(url, token)
            if actor is not None:
                try:
                    silence = create_silence(engine_for(url), [m.strip() for m in matchers.split(",") if m.strip()],
                                             author or actor, comment or "silenced from the dashboard", now,
                                             duration=DURATIONS[duration], actor=actor)
                except ValueError as error:
                    st.error(f"Silence not created: {error}")
                else:
                    st.success(f"Silence {silence.id} created, until {fmt.when(silence.ends_at)}.")
    live = [v for v in _list(url, now, False)]
    if live:
        with st.form("mw_expire_silence"):
            chosen = st.selectbox("Expire silence", [v.silence.id for v in live],
                                  format_func=lambda i: next(f"{i[:8]} · {', '.join(map(str, v.silence.matchers))}"
                                                             for v in live if v.silence.id == i))
            if st.form_submit_button("Expire now"):
                actor = _admin(url, token)
                if actor is not None:
                    if expire_silence(engine_for(url), chosen, datetime.now(timezone.utc), actor=actor):
                        st.success(f"Silence {chosen} expired.")
                    else:
                        st.warning(f"Silence {chosen} had already ended.")
