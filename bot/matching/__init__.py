"""Deciding which topics an entry belongs to: text rules, queries, the topic index."""
