"""Small tables as plain HTML (pure: rows in, markup out), shown with ``st.html``.

Why not ``st.dataframe``: its grid is a 490 kB script that decodes Arrow, formats numbers and
draws on a canvas in the browser. On the 2-core bench machine a shared link to the Debug page
spent about 0.3 s more of the browser's main thread with grids than with these tables
(bench/dashboard.py), and the Overview and Debug pages must open from a link in under 2 s. Their
tables hold tens of rows, so sorting and scrolling a grid offer little there; plain HTML also
lets a reader select and copy a cell.

Cells are formatted here, in Python, and escaped. A progress bar is two nested spans; a
sparkline is an SVG *image* (a data: URL), because ``st.html`` sanitizes its markup and drops
inline ``<svg>`` but keeps images.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dashboard.fmt import MISSING, pct

__all__ = ["Column", "bar", "html_table", "interval", "number", "percent", "sparkline", "sparkline_points"]

SPARK_WIDTH, SPARK_HEIGHT = 120, 22
SPARK_COLOR = "#d62728"

# Light theme only: `modelwatch dashboard` runs Streamlit with --theme.base light.
STYLE = """<style>
.mw-table-wrap{overflow-x:auto}
.mw-table{width:100%;border-collapse:collapse;font-size:0.875rem;line-height:1.4}
.mw-table th{text-align:left;font-weight:600;color:#31333f;border-bottom:1px solid #d5dae5;padding:0.3rem 0.6rem;white-space:nowrap}
.mw-table td{border-bottom:1px solid #eceef3;padding:0.3rem 0.6rem;color:#31333f;vertical-align:middle}
.mw-table .mw-r{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.mw-table .mw-nowrap{white-space:nowrap;font-variant-numeric:tabular-nums}
.mw-table .mw-bar{display:inline-block;width:4.5rem;height:0.5rem;margin-right:0.5rem;background:#e4e8f0;border-radius:0.25rem;vertical-align:middle}
.mw-table .mw-bar>span{display:block;height:100%;background:#1c83e1;border-radius:0.25rem}
.mw-table img{display:block}
.mw-table .mw-track{position:relative;display:block;width:10rem;height:0.8rem}
.mw-table .mw-track>span{position:absolute;top:0.35rem;height:2px;background:#0068c9}
.mw-table .mw-track>b{position:absolute;top:0.15rem;width:0.5rem;height:0.5rem;margin-left:-0.25rem;border-radius:50%;background:#0068c9}
</style>"""


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def _plain(v: Any) -> str:
    return "" if v is None else str(v)


@dataclass(frozen=True)
class Column:
    """How one column shows: ``format`` turns a cell's value into its text; ``kind`` says what
    else is drawn (a bar for a 0..1 ratio, a sparkline for a list of numbers, an interval and
    its estimate on a scale the whole column shares)."""

    format: Callable[[Any], str] = _plain
    kind: Literal["text", "bar", "sparkline", "interval"] = "text"
    right: bool = False  # numbers line up on the right
    help: str | None = None  # the header's tooltip


def number(spec: str, help: str | None = None) -> Column:
    """A number through a format spec (``".3f"``, ``",d"``, ``".2g"``); a dash when missing."""
    def show(v: Any) -> str:
        if _missing(v):
            return MISSING
        return format(round(v) if spec.endswith("d") and isinstance(v, float) else v, spec)

    return Column(show, right=True, help=help)


def percent(digits: int = 1, help: str | None = None) -> Column:
    """A ratio as '99.58 %' (dashboard.fmt.pct)."""
    return Column(lambda v: pct(v, digits), right=True, help=help)


def bar(digits: int = 1, help: str | None = None) -> Column:
    """A 0..1 ratio as a progress bar and its percentage (an error budget left)."""
    return Column(lambda v: pct(v, digits), kind="bar", help=help)


def sparkline(title: str = "", help: str | None = None) -> Column:
    """A list of numbers (None for a gap) as a small line from 0 to its maximum."""
    return Column(lambda v: _spark_alt(v, title), kind="sparkline", help=help)


def interval(help: str | None = None) -> Column:
    """A (lower, value, upper) triple as a dot on its interval; the column's rows share one
    scale from the smallest bound to the largest, so intervals compare at a glance."""
    def show(v: Any) -> str:
        lower, value, upper = v or (None, None, None)
        return MISSING if _missing(value) else f"{value:.3f} [{_bound(lower)}, {_bound(upper)}]"

    return Column(show, kind="interval", help=help)


def _bound(v: Any) -> str:
    return MISSING if _missing(v) else f"{v:.3f}"


def _domain(triples: Sequence[Any]) -> tuple[float, float]:
    ends = [float(x) for t in triples if t for x in t if not _missing(x)]
    if not ends:
        return 0.0, 1.0
    low, high = min(ends), max(ends)
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def sparkline_points(values: Sequence[float | None], width: int = SPARK_WIDTH,
                     height: int = SPARK_HEIGHT) -> list[tuple[float, float]]:
    """(x, y) pixel points of ``values`` over 0..max, at most one per pixel column: each column
    keeps its largest value, so a one-window spike is never averaged away. Gaps count as 0."""
    ys = [0.0 if _missing(v) else float(v) for v in values]  # type: ignore[arg-type]
    if not ys:
        return []
    if len(ys) > width:  # the largest value of each pixel column
        ys = [max(ys[i * len(ys) // width:(i + 1) * len(ys) // width]) for i in range(width)]
    top = max(max(ys), 0.0) or 1.0
    step = width / (len(ys) - 1) if len(ys) > 1 else 0.0
    pad = 1.5  # the stroke's half-width stays inside the image
    return [(round(i * step, 1), round(height - pad - (height - 2 * pad) * max(y, 0.0) / top, 1))
            for i, y in enumerate(ys)]


def _spark_alt(values: Any, title: str) -> str:
    finite = [float(v) for v in (values or ()) if not _missing(v)]
    if not finite:
        return f"{title}: no values".lstrip(": ")
    head = f"{title} over {len(values)} windows" if title else f"{len(values)} windows"
    return f"{head}: {min(finite):.3g} to {max(finite):.3g}, latest {finite[-1]:.3g}"


def _spark_img(values: Sequence[float | None], alt: str) -> str:
    points = sparkline_points(values)
    if len(points) == 1:
        points = [(0.0, points[0][1]), (float(SPARK_WIDTH), points[0][1])]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}">'
           f'<polyline fill="none" stroke="{SPARK_COLOR}" stroke-width="1.5" stroke-linejoin="round" '
           f'points="{" ".join(f"{x:g},{y:g}" for x, y in points)}"/></svg>')
    data = base64.b64encode(svg.encode()).decode("ascii")
    return (f'<img src="data:image/svg+xml;base64,{data}" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" '
            f'alt="{html.escape(alt)}" title="{html.escape(alt)}">')


def _interval_cell(value: Any, shown: str, domain: tuple[float, float]) -> str:
    lower, estimate, upper = value or (None, None, None)
    if _missing(estimate):
        return f"<td>{MISSING}</td>"
    low, high = domain

    def at(x: Any) -> float:
        return 100.0 * (min(max(float(x), low), high) - low) / (high - low)

    left = at(estimate if _missing(lower) else lower)
    right = at(estimate if _missing(upper) else upper)
    return (f'<td title="{html.escape(shown)}"><span class="mw-track"><span style="left:{left:.1f}%;'
            f'width:{max(right - left, 0.5):.1f}%"></span><b style="left:{at(estimate):.1f}%"></b></span></td>')


def _cell(value: Any, column: Column, domain: tuple[float, float] | None = None) -> str:
    shown = column.format(value)
    if column.kind == "interval":
        return _interval_cell(value, shown, domain or _domain([value]))
    if column.kind == "bar":
        share = 0.0 if _missing(value) else min(max(float(value), 0.0), 1.0)
        inner = f'<span class="mw-bar"><span style="width:{100 * share:.1f}%"></span></span>{html.escape(shown)}'
        return f'<td class="mw-nowrap">{inner}</td>'
    if column.kind == "sparkline":
        return f"<td>{_spark_img(list(value or ()), shown) if value else ''}</td>"
    return f'<td class="mw-r">{html.escape(shown)}</td>' if column.right else f"<td>{html.escape(shown)}</td>"


def html_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, Column] | None = None) -> str:
    """The rows (dicts: their keys are the columns, in first-seen order; a row without a key
    leaves its cell empty) as a table; a column without an entry in ``columns`` is text."""
    columns = columns or {}
    keys = list(dict.fromkeys(k for row in rows for k in row)) if rows else list(columns)
    plain = Column()

    def head(key: str) -> str:
        c = columns.get(key, plain)
        tip = f' title="{html.escape(c.help)}"' if c.help else ""
        align = ' class="mw-r"' if c.right else ""
        return f"<th{align}{tip}>{html.escape(key)}</th>"

    domains = {k: _domain([row.get(k) for row in rows]) for k in keys if columns.get(k, plain).kind == "interval"}
    body = "".join("<tr>" + "".join(_cell(row.get(k), columns.get(k, plain), domains.get(k)) for k in keys) + "</tr>"
                   for row in rows)
    return (f'{STYLE}<div class="mw-table-wrap"><table class="mw-table"><thead><tr>{"".join(head(k) for k in keys)}'
            f"</tr></thead><tbody>{body}</tbody></table></div>")
