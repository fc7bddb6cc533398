"""A feed web server on 127.0.0.1: real files, HTTP validators, gzip, and scripted faults.

Runs in a thread for tests (`FeedServer`) or in its own process for benchmarks
(`serve_files_in_process`), so serving never competes with the event loop it tests.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import multiprocessing
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "feeds"
CORPUS = REPO.parent / "shared" / "corpus"
RSS = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True)
class Route:
    """What one path answers. Faults are fields: set one and the path misbehaves."""

    body: bytes = b""
    content_type: str | None = RSS
    status: int = 200
    validators: bool = True  # send ETag and Last-Modified, honour conditional requests
    last_modified: float = 1732521600.0  # 2024-11-25
    gzip: bool = False  # compress when the client accepts it
    hang: float = 0.0  # seconds to wait before answering
    drip: float = 0.0  # seconds between single bytes of the body
    redirect: str | None = None  # Location of a 302
    no_length: bool = False  # no Content-Length: the body ends when the connection closes
    headers: tuple[tuple[str, str], ...] = ()
    reason: str | None = None  # the status line's reason phrase, when not the standard one

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'

    @property
    def last_modified_header(self) -> str:
        return email.utils.formatdate(self.last_modified, usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # quiet: tests read counters instead
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.server.hits[path] += 1
        self.server.requests.append((path, dict(self.headers)))
        route = self.server.routes.get(path)
        if route is None:
            return self._send(404, b"not found", "text/plain")
        if route.hang:
            time.sleep(route.hang)
        if route.redirect is not None:
            return self._send(302, b"", "text/plain", [("Location", route.redirect)])
        if route.status != 200:
            return self._send(route.status, b"error page", "text/html", list(route.headers),
                              reason=route.reason)
        extra = list(route.headers)
        if route.validators:
            extra += [("ETag", route.etag), ("Last-Modified", route.last_modified_header)]
            # As RFC 9110 says: If-None-Match, when sent, decides alone.
            if ("If-None-Match" in self.headers
                    and self.headers["If-None-Match"] == route.etag
                    or "If-None-Match" not in self.headers
                    and self.headers.get("If-Modified-Since") == route.last_modified_header):
                return self._send(304, b"", None, extra)
        body = route.body
        if route.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            extra.append(("Content-Encoding", "gzip"))
        self._send(200, body, route.content_type, extra, drip=route.drip,
                   no_length=route.no_length)

    def _send(self, status: int, body: bytes, content_type: str | None,
              headers: list[tuple[str, str]] = (), *, drip: float = 0.0,
              no_length: bool = False, reason: str | None = None) -> None:
        try:
            self.send_response(status, reason)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in headers:
                self.send_header(name, value)
            if no_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            elif status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if drip:
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(drip)
            elif status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, routes: dict[str, Route]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict]] = []

    def handle_error(self, request, client_address) -> None:
        pass  # clients that time out hang up mid-answer; that is the test, not a failure


class FeedServer:
    """`with FeedServer() as server: url = server.add("/a.xml", body)`; faults by Route fields."""

    def __init__(self) -> None:
        self._server = _Server({})
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True,
                                        name="feed-server")

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes = b"", **fields) -> str:
        """Serve `body` (or a fault) at `path`; returns its URL."""
        self._server.routes[path] = Route(body=body, **fields)
        return self.url(path)

    def change(self, path: str, **fields) -> None:
        """Alter a route; a new body also gets a later Last-Modified, as on a real site."""
        old = self._server.routes[path]
        if "body" in fields and "last_modified" not in fields:
            fields["last_modified"] = old.last_modified + 60
        self._server.routes[path] = replace(old, **fields)

    def route(self, path: str) -> Route:
        return self._server.routes[path]

    def hits(self, path: str) -> int:
        return self._server.hits[path]

    def requests_to(self, path: str) -> list[dict]:
        return [headers for p, headers in self._server.requests if p == path]


def refused_url() -> str:
    """A URL on a 127.0.0.1 port where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed.xml"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def append_item(rss: bytes, title: str, link: str, guid: str | None = None) -> bytes:
    """The same RSS document with one more item at the top, as a publisher would add it."""
    guid_xml = f"<guid>{guid}</guid>" if guid else ""
    item = (f"<item><title>{title}</title><link>{link}</link>{guid_xml}"
            f"<description>{title}</description></item>").encode()
    head, sep, tail = rss.partition(b"<item>")
    return head + item + sep + tail


# -- a server in its own process, for benchmarks -------------------------------------


def _serve_files(files: dict[str, str], ready) -> None:
    routes = {}
    for path, file in files.items():
        routes[path] = Route(body=Path(file).read_bytes(), content_type="application/xml")
    server = _Server(routes)
    ready.send(server.server_address[1])
    server.serve_forever()


def serve_files_in_process(files: dict[str, str]) -> tuple[str, multiprocessing.Process]:
    """Serve {path: file} (each file's bytes held in memory) from a child process.

    Returns the base URL and the process; terminate the process when done.
    """
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_files, args=(files, child), daemon=True)
    process.start()
    port = parent.recv()
    return f"http://127.0.0.1:{port}", process
