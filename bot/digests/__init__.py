"""Digests, trend charts and surge alerts: what a chat gets besides instant alerts."""
