"""The one python-telegram-bot Application: Bot API address, rate limiter, every handler,
and the command menus in English, French and Russian.

The app wiring builds a BotContext, calls `build_application`, then either
`run_polling`, or `start_polling` / `stop_polling` below (or the same steps by
hand) when it runs its own event loop; the menus are published once it starts.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import Config
from bot.i18n import t
from bot.model import LANGUAGES
from bot.telegram import (
    admin,
    admin_feeds,
    alert_buttons,
    commands,
    digest_commands,
    membership,
    quiet_commands,
    search_commands,
    story_commands,
    topic_drafts,
)
from bot.telegram.context import CONTEXT_KEY, BotContext, language_of, reply
from bot.telegram.rate_limiter import BudgetRateLimiter
from bot.telegram.update_order import PerChatOrder

__all__ = ["BotContext", "build_application", "publish_commands", "start_polling",
           "stop_polling", "USER_COMMANDS", "ADMIN_COMMANDS"]

log = logging.getLogger(__name__)

USER_COMMANDS = {
    "start": commands.start,
    "help": commands.help_command,
    "topics": commands.topics_command,
    "subscribe": commands.subscribe_command,
    "unsubscribe": commands.unsubscribe_command,
    "mysubs": commands.mysubs_command,
    "language": commands.language_command,
    "recent": commands.recent_command,
    "timezone": commands.timezone_command,
    "digest": digest_commands.digest_command,
    "surges": digest_commands.surges_command,
    "trend": digest_commands.trend_command,
    "story": story_commands.story_command,
    "coverage": story_commands.coverage_command,
    "search": search_commands.search_command,
    "quiet": quiet_commands.quiet_command,
}
ADMIN_COMMANDS = {
    "addtopic": topic_drafts.addtopic_command,
    "setquery": admin.setquery_command,
    "settitle": admin.settitle_command,
    "deltopic": admin.deltopic_command,
    "test": admin.test_command,
    "stats": admin.stats_command,
    "addfeed": admin_feeds.addfeed_command,
    "delfeed": admin_feeds.delfeed_command,
    "feeds": admin_feeds.feeds_command,
    "export": admin_feeds.export_command,
    "import": admin_feeds.import_command,
}

# Handled beside the others instead of in turn: a chart being drawn must not hold up
# the next update (PTB otherwise handles updates one after another).
SLOW_COMMANDS = frozenset({"trend", "search"})


def _file_base_url(api_base_url: str) -> str:
    """Telegram serves files from /file/bot<token>/…; a self-hosted server mirrors that."""
    base = api_base_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("bot")] + "file/bot"
    return base + "/file/bot"


def build_application(config: Config, context: BotContext,
                      rate_limiter: BudgetRateLimiter | None = None) -> Application:
    """The Application; give it the service's one `rate_limiter` so that its replies and
    the alerts share one Telegram budget."""
    builder = (ApplicationBuilder().token(config.bot.token)
               .rate_limiter(rate_limiter or BudgetRateLimiter())
               # users never wait behind each other; a chat's updates keep their order
               .concurrent_updates(PerChatOrder()))
    if config.bot.api_base_url:
        base = config.bot.api_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(_file_base_url(base))
    application = builder.build()
    application.bot_data[CONTEXT_KEY] = context
    add_handlers(application)
    # A job rather than post_init: it runs however the app is started (run_polling,
    # or initialize/start by a caller that owns the loop), once the job queue starts.
    application.job_queue.run_once(_publish_job, when=0, name="publish-commands")
    return application


async def _publish_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await publish_commands(context.application)


def add_handlers(application: Application) -> None:
    # Only new messages: an edited "/subscribe x" must not run a second time,
    # and commands typed inside a channel are not how channels are managed.
    only_new = filters.UpdateType.MESSAGE
    # First, in a group of its own: a new private chat speaks its user's language.
    application.add_handler(MessageHandler(only_new & filters.COMMAND, commands.first_contact),
                            group=-1)
    for name, handler in {**USER_COMMANDS, **ADMIN_COMMANDS}.items():
        application.add_handler(CommandHandler(name, handler, filters=only_new,
                                               block=name not in SLOW_COMMANDS))
    application.add_handler(MessageHandler(
        only_new & filters.Document.ALL & filters.CaptionRegex(r"^/import(@\w+)?(\s|$)"),
        # Beside other updates: each address is resolved to be checked, which takes a while.
        admin_feeds.import_document, block=False))
    application.add_handler(CallbackQueryHandler(story_commands.story_button,
                                                 pattern=story_commands.STORY_PATTERN))
    application.add_handler(CallbackQueryHandler(commands.topic_button,
                                                 pattern=commands.CALLBACK_PATTERN))
    application.add_handler(CallbackQueryHandler(alert_buttons.mute_button,
                                                 pattern=alert_buttons.MUTE_PATTERN))
    application.add_handler(CallbackQueryHandler(commands.topics_page_button,
                                                 pattern=commands.PAGE_PATTERN))
    application.add_handler(CallbackQueryHandler(topic_drafts.draft_button,
                                                 pattern=topic_drafts.DRAFT_PATTERN))
    application.add_handler(CallbackQueryHandler(commands.unknown_button))  # every other button
    application.add_handler(MessageHandler(only_new & filters.COMMAND, commands.unknown_command))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, commands.chat_migrated))
    application.add_handler(ChatMemberHandler(membership.bot_membership_changed,
                                              ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_error_handler(_on_error)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unexpected failures: logged with the update, and the user gets one line, not silence.
    A reply Telegram did not take (network, timeout, the bot stopping) is one line: there
    is no one to tell but the log."""
    if isinstance(context.error, NetworkError) and not isinstance(context.error, BadRequest):
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat \
            else None
        log.warning("reply to chat %s dropped: %s", chat, context.error)
        if isinstance(update, Update) and update.callback_query:
            await _answer_failed_button(update, context)  # else its spinner never stops
        return
    log.error("handling %s failed", update, exc_info=context.error)
    if isinstance(update, Update) and update.callback_query:
        await _answer_failed_button(update, context)
    elif isinstance(update, Update) and update.effective_message and update.effective_chat:
        try:
            await reply(update, context, "error.internal")
        except Exception:  # the failure may be Telegram itself; logging it once is enough
            log.debug("could not report the failure to the chat", exc_info=True)


