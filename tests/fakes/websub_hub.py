"""A WebSub hub on 127.0.0.1: takes (un)subscription requests, verifies the
subscriber's callback with a challenge as real hubs do, and pushes signed bodies."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

import httpx
from aiohttp import web


class FakeHub:
    def __init__(self, lease_seconds: int = 86400) -> None:
        self.lease_seconds = lease_seconds
        self.requests: list[dict[str, str]] = []
        self.verified: list[tuple[str, str, bool]] = []  # (mode, callback, echoed right)
        self.subscribers: dict[str, str] = {}  # callback -> secret
        self._tasks: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> FakeHub:
        app = web.Application()
        app.router.add_post("/", self._request)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _request(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append(form)
        task = asyncio.create_task(self._verify(form))  # after answering, as hubs do
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=202)

    async def _verify(self, form: dict[str, str]) -> None:
        await asyncio.sleep(0.01)
        challenge = secrets.token_hex(8)
        params = {"hub.mode": form["hub.mode"], "hub.topic": form["hub.topic"],
                  "hub.challenge": challenge}
        if form["hub.mode"] == "subscribe":
            params["hub.lease_seconds"] = str(self.lease_seconds)
        async with httpx.AsyncClient() as client:
            response = await client.get(form["hub.callback"], params=params, timeout=10)
        ok = response.status_code == 200 and response.text == challenge
        self.verified.append((form["hub.mode"], form["hub.callback"], ok))
        if ok and form["hub.mode"] == "subscribe":
            self.subscribers[form["hub.callback"]] = form["hub.secret"]
        elif ok:
            self.subscribers.pop(form["hub.callback"], None)

    async def push(self, callback: str, body: bytes, method: str = "sha256",
                   secret: str | None = None) -> httpx.Response:
        """POST a body to a subscriber, signed with its secret (or another one)."""
        key = (secret if secret is not None else self.subscribers[callback]).encode()
        signature = hmac.new(key, body, getattr(hashlib, method)).hexdigest()
        async with httpx.AsyncClient() as client:
            return await client.post(callback, content=body, timeout=10, headers={
                "Content-Type": "application/rss+xml",
                "X-Hub-Signature": f"{method}={signature}"})
