"""Real loopback servers for receiver tests: an HTTP server that records requests and answers
from a script, and a minimal SMTP server (RFC 5321 subset: HELO/EHLO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT) that records messages. Both bind 127.0.0.1 port 0 and run in a daemon thread."""

from __future__ import annotations

import json
import socketserver
import threading
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


class CaptureServer:
    """Records every request; answers with queued replies, then with ``default``."""

    def __init__(self, default: Reply | None = None, port: int = 0) -> None:
        self.requests: list[Captured] = []
        self.replies: deque[Reply] = deque()
        self.default = default or Reply()
        self.received = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                # Record before answering: the client may look at requests as soon as it has a reply.
                with server.received:
                    server.requests.append(Captured("POST", self.path, dict(self.headers.items()), body))
                    server.received.notify_all()
                reply = server.replies.popleft() if server.replies else server.default
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        # A fixed port lets a test bring a receiver "back" where its URL already points.
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.replies.append(Reply(status, body, headers or {}))

    def wait_for(self, count: int, timeout: float) -> list[Captured]:
        with self.received:
            self.received.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def __enter__(self) -> CaptureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> Message:
        return message_from_bytes(self.data, policy=policy.default)


class SmtpServer:
    """Records accepted messages; ``rcpt_reply`` / ``data_reply`` force a reply code."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.rcpt_reply = "250 OK"
        self.data_reply = "250 OK: queued"
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 localhost test SMTP")
                sender, recipients = "", []
                while line := self.rfile.readline():
                    command = line.decode().rstrip("\r\n")
                    verb = command[:4].upper()
                    if verb in ("HELO", "EHLO"):
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        sender, recipients = command.split(":", 1)[1].strip().strip("<>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        if server.rcpt_reply.startswith("250"):
                            recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                        self.reply(server.rcpt_reply)
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b""):
                            lines.append(data[1:] if data.startswith(b"..") else data)
                        if server.data_reply.startswith("250"):
                            server.mails.append(Mail(sender, recipients, b"".join(lines)))
                        self.reply(server.data_reply)
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
