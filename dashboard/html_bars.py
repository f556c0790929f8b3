"""The reference-vs-current histogram as plain HTML bars (pure), shown with ``st.html``.

A Vega-Lite chart costs the browser its 775 kB chart library plus compiling and drawing the
spec: 0.2-0.3 s of main-thread time per page load on the 2-core bench machine
(bench/dashboard.py), where a shared link to the Debug page must render in under 2 s. Grouped
bars need none of it: per bin a reference and a current bar, heights in percent of a rounded
axis maximum, the exact share in each bar's tooltip (a ``title``, which ``st.html``'s
sanitizer keeps).
"""

from __future__ import annotations

import html
import math

from dashboard.histogram import Overlay

__all__ = ["CURRENT_COLOR", "REFERENCE_COLOR", "axis_top", "histogram_html"]

CURRENT_COLOR, REFERENCE_COLOR = "#0068c9", "#83c9ff"  # Streamlit's own blues, as the charts use
PLOT_PX = 200

STYLE = """<style>
.mw-hist{font-size:0.75rem;color:#555}
.mw-hist-legend{margin:0 0 0.4rem 2.6rem}
.mw-hist-legend span{display:inline-block;width:0.7rem;height:0.7rem;margin:0 0.3rem 0 0.8rem;vertical-align:-0.05rem}
.mw-hist-row{display:flex;align-items:stretch}
.mw-hist-axis{width:2.6rem;display:flex;flex-direction:column;justify-content:space-between;text-align:right;padding-right:0.4rem;margin:-0.45rem 0}
.mw-hist-plot{flex:1;display:flex;align-items:flex-end;gap:0.5rem;border-bottom:1px solid #888;border-left:1px solid #ddd;background:repeating-linear-gradient(to top,#eceef3 0,#eceef3 1px,transparent 1px,transparent 25%)}
.mw-hist-bin{flex:1;display:flex;align-items:flex-end;justify-content:center;gap:2px;height:100%}
.mw-hist-bin span{flex:1;max-width:2.2rem;min-height:1px}
.mw-hist-labels{display:flex;gap:0.5rem;margin-left:2.6rem;padding-top:0.25rem}
.mw-hist-labels div{flex:1;text-align:center;overflow-wrap:anywhere;line-height:1.2}
.mw-hist-title{text-align:center;margin-top:0.2rem}
</style>"""


def axis_top(largest: float) -> float:
    """The axis maximum: four grid steps of a round size (1, 2, 2.5 or 5 times a power of ten)
    that reach ``largest``: 0.40 -> 0.4 (10 % steps), 0.173 -> 0.2, 0.55 -> 0.8."""
    if not largest > 0:
        return 1.0
    step = largest / 4
    power = 10.0 ** math.floor(math.log10(step))
    return 4 * next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= step * (1 - 1e-9))


def _bar(share: float, top: float, color: str, tip: str) -> str:
    return (f'<span style="height:{100.0 * share / top:.2f}%;background:{color}" '
            f'title="{html.escape(tip)}"></span>')


def histogram_html(o: Overlay) -> str:
    """Reference and current shares per bin, side by side, bins in profile order."""
    current = f"current ({o.current_rows:,} rows)"
    top = axis_top(max([*o.reference, *o.current, 0.0]))
    ticks = "".join(f"<div>{100.0 * top * k / 4:.4g} %</div>" for k in (4, 3, 2, 1, 0))
    bins = "".join(
        f'<div class="mw-hist-bin">{_bar(c, top, CURRENT_COLOR, f"{b} · {current}: {100.0 * c:.2f} %")}'
        f'{_bar(r, top, REFERENCE_COLOR, f"{b} · reference: {100.0 * r:.2f} %")}</div>'
        for b, r, c in zip(o.bins, o.reference, o.current))
    labels = "".join(f"<div>{html.escape(b)}</div>" for b in o.bins)
    return (f'{STYLE}<div class="mw-hist" role="img" aria-label="{html.escape(o.feature)}: reference vs current">'
            f'<div class="mw-hist-legend"><span style="background:{CURRENT_COLOR}"></span>{html.escape(current)}'
            f'<span style="background:{REFERENCE_COLOR}"></span>reference</div>'
            f'<div class="mw-hist-row" style="height:{PLOT_PX}px"><div class="mw-hist-axis">{ticks}</div>'
            f'<div class="mw-hist-plot">{bins}</div></div>'
            f'<div class="mw-hist-labels">{labels}</div>'
            f'<div class="mw-hist-title">{html.escape(o.feature)} · share of rows per reference bin</div></div>')
