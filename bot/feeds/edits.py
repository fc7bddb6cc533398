"""The domain behind the feed admin commands: vetting a new feed's address, adding one
(/addfeed) or many (/import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bot.config import PollingConfig
from bot.feeds import FeedError
from bot.feeds.address import AddressGuard
from bot.feeds.fetch import fetch_feed, make_client
from bot.feeds.opml import OpmlFeed
from bot.feeds.telegram_preview import (
    channel_name,
    channel_title,
    channel_url,
    is_channel_url,
    parse_channel_preview,
    preview_address,
)
from bot.store import feeds
from bot.store.db import Database


class FeedRefused(Exception):
    """A feed address is not acceptable; `reason` is one line, None when it is not http(s)."""

    def __init__(self, reason: str | None) -> None:
        super().__init__(reason or "not an http(s) URL")
        self.reason = reason


def is_http_url(url: str) -> bool:
    """Whether the URL is http(s) with a host and a valid port (`http://[::1/x` and
    `…:99999/` make urllib raise, which is a no here, not a failure)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range or not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


async def vet_url(url: str, polling: PollingConfig) -> None:
    """FeedRefused unless the URL is http(s) and, unless private addresses are allowed,
    its host is public (redirects are checked again at every fetch)."""
    if not is_http_url(url):
        raise FeedRefused(None)
    try:
        await AddressGuard.from_config(polling).check(url)
    except FeedError as exc:
        # The reply already says "Refused:"; the guard's reason may say it too.
        raise FeedRefused(str(exc).removeprefix("refused: ")) from None


async def add_checked_feed(db: Database, polling: PollingConfig, url: str, language: str,
                           name: str = ""):
    """The new Feed; feeds.FeedExists if already followed, else FeedRefused for a bad address.

    A Telegram channel (`@CHANNEL`, `t.me/CHANNEL` or its preview address) is stored
    as https://t.me/s/CHANNEL once its public preview was read: a channel without one
    is refused with that reason.
    """
    channel = _channel_asked(url)
    if channel is not None:
        url = channel_url(channel)
    if await feeds.get_feed_by_url(db, url) is not None:
        raise feeds.FeedExists(f"already following {url}")
    if channel is not None:
        name = name or await _read_channel_preview(channel, language, polling) or f"@{channel}"
    else:
        await vet_url(url, polling)
    return await feeds.add_feed(db, url, language, name, origin="chat")


def _channel_asked(text: str) -> str | None:
    text = text.strip()
    if text.startswith("@") or is_channel_url(text) or (
            "t.me/" in text.lower() and is_http_url(text)):
        return channel_name(text)
    return None


async def _read_channel_preview(channel: str, language: str, polling: PollingConfig) -> str:
    """The channel's title, once its preview was fetched and read; FeedRefused if not."""
    address = preview_address(channel_url(channel), polling.telegram_preview_url)
    await vet_url(address, polling)
    async with make_client(polling) as client:
        try:
            result = await fetch_feed(client, address, polling)
        except FeedError as exc:
            raise FeedRefused(f"@{channel}: {exc}") from None
    body = result.body or b""
    try:
        parse_channel_preview(body, channel, language, datetime.now(UTC))
    except FeedError as exc:
        raise FeedRefused(str(exc)) from None
    return channel_title(body)


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already followed
    refused: list[tuple[str, str | None]] = field(default_factory=list)  # url, reason


async def import_feeds(db: Database, polling: PollingConfig, found: list[OpmlFeed],
                       language: str) -> ImportReport:
    """Add every feed of an OPML file with `language`; one bad address refuses only itself."""
    report = ImportReport()
    for item in found:
        try:
            await add_checked_feed(db, polling, item.url, language, item.title)
        except FeedRefused as exc:
            report.refused.append((item.url, exc.reason))
        except feeds.FeedExists:
            report.skipped.append(item.url)
        else:
            report.added.append(item.url)
    return report
