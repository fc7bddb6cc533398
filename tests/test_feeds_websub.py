"""WebSub as values: hub discovery, the subscriber's form, challenges, signatures, renewal."""

import hashlib
import hmac

import pytest

from bot.feeds.websub import (
    Hub,
    discover_hub,
    read_challenge,
    renew_at,
    signature_valid,
    subscribe_form,
)

FEED = "https://example.org/feed.xml"


def test_a_hub_in_the_http_link_header_comes_first():
    header = '<https://hub.example/>; rel="hub", <https://example.org/self.xml>; rel="self"'
    document = [{"rel": "hub", "href": "https://other-hub.example/"}]
    assert discover_hub(document, header, FEED) == Hub("https://hub.example/",
                                                       "https://example.org/self.xml")


def test_a_hub_in_the_document_with_its_self_link():
    document = [{"rel": "alternate", "href": "https://example.org/"},
                {"rel": "hub", "href": "https://pubsubhubbub.appspot.com/"},
                {"rel": "self", "href": "https://example.org/rss"}]
    assert discover_hub(document, "", FEED) == Hub("https://pubsubhubbub.appspot.com/",
                                                   "https://example.org/rss")


def test_without_a_self_link_the_topic_is_the_feed_address_and_no_hub_is_none():
    assert discover_hub([{"rel": "hub", "href": "https://h/"}], "", FEED).topic == FEED
    assert discover_hub([{"rel": "alternate", "href": "https://x/"}], "", FEED) is None
    assert discover_hub([], "<https://x/>; rel=alternate", FEED) is None


def test_the_subscribe_form_carries_secret_and_lease_and_unsubscribe_does_not():
    hub = Hub("https://hub/", FEED)
    form = subscribe_form(hub, "https://bot/websub/7", "s3cret", lease=3600)
    assert form == {"hub.mode": "subscribe", "hub.topic": FEED,
                    "hub.callback": "https://bot/websub/7", "hub.secret": "s3cret",
                    "hub.lease_seconds": "3600"}
    assert "hub.secret" not in subscribe_form(hub, "https://bot/websub/7", "s", "unsubscribe")


def test_a_challenge_is_read_only_when_it_is_one():
    challenge = read_challenge({"hub.mode": "subscribe", "hub.topic": FEED,
                                "hub.challenge": "abc", "hub.lease_seconds": "86400"})
    assert (challenge.challenge, challenge.lease_seconds) == ("abc", 86400)
    assert read_challenge({"hub.mode": "denied", "hub.topic": FEED}) is None
    assert read_challenge({"hub.mode": "subscribe", "hub.topic": FEED}) is None


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_a_push_signed_with_our_secret_is_valid(method):
    body = b"<rss>...</rss>"
    digest = hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
    assert signature_valid("s3cret", body, f"{method}={digest}")
    assert not signature_valid("other", body, f"{method}={digest}")
    assert not signature_valid("s3cret", body + b" ", f"{method}={digest}")


def test_unsigned_or_unknown_signatures_are_refused():
    body = b"x"
    md5 = hmac.new(b"k", body, hashlib.md5).hexdigest()
    assert not signature_valid("k", body, None)
    assert not signature_valid("k", body, f"md5={md5}")
    assert not signature_valid("k", body, "sha256=")
    assert not signature_valid("", body, "sha256=00")


def test_renewal_comes_well_before_the_lease_ends():
    assert renew_at(1000.0, 10 * 86400) == 1000.0 + 8 * 86400
    assert renew_at(0.0, 600) == 300  # a short lease renews at half
    assert renew_at(0.0, None) == 8 * 86400  # the lease we asked for
