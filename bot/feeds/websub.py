"""WebSub (W3C Recommendation, 2018) as values: finding a feed's hub, the requests a
subscriber makes, the hub's challenge, a push's signature, when to renew. Pure.

The subscriber side only: a feed that advertises a hub (`<link rel="hub">` in the
document or an HTTP `Link: <...>; rel="hub"` header) is subscribed to with a
callback under `websub.public_url` and a secret of our own; the hub verifies the
callback with a challenge, then pushes the feed's new body signed with that secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DEFAULT_LEASE = 10 * 86400.0  # asked of the hub; it may grant another
RENEW_BEFORE = 0.2  # renew when a fifth of the granted lease is left
MIN_RENEW_MARGIN = 3600.0
_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256,
               "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_LINK_VALUE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")


@dataclass(frozen=True)
class Hub:
    hub: str  # the hub's address
    topic: str  # the feed's canonical (self) address, as the hub knows it


def discover_hub(document_links: Iterable[Mapping[str, str]], link_header: str,
                 feed_url: str) -> Hub | None:
    """The hub a feed advertises, HTTP header first (the spec's order), else the
    document's links; the topic is the `self` link, else the feed's own URL."""
    header_links = list(parse_link_header(link_header))
    for links in (header_links, list(document_links)):
        hubs = [link["href"] for link in links if _has_rel(link, "hub") and link.get("href")]
        if hubs:
            selves = [link["href"] for link in links
                      if _has_rel(link, "self") and link.get("href")]
            return Hub(hub=hubs[0], topic=selves[0] if selves else feed_url)
    return None


def parse_link_header(value: str) -> Iterable[dict[str, str]]:
    """`Link: <https://hub>; rel="hub", <https://feed>; rel="self"` as dicts."""
    for found in _LINK_VALUE.finditer(value or ""):
        link = {"href": found.group(1).strip()}
        for param in found.group(2).split(";"):
            name, _, raw = param.strip().partition("=")
            if name:
                link[name.strip().lower()] = raw.strip().strip('"')
        yield link


def _has_rel(link: Mapping[str, str], rel: str) -> bool:
    return rel in (link.get("rel") or "").lower().split()


def subscribe_form(hub: Hub, callback: str, secret: str, mode: str = "subscribe",
                   lease: float = DEFAULT_LEASE) -> dict[str, str]:
    """The form a subscriber POSTs to the hub (mode: subscribe | unsubscribe)."""
    form = {"hub.mode": mode, "hub.topic": hub.topic, "hub.callback": callback}
    if mode == "subscribe":
        form["hub.secret"] = secret
        form["hub.lease_seconds"] = str(int(lease))
    return form


@dataclass(frozen=True)
class Challenge:
    mode: str
    topic: str
    challenge: str
    lease_seconds: float | None


def read_challenge(query: Mapping[str, str]) -> Challenge | None:
    """The hub's verification request, or None when the query is not one."""
    mode = query.get("hub.mode", "")
    challenge = query.get("hub.challenge", "")
    if mode not in ("subscribe", "unsubscribe") or not challenge:
        return None
    lease = query.get("hub.lease_seconds")
    try:
        lease_seconds = float(lease) if lease else None
    except ValueError:
        lease_seconds = None
    return Challenge(mode=mode, topic=query.get("hub.topic", ""), challenge=challenge,
                     lease_seconds=lease_seconds)


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `X-Hub-Signature: method=hexdigest` is the HMAC of `body` with our
    secret, for sha1, sha256, sha384 or sha512; anything else is refused."""
    if not header or not secret:
        return False
    method, _, digest = header.strip().partition("=")
    algorithm = _ALGORITHMS.get(method.strip().lower())
    if algorithm is None or not digest:
        return False
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return hmac.compare_digest(expected, digest.strip().lower())


def renew_at(verified_at: float, lease_seconds: float | None) -> float:
    """When to ask the hub again: well before the lease it granted ends."""
    lease = lease_seconds if lease_seconds and lease_seconds > 0 else DEFAULT_LEASE
    margin = max(lease * RENEW_BEFORE, min(MIN_RENEW_MARGIN, lease / 2))
    return verified_at + lease - margin
