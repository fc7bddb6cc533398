"""The Telegram face of the bot: the Application, command handlers, and replies in en/fr/ru."""
