"""A stand-in for the Google Translate page that deep-translator's GoogleTranslator scrapes.

GET /m?sl=..&tl=..&q=.. answers HTML with the translation in
<div class="result-container">, like translate.google.com/m. `merge_paragraphs`
imitates a service that loses the blank lines between paragraphs.
"""

from __future__ import annotations

import html
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http_thread import ThreadedServer
from tests.fakes.libretranslate import fake_translate


class FakeGoogleTranslate:
    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.merge_paragraphs = False
        self._server = ThreadedServer(_handler_for(self))

    @property
    def url(self) -> str:
        return self._server.base_url + "/m"

    def __enter__(self) -> FakeGoogleTranslate:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


def _handler_for(fake: FakeGoogleTranslate) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            fake.queries.append(params)
            text = fake_translate(params.get("q", ""), params.get("sl", ""), params.get("tl", ""))
            if fake.merge_paragraphs:
                text = " ".join(text.split())
            body = (f'<html><body><div class="result-container">{html.escape(text)}</div>'
                    "</body></html>").encode()
            self.send_response(200 if parts.path == "/m" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
