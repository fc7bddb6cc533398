"""Alerts: render a match as Telegram HTML and deliver it at Telegram's pace (its queue is store/outbox.py)."""
