"""Feed ingestion: fetch (HTTP), parse (bytes -> Entry), schedule (when), poll (the loop);
edits (adding feeds from chat, /import, /export) and opml (the file format)."""


class FeedError(Exception):
    """A feed could not be read this time; str() is one line for the feed's health."""


def one_line(exc: BaseException) -> str:
    """An exception as one short line for a feed's health: its message, or its type."""
    return " ".join((str(exc) or type(exc).__name__).split())[:200]
