"""The page of ``ffvfx tune``: a small HTTP server on 127.0.0.1 only, for one browser tab.

Every request carries the session's random token (``?t=``, made by :mod:`secrets`) and names this
server as its host (``127.0.0.1:PORT`` or ``localhost:PORT``: a page elsewhere cannot reach it by
a DNS name either); anything else is refused with 403 before it is read. ``GET /`` is the page
(``tune_page.html``, no external resources), ``GET /state`` what it shows, ``POST /set`` a JSON
object of parameter names and values as typed, ``POST /quit`` ends the session. Values reach the
effect only through :meth:`ffvfx.pipelines.tune.Session.change`, which checks them with the
command line's types and refuses anything else (400, ``{"error": ...}``, nothing changed).
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ffvfx.errors import FfvfxError
from ffvfx.pipelines.tune import Session

HOST = "127.0.0.1"
MAX_BODY = 16 * 1024
_PAGE = "tune_page.html"


def page_html() -> bytes:
    """The page, from the package's data."""
    return resources.files("ffvfx.pipelines").joinpath(_PAGE).read_bytes()


class TuneServer:
    """Serves ``session``'s page on 127.0.0.1 (``port`` 0: any free one) in a thread of its own."""

    def __init__(self, session: Session, port: int = 0):
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self.httpd = ThreadingHTTPServer((HOST, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.tune = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/?t={self.token}"

    def start(self) -> TuneServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def allowed(self, path: str, host: str | None) -> bool:
        """The request names this server and carries the token."""
        if host not in (f"{HOST}:{self.port}", f"localhost:{self.port}"):
            return False
        given = parse_qs(urlsplit(path).query).get("t", [""])[0]
        return hmac.compare_digest(given.encode(), self.token.encode())


class _Handler(BaseHTTPRequestHandler):
    """One request to the page's server (``self.server.tune``: the :class:`TuneServer`)."""

    server_version = "ffvfx-tune"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the terminal is the user's
        pass

    def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; "
                         "style-src 'unsafe-inline'; connect-src 'self'; img-src data:")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, obj: Any) -> None:
        self._send(code, json.dumps(obj).encode())

    def _route(self) -> str | None:
        if not self.server.tune.allowed(self.path, self.headers.get("Host")):
            self._json(403, {"error": "forbidden: this page needs the address ffvfx tune printed"})
            return None
        return urlsplit(self.path).path

    def do_GET(self) -> None:
        route = self._route()
        session = self.server.tune.session
        if route == "/":
            self._send(200, page_html(), "text/html; charset=utf-8")
        elif route == "/state":
            self._json(200, session.call(session.state))
        elif route is not None:
            self._json(404, {"error": "no such page"})

    def do_POST(self) -> None:
        route = self._route()
        session = self.server.tune.session
        if route == "/quit":
            session.call(lambda: session.quit("page"))
            self._json(200, {"ok": True})
        elif route == "/set":
            self._set(session)
        elif route is not None:
            self._json(404, {"error": "no such page"})

    def _set(self, session: Session) -> None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 < length <= MAX_BODY:
                raise FfvfxError("send a JSON object of parameters")
            given = json.loads(self.rfile.read(length), parse_constant=_no_constant)
            if not isinstance(given, dict):
                raise FfvfxError("send a JSON object of parameters")
            result = session.call(lambda: _apply(session, given))
        except (FfvfxError, ValueError) as exc:
            self._json(400, {"error": str(exc)})
            return
        self._json(200, result)


def _no_constant(name: str) -> None:
    raise FfvfxError(f"{name} is not a value")


def _apply(session: Session, given: dict) -> dict:
    outcome = session.change(given)
    return {"ok": True, "how": outcome.how, "state": session.state()}
