"""A webhook receiver on loopback that prints each page it gets: where the demo's alerts land."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class PageSink:
    """``with PageSink() as sink:`` serves on 127.0.0.1 (a free port) until the block ends."""

    def __init__(self) -> None:
        self.pages: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.end_headers()
                try:
                    sink.received(json.loads(body))
                except ValueError:
                    pass  # not a modelwatch page: acknowledged, ignored

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.1,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/page"

    def received(self, page: dict[str, Any]) -> None:
        self.pages.append(page)
        alerts = page.get("alerts") or []
        names = ", ".join(sorted({str(a.get("labels", {}).get("slo") or a.get("labels", {}).get("alertname"))
                                  for a in alerts})) or "?"
        print(f"\n>>> PAGE received by the demo webhook: {page.get('status', '?')} [{names}] "
              f"{(page.get('title') or page.get('summary') or '')[:120]}", file=sys.stderr, flush=True)

    def __enter__(self) -> PageSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
