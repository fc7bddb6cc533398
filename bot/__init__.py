"""coverage-bot: news feeds in, keyword matches out, translated Telegram alerts."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/coverage-bot/coverage-bot"
USER_AGENT = f"coverage-bot/{__version__} (+{PROJECT_URL})"
