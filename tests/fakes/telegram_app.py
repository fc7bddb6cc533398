"""The real bot Application (python-telegram-bot, long polling) against the fake Bot API,
with a real SQLite file: tests inject updates as users and read what the bot sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from bot.config import BotConfig, Config, PollingConfig
from bot.store.db import Database
from bot.telegram.application import BotContext, build_application, start_polling, stop_polling
from bot.telegram.budget import Budget, TelegramLimits
from bot.telegram.rate_limiter import BudgetRateLimiter
from tests.fakes.bot_api import FakeBotAPI, SentDocument, SentMessage

ADMIN = 1001
USER = 2002


@dataclass
class StubTranslator:
    """Stands in for bot.translation.service.Translator: a fixed word list per target."""

    words: dict[str, dict[str, str]] = field(default_factory=dict)  # target -> {word: word}
    hit_rate: float = 0.25

    async def translate_query(self, query_text: str, source: str, target: str) -> str:
        table = self.words.get(target, {})
        return " ".join(table.get(word, word) for word in query_text.split())

    async def translate_entry(self, title: str, summary: str, source: str, target: str):
        """A title as the word list translates it; untranslated if no word is known."""
        table = self.words.get(target, {})
        words = [table.get(word.lower(), word) for word in title.split()]
        known = any(word.lower() in table for word in title.split())
        return SimpleNamespace(title=" ".join(words), summary=summary, translated=known,
                               note=None if known else "unknown words")

    async def stats(self) -> dict:
        return {"hit_rate": self.hit_rate}


@dataclass
class RunningBot:
    api: FakeBotAPI
    db: Database
    context: BotContext
    changes: list[str]

    async def send(self, text: str, chat_id: int = USER, chat_type: str = "private",
                   user_id: int | None = None, replies: int = 1, **extra) -> list[SentMessage]:
        """Inject a message and wait for the bot's `replies` messages to that chat."""
        before = len(self.api.sent_to(chat_id))
        self.api.inject_message(chat_id, chat_type, user_id, text, **extra)
        await self.until(lambda: len(self.api.sent_to(chat_id)) >= before + replies)
        return self.api.sent_to(chat_id)[before:]

    async def ask(self, text: str, **kwargs) -> str:
        """The text of the bot's one reply."""
        return (await self.send(text, **kwargs))[-1].text

    async def documents(self, chat_id: int, count: int) -> list[SentDocument]:
        await self.until(lambda: len([d for d in self.api.documents if d.chat_id == chat_id])
                         >= count)
        return [d for d in self.api.documents if d.chat_id == chat_id]

    async def until(self, condition, timeout: float = 30.0) -> None:
        """Wait for condition() without blocking the loop the bot runs on (the timeout only
        stops a hang: a busy machine can take seconds to answer)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the bot did not answer in time")
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, *, admins: tuple[int, ...] = (ADMIN,),
                      allow_private_addresses: bool = True, translator=None,
                      default_language: str = "en", personal_topics: bool = False,
                      rate_limiter: BudgetRateLimiter | None = None,
                      polling: PollingConfig | None = None) -> AsyncIterator[RunningBot]:
    api = FakeBotAPI().start()
    db = await Database.open(tmp_path / "bot.sqlite3")
    config = Config(
        bot=BotConfig(token=api.token, admins=admins, api_base_url=api.base_url,
                      default_language=default_language, personal_topics=personal_topics),
        polling=polling or PollingConfig(allow_private_addresses=allow_private_addresses),
    )
    changes: list[str] = []

    async def topics_changed() -> None:
        changes.append("topics")

    async def feeds_changed() -> None:
        changes.append("feeds")

    context = BotContext(db=db, config=config, translator=translator,
                         on_topics_changed=topics_changed, on_feeds_changed=feeds_changed)
    # Telegram's limits a hundred times faster: command tests are not about pacing.
    limiter = rate_limiter or BudgetRateLimiter(Budget(TelegramLimits().scaled(0.01)))
    application = build_application(config, context, limiter)
    await start_polling(application, poll_timeout=0.2)
    try:
        yield RunningBot(api, db, context, changes)
    finally:
        await stop_polling(application)
        await db.close()
        api.stop()
