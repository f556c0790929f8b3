"""Shadow: each candidate against production on the same replayed inputs -- agreement, score
deltas, latency, errors, paired accuracy once labels arrive, would-be SLO burn, and the verdict."""

import pandas as pd
import streamlit as st

from dashboard import data, fmt
from dashboard.context import page_context
from dashboard.widgets import range_caption, url_choice

ctx = page_context()
sel = ctx.selection
model = ctx.model
st.title("Shadow")
range_caption(sel)

report = data.shadow_report(ctx.database_url, model.model_dump_json(), model.name, sel.start, sel.end, model)
candidates = report["candidates"]
if not candidates:
    st.info(f"No candidate is shadowing {model.name} — register an ONNX model with "
            f"`modelwatch shadow add {model.name} NAME model.onnx`; the shadow runner (`modelwatch up`) replays "
            "sampled live traffic through it.")
    st.stop()

name = url_choice("Candidate", [c["name"] for c in candidates], "candidate")
cand = next(c for c in candidates if c["name"] == name)
comparison, verdict = cand["comparison"], cand["verdict"]
show = {"promote": st.success, "hold": st.warning, "reject": st.error}[verdict["decision"]]
show(f"**Verdict: {verdict['decision']}** — {verdict['summary']}")
for reason in verdict["reasons"]:
    st.markdown(f"- {reason}")

if comparison["n"] == 0:
    st.info(f"{name} has replayed no prediction in this range yet — the shadow runner replays new traffic "
            "continuously; `modelwatch shadow backtest` replays a past range.")
    st.stop()

agreement = comparison["agreement"]
latency = comparison["latency_ms"]
errors = comparison["errors"]
accuracy = comparison.get("accuracy")
abs_error = comparison.get("abs_error")
cols = st.columns(4)
cols[0].metric("Agreement", fmt.pct(agreement.get("agreement"), 2), help=f"on {agreement.get('n', 0):,} predictions")
if accuracy:
    cols[1].metric("Paired accuracy Δ", f"{100 * accuracy['difference']:+.2f} pp",
                   help=f"candidate {fmt.pct(accuracy['candidate'], 2)} vs production {fmt.pct(accuracy['production'], 2)} "
                        f"on {accuracy['n']:,} labelled rows; {100 * accuracy['confidence']:.0f} % interval "
                        f"[{100 * accuracy['lower']:+.2f}, {100 * accuracy['upper']:+.2f}] pp; McNemar p = "
                        f"{accuracy['test']['p_value']:.3g}")
elif abs_error:
    cols[1].metric("Paired MAE Δ", f"{abs_error['difference']:+.4g}",
                   help=f"candidate {abs_error['candidate_mae']:.4g} vs production {abs_error['production_mae']:.4g}")
else:
    cols[1].metric("Paired accuracy Δ", fmt.MISSING,
                   help="No labels yet for the replayed rows — labels arrive via POST /v1/labels.")
cols[2].metric("Latency p95 (candidate)", fmt.ms(latency["candidate"].get("p95")),
               help=f"production as logged: {fmt.ms(latency['production'].get('p95'))}")
cols[3].metric("Error rate (candidate)", fmt.pct(errors["candidate"].get("rate"), 2),
               help=f"production: {fmt.pct(errors['production'].get('rate'), 2)}")

st.markdown("**Latency (ms)**")
st.dataframe(pd.DataFrame([{"model": side, **{k: latency[side].get(k) for k in ("n", "mean", "p50", "p95", "p99")}}
                           for side in ("production", "candidate")]), hide_index=True, width="stretch")
delta = comparison["score_delta"]
st.markdown(f"**Score delta** (candidate − production), mean {delta.get('mean') or 0:+.4f}, "
            f"largest |Δ| {delta.get('max_abs') or 0:.4f}")
st.dataframe(pd.DataFrame([delta.get("quantiles", {})]), hide_index=True, width="stretch")
if comparison["would_be_burn"]:
    st.markdown("**Would-be SLO burn** on the replayed, labelled rows")
    st.dataframe(pd.DataFrame(comparison["would_be_burn"]), hide_index=True, width="stretch")
if cand["slices"]:
    st.markdown("**Per slice** (difference: candidate − production; q: FDR-adjusted)")
    st.dataframe(pd.DataFrame(cand["slices"]), hide_index=True, width="stretch")
if report.get("noise_floor"):
    floor = report["noise_floor"]
    st.caption(f"Noise floor: replaying production's own ONNX agrees on {fmt.pct(floor['agreement'], 2)} of "
               f"{floor['n']:,} rows — disagreement below that is replay noise.")
