"""Alerts: render a match as Telegram HTML, queue it per chat, deliver it at Telegram's pace."""