async def _answer_failed_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed button waits for its answer: a failure is answered too, so the user's
    client stops its spinner and says something went wrong."""
    lang = context.bot_data[CONTEXT_KEY].config.bot.default_language
    try:
        if update.effective_chat is not None:
            lang = await language_of(context, update.effective_chat.id)
    except Exception:  # the database may be the failure: the default language will do
        log.debug("no language for the failed button's chat", exc_info=True)
    try:
        await update.callback_query.answer(t(lang, "error.internal"))
    except Exception:  # answered already, or Telegram itself is the failure
        log.debug("could not answer the failed button", exc_info=True)


def _menu(lang: str, names: list[str]) -> list[BotCommand]:
    return [BotCommand(name, t(lang, f"menu.{name}")) for name in names]


async def publish_commands(application: Application) -> None:
    """setMyCommands for everyone, by language, and for bot admins in their private chats
    with the admin commands added; a menu that cannot be set is logged, not fatal."""
    bot = application.bot
    user = list(USER_COMMANDS)
    every = user + list(ADMIN_COMMANDS)
    admins = application.bot_data[CONTEXT_KEY].config.bot.admins
    try:
        await bot.set_my_commands(_menu("en", user))
        for lang in LANGUAGES:
            await bot.set_my_commands(_menu(lang, user), language_code=lang)
    except TelegramError as exc:
        log.warning("could not publish the command menu: %s", exc)
        return
    for admin_id in admins:
        try:
            await bot.set_my_commands(_menu("en", every), scope=BotCommandScopeChat(admin_id))
            for lang in LANGUAGES:
                await bot.set_my_commands(_menu(lang, every), scope=BotCommandScopeChat(admin_id),
                                          language_code=lang)
        except TelegramError as exc:  # an admin who never opened a chat with the bot
            log.info("no admin menu for %s: %s", admin_id, exc)


async def start_polling(application: Application, *, poll_timeout: float = 30.0) -> None:
    """Initialise, start handlers (and the menu job) and long polling, for callers that
    own the event loop; `run_polling` does all this itself."""
    await application.initialize()
    await application.start()
    await application.updater.start_polling(
        poll_interval=0.0, timeout=timedelta(seconds=poll_timeout),
        allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER],
        drop_pending_updates=False)


async def stop_polling(application: Application) -> None:
    """Stop fetching updates, let running handlers finish, release the HTTP clients."""
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()
