"""A LibreTranslate-compatible server on 127.0.0.1 with countable calls and scriptable faults.

Speaks what deep-translator's LibreTranslator sends (POST /translate with
query-string parameters) and what the real server also accepts (form or JSON
body). Translation is deterministic: a small dictionary for whole lines, else
each line prefixed with the target language, e.g. "[ru] Troops in Ukraine".
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http_thread import ThreadedServer

# Whole-line translations, so query-translation tests see real words back.
DICTIONARY: dict[tuple[str, str], dict[str, str]] = {
    ("en", "fr"): {"troops": "troupes", "soldiers": "soldats", "ukraine": "Ukraine",
                   "storm shadow": "Storm Shadow", "europe": "Europe", "missile": "missile",
                   "russia": "Russie", "peace talks": "pourparlers de paix", "europ": "europ"},
    ("en", "ru"): {"troops": "войска", "soldiers": "солдаты", "ukraine": "Украина",
                   "storm shadow": "Сторм Шэдоу", "europe": "Европа", "missile": "ракета",
                   "russia": "Россия", "peace talks": "мирные переговоры", "europ": "европ"},
}


def known_key(text: str, source: str, target: str) -> str:
    """How a test's own translations are keyed: a hash, so that a fixture of
    translations need not hold the source text."""
    return hashlib.sha256(f"{source}>{target}:{text.strip()}".encode()).hexdigest()[:24]


def fake_translate(text: str, source: str, target: str,
                   known: dict[str, str] | None = None) -> str:
    words = DICTIONARY.get((source, target), {})
    lines = []
    for line in text.split("\n"):
        if not line.strip():
            lines.append(line)
        elif known and known_key(line, source, target) in known:
            lines.append(known[known_key(line, source, target)])
        else:
            lines.append(words.get(line.strip().lower(), f"[{target}] {line}"))
    return "\n".join(lines)


@dataclass
class Request:
    q: str
    source: str
    target: str
    api_key: str


@dataclass
class Script:
    """What the next calls do; tests change it between (or during) calls."""

    fail_status: int = 0  # answer this status ...
    fail_count: int = 0  # ... for this many calls (-1: until changed)
    hang: bool = False  # hold every call until `release` is set
    delay: float = 0.0  # seconds every call takes to answer
    api_key: str | None = None  # when set, any other key gets 403
    release: threading.Event = field(default_factory=threading.Event)


class FakeLibreTranslate:
    def __init__(self, known: dict[str, str] | None = None) -> None:
        """`known`: whole-line translations by `known_key`, before the dictionary."""
        self.known = known or {}
        self.script = Script()
        self.requests: list[Request] = []
        self.characters = 0
        self._lock = threading.Lock()
        self._server = ThreadedServer(_handler_for(self))

    @property
    def url(self) -> str:
        return self._server.base_url + "/"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def start(self) -> FakeLibreTranslate:
        self._server.start()
        return self

    def stop(self) -> None:
        self.script.release.set()
        self._server.stop()

    def __enter__(self) -> FakeLibreTranslate:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, req: Request) -> tuple[int, dict]:
        """The status and JSON body for one call, following the script."""
        with self._lock:
            self.requests.append(req)
            self.characters += len(req.q)
            script = self.script
            if script.api_key is not None and req.api_key != script.api_key:
                return 403, {"error": "Invalid API key"}
            if script.fail_count:
                if script.fail_count > 0:
                    script.fail_count -= 1
                return script.fail_status, {"error": f"scripted {script.fail_status}"}
        if script.hang:
            script.release.wait(timeout=30)
        if script.delay:
            script.release.wait(timeout=script.delay)
        if not req.q or not req.source or not req.target:
            return 400, {"error": "Invalid request: missing q, source or target"}
        return 200, {"translatedText": fake_translate(req.q, req.source, req.target, self.known)}


def _handler_for(fake: FakeLibreTranslate) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if parts.path.rstrip("/") != "/translate":
                self._reply(404, {"error": "Not Found"})
                return
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if body:
                if "json" in (self.headers.get("Content-Type") or ""):
                    params.update({k: str(v) for k, v in json.loads(body).items()})
                else:
                    params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
            req = Request(q=params.get("q", ""), source=params.get("source", ""),
                          target=params.get("target", ""), api_key=params.get("api_key", ""))
            status, payload = fake.answer(req)
            self._reply(status, payload)

        def _reply(self, status: int, payload: dict) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout); nothing to answer

    return Handler
