"""Read back what the pages show as HTML (dashboard.html_table, dashboard.html_bars) from an
AppTest run: tables as frames of the cell texts a person reads, histogram bars from their
tooltips."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd

__all__ = ["histogram_bars", "html_bodies", "html_tables", "parse_tables"]


class _Tables(HTMLParser):
    """Each <table>: header texts and rows of cell texts. A cell without text reads as its
    image's alt text (a sparkline) or its own title (an interval)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._cell: list[str] | None = None
        self._fallback = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr" and self.tables:
            self._row: list[str] = []
        elif tag in ("td", "th"):
            self._cell, self._fallback = [], a.get("title") or ""
        elif tag == "img" and self._cell is not None:
            self._fallback = a.get("alt") or self._fallback

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip() or self._fallback)
            self._cell = None
        elif tag == "tr" and self.tables:
            header, rows = self.tables[-1]
            if not header:
                header.extend(self._row)
            else:
                rows.append(self._row)


def parse_tables(markup: str) -> list[pd.DataFrame]:
    parser = _Tables()
    parser.feed(markup)
    return [pd.DataFrame(rows, columns=header) for header, rows in parser.tables]


def html_bodies(at) -> list[str]:
    """The markup of every st.html element, in page order."""
    return [el.proto.body for el in at.get("html")]


def html_tables(at) -> list[pd.DataFrame]:
    """Every table the page shows as HTML, in page order (all cells are text)."""
    return [t for body in html_bodies(at) if "<table" in body for t in parse_tables(body)]


_BAR = re.compile(r'title="([^"]*) · ([^"]*): ([0-9.]+) %"')


def histogram_bars(at) -> pd.DataFrame:
    """The histogram's bars: bin, data ('reference' or 'current (N rows)') and share (0..1)."""
    import html

    found = [(html.unescape(b), html.unescape(d), float(s) / 100.0)
             for body in html_bodies(at) if "mw-hist" in body for b, d, s in _BAR.findall(body)]
    return pd.DataFrame(found, columns=["bin", "data", "share"])
