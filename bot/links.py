"""Entry links: as published minus tracking parameters (shown), and canonical (identity). Pure."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never the article.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "xtor", "xtref", "cmp", "ito", "ocid", "mkt_tok", "wt.mc_id",
    "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
    "at_medium", "at_campaign", "at_platform", "at_send_date", "at_creation",
    "at_link_id", "at_link_origin", "at_link_type", "at_ptr_name", "at_recipient_id",
    "at_recipient_list", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
})
TRACKING_PREFIXES = ("utm_",)


def published_link(url: str) -> str:
    """The link as the feed published it, minus tracking parameters in its query (and in
    a fragment made of parameters, as `#xtor=RSS-3208`); nothing re-encoded or reordered."""
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        return url
    rest, hash_, fragment = url.partition("#")
    head, question, query = rest.partition("?")
    query = _without_tracking(query)
    if "=" in fragment:
        fragment = _without_tracking(fragment)
    return head + (question if query else "") + query + (hash_ if fragment else "") + fragment


def _without_tracking(query: str) -> str:
    pairs = query.split("&")
    kept = [pair for pair in pairs if not _is_tracking(unquote_plus(pair.split("=", 1)[0]))]
    if len(kept) == len(pairs):
        return query
    return "&".join(pair for pair in kept if pair)


def canonical_link(url: str) -> str:
    """The link as an identity: tracking parameters and fragment removed, scheme and host
    lower-cased, the query re-encoded, so spellings of one address compare equal."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k)]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/",
                       urlencode(query, doseq=True), ""))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)
