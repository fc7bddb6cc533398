"""config.toml -> frozen dataclasses; every validation problem is found here, one line each.

Longer than most modules on purpose: every section's checks stay in this one
place, so `check` reports all of a file's problems and no other module validates.
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.model import LANGUAGES

PROVIDERS = ("google", "libre", "mymemory", "deepl", "none")
TOKEN_ENV = "COVERAGE_BOT_TOKEN"
TRANSLATION_KEY_ENV = "COVERAGE_BOT_TRANSLATION_KEY"
TOPIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConfigError(Exception):
    """The config is unusable; `problems` holds one clear line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class BotConfig:
    token: str = ""
    admins: tuple[int, ...] = ()
    api_base_url: str = ""
    default_language: str = "en"
    default_timezone: str = "UTC"  # IANA zone of chats that set none with /timezone
    personal_topics: bool = False  # anyone may define topics of their own in a private chat


@dataclass(frozen=True)
class StorageConfig:
    database: str = "coverage-bot.sqlite3"
    retention: float = 30 * 86400.0


MAX_CONCURRENCY = 256  # feeds fetched at once: 256 x 10 MB bodies is already 2.5 GB


@dataclass(frozen=True)
class PollingConfig:
    interval: float = 300.0
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    concurrency: int = 16
    allow_private_addresses: bool = False
    max_retry_after: float = 6 * 3600.0  # longest wait a feed's Retry-After may impose
    # New entries one poll of one feed may bring to matching; the rest are recorded as
    # seen and the admins are told (a feed that suddenly lists 100,000 items).
    max_new_entries: int = 500
    # Each feed's interval follows how often it publishes. True unless the file says
    # otherwise (parse_config); a PollingConfig built in code asks for it.
    adaptive: bool = False
    # Bounds of an adaptive interval; None: 1 minute and 2 hours, widened to include
    # `interval`, so a short interval for local feeds is not slowed to a minute.
    min_interval: float | None = None
    max_interval: float | None = None
    telegram_preview_url: str = "https://t.me/s/"  # where channel feeds are read


    @property
    def bounds(self) -> tuple[float, float]:
        """(shortest, longest) adaptive interval."""
        low = self.min_interval if self.min_interval is not None else min(60.0, self.interval)
        high = (self.max_interval if self.max_interval is not None
                else max(2 * 3600.0, self.interval))
        return low, high


@dataclass(frozen=True)
class WebSubConfig:
    public_url: str = ""  # empty: no WebSub; else pushes arrive under this URL
    listen: str = "127.0.0.1:8470"  # host:port the push receiver binds


@dataclass(frozen=True)
class TranslationConfig:
    provider: str = "google"
    base_url: str = ""
    api_key: str = ""
    timeout: float = 15.0


@dataclass(frozen=True)
class SurgesConfig:
    """A surge: at least `min_entries` matches of a topic within `window`, and `factor`
    times its rate over the 7 days before."""

    enabled: bool = True
    window: float = 2 * 3600.0
    min_entries: int = 5
    factor: float = 4.0


@dataclass(frozen=True)
class HealthConfig:
    """When the bot admins are told about a feed: failing this long, or answering but
    with nothing new this long (stale)."""

    report_after: float = 24 * 3600.0
    stale_after: float = 7 * 86400.0


@dataclass(frozen=True)
class StoriesConfig:
    window: float = 48 * 3600.0  # an entry joins a story whose latest entry is this recent


@dataclass(frozen=True)
class FeedConfig:
    url: str
    language: str
    name: str = ""
    interval: float | None = None


@dataclass(frozen=True)
class TopicConfig:
    name: str
    title: str
    queries: Mapping[str, str] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)  # from title_en, title_fr, title_ru


@dataclass(frozen=True)
class Config:
    bot: BotConfig = BotConfig()
    storage: StorageConfig = StorageConfig()
    polling: PollingConfig = PollingConfig()
    translation: TranslationConfig = TranslationConfig()
    surges: SurgesConfig = SurgesConfig()
    stories: StoriesConfig = StoriesConfig()
    health: HealthConfig = HealthConfig()
    websub: WebSubConfig = WebSubConfig()
    feeds: tuple[FeedConfig, ...] = ()
    topics: tuple[TopicConfig, ...] = ()
    warnings: tuple[str, ...] = ()


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
MAX_DURATION = 3650 * 86400.0  # past ten years a duration is a typo, and dates overflow


def parse_duration(value: object) -> float:
    """'90s', '5m', '2h', '30d' or integer seconds -> seconds; ValueError if not positive."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like \"90s\", \"5m\", \"2h\" or seconds")
    if isinstance(value, (int, float)):
        seconds = float(value)
        if not math.isfinite(seconds):  # TOML spells nan and inf
            raise ValueError(f"a duration must be a finite number of seconds, got {value!r}")
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNIT[m.group(2)]
    else:
        raise ValueError(f"expected a duration like \"90s\", \"5m\", \"2h\" or seconds, got {value!r}")
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {value!r}")
    if seconds > MAX_DURATION:
        raise ValueError(f"a duration must be at most 3650d, got {value!r}")
    return seconds


class _Reader:
    """Reads one TOML table, collecting problems instead of stopping at the first."""

    def __init__(self, problems: list[str], table: object, where: str) -> None:
        self.problems = problems
        self.where = where
        if not isinstance(table, dict):
            problems.append(f"{where}: expected a table")
            table = {}
        self.table: dict[str, Any] = table
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def get(self, name: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(name)
        if name not in self.table:
            return default
        value = self.table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            names = " or ".join(k.__name__.replace("str", "string").replace("int", "integer")
                                .replace("bool", "boolean") for k in kinds)
            self.problems.append(f"{self.key(name)}: expected {names}, got {value!r}")
            return default
        return value

    def duration(self, name: str, default: float | None) -> float | None:
        self.used.add(name)
        if name not in self.table:
            return default
        try:
            return parse_duration(self.table[name])
        except ValueError as exc:
            self.problems.append(f"{self.key(name)}: {exc}")
            return default

    def language(self, name: str, default: str | None) -> str | None:
        value = self.get(name, str, default)
        if value is not None and value not in LANGUAGES:
            self.problems.append(f"{self.key(name)}: unknown language {value!r} (use en, fr or ru)")
            return default
        return value

    def positive_int(self, name: str, default: int) -> int:
        value = self.get(name, int, default)
        if value <= 0:
            self.problems.append(f"{self.key(name)}: must be a positive integer, got {value}")
            return default
        return value

    def finish(self) -> None:
        for name in self.table:
            if name not in self.used:
                self.problems.append(f"{self.key(name)}: unknown key")


def _check_url(problems: list[str], key: str, url: str, *, required: bool) -> None:
    if not url:
        if required:
            problems.append(f"{key}: required")
        return
    problem = url_problem(url)
    if problem:
        problems.append(f"{key}: {problem}")


def url_problem(url: str) -> str | None:
    """Why `url` is not a usable http(s) URL (one line), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when out of range or not a number
    except ValueError as exc:
        return f"malformed URL {url!r} ({exc})"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"expected an http(s) URL, got {url!r}"
    if not parts.hostname:
        return f"no host in URL {url!r}"
    if port == 0:
        return f"port 0 in URL {url!r}"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return f"space or control character in URL {url!r}"
    return None


def parse_config(data: Mapping[str, Any], env: Mapping[str, str]) -> Config:
    """Validate a parsed TOML document; ConfigError lists every problem found."""
    problems: list[str] = []
    warnings: list[str] = []
    top = _Reader(problems, dict(data), "")

    b = _Reader(problems, top.get("bot", dict, {}), "bot")
    file_token = b.get("token", str, "")
    token = env.get(TOKEN_ENV) or file_token
    admins = b.get("admins", list, [])
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in admins):
        problems.append(f"bot.admins: expected a list of Telegram user ids (integers), got {admins!r}")
        admins = []
    api_base_url = b.get("api_base_url", str, "")
    _check_url(problems, "bot.api_base_url", api_base_url, required=False)
    default_timezone = b.get("default_timezone", str, "UTC")
    if not is_time_zone(default_timezone):
        problems.append(f"bot.default_timezone: unknown time zone {default_timezone!r} "
                        "(use an IANA name like \"Europe/Paris\")")
        default_timezone = "UTC"
    bot = BotConfig(token=token.strip(), admins=tuple(admins), api_base_url=api_base_url,
                    default_language=b.language("default_language", "en"),
                    default_timezone=default_timezone,
                    personal_topics=b.get("personal_topics", bool, False))
    b.finish()

    s = _Reader(problems, top.get("storage", dict, {}), "storage")
    database = s.get("database", str, StorageConfig.database)
    if not database.strip():
        problems.append("storage.database: must not be empty")
    storage = StorageConfig(database=database,
                            retention=s.duration("retention", StorageConfig.retention))
    s.finish()

    p = _Reader(problems, top.get("polling", dict, {}), "polling")
    polling = PollingConfig(
        interval=p.duration("interval", PollingConfig.interval),
        timeout=p.duration("timeout", PollingConfig.timeout),
        max_bytes=p.positive_int("max_bytes", PollingConfig.max_bytes),
        concurrency=p.positive_int("concurrency", PollingConfig.concurrency),
        allow_private_addresses=p.get("allow_private_addresses", bool, False),
        max_retry_after=p.duration("max_retry_after", PollingConfig.max_retry_after),
        max_new_entries=p.positive_int("max_new_entries", PollingConfig.max_new_entries),
    )
    if polling.concurrency > MAX_CONCURRENCY:
        problems.append(f"polling.concurrency: at most {MAX_CONCURRENCY}, got "
                        f"{polling.concurrency} (each feed fetched at once holds a connection "
                        "and up to polling.max_bytes in memory)")
    polling = replace(
        polling,
        adaptive=p.get("adaptive", bool, True),
        min_interval=p.duration("min_interval", None),
        max_interval=p.duration("max_interval", None),
        telegram_preview_url=p.get("telegram_preview_url", str, PollingConfig.telegram_preview_url),
    )
    low, high = polling.bounds
    if low > high:
        problems.append(f"polling.min_interval: {low:g}s is longer than "
                        f"polling.max_interval ({high:g}s)")
    _check_url(problems, "polling.telegram_preview_url", polling.telegram_preview_url,
               required=True)
    if polling.interval < 60:
        warnings.append(f"polling.interval: {polling.interval:g}s is below a minute; "
                        "fine for local feeds, impolite to public ones")
    p.finish()

    t = _Reader(problems, top.get("translation", dict, {}), "translation")
    provider = t.get("provider", str, "google")
    if provider not in PROVIDERS:
        problems.append(f"translation.provider: unknown provider {provider!r} "
                        f"(use {', '.join(PROVIDERS)})")
        provider = "none"
    base_url = t.get("base_url", str, "")
    _check_url(problems, "translation.base_url", base_url, required=False)
    file_key = t.get("api_key", str, "")
    api_key = env.get(TRANSLATION_KEY_ENV) or file_key
    if provider == "deepl" and not api_key:
        problems.append(f"translation.api_key: provider deepl needs an API key "
                        f"(or env {TRANSLATION_KEY_ENV})")
    if provider == "libre" and not base_url:
        warnings.append("translation.base_url: empty, so libre uses the public "
                        "LibreTranslate instance, which needs an API key")
    translation = TranslationConfig(provider=provider, base_url=base_url, api_key=api_key,
                                    timeout=t.duration("timeout", TranslationConfig.timeout))
    t.finish()

    websub = _parse_websub(problems, top.get("websub", dict, {}))
    surges = _parse_surges(problems, top.get("surges", dict, {}))
    st = _Reader(problems, top.get("stories", dict, {}), "stories")
    stories = StoriesConfig(window=st.duration("window", StoriesConfig.window))
    st.finish()
    h = _Reader(problems, top.get("health", dict, {}), "health")
    health = HealthConfig(report_after=h.duration("report_after", HealthConfig.report_after),
                          stale_after=h.duration("stale_after", HealthConfig.stale_after))
    h.finish()

    feeds = _parse_feeds(problems, warnings, top.get("feeds", list, []))
    topics = _parse_topics(problems, top.get("topics", list, []))
    top.finish()

    if problems:
        raise ConfigError(problems)
    return Config(bot=bot, storage=storage, polling=polling, translation=translation,
                  surges=surges, stories=stories, health=health, websub=websub, feeds=feeds,
                  topics=topics,
                  warnings=tuple(warnings))


def _parse_websub(problems: list[str], table: object) -> WebSubConfig:
    r = _Reader(problems, table, "websub")
    public_url = r.get("public_url", str, "").strip()
    _check_url(problems, "websub.public_url", public_url, required=False)
    listen = r.get("listen", str, WebSubConfig.listen).strip()
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        problems.append(f"websub.listen: {listen!r} is not HOST:PORT (e.g. 127.0.0.1:8470)")
    r.finish()
    return WebSubConfig(public_url=public_url, listen=listen)


def _parse_surges(problems: list[str], table: object) -> SurgesConfig:
    r = _Reader(problems, table, "surges")
    factor = r.get("factor", (int, float), SurgesConfig.factor)
    if factor < 1:
        problems.append(f"surges.factor: must be at least 1, got {factor}")
        factor = SurgesConfig.factor
    surges = SurgesConfig(enabled=r.get("enabled", bool, True),
                          window=r.duration("window", SurgesConfig.window),
                          min_entries=r.positive_int("min_entries", SurgesConfig.min_entries),
                          factor=float(factor))
    r.finish()
    return surges


def _parse_feeds(problems: list[str], warnings: list[str], items: list) -> tuple[FeedConfig, ...]:
    feeds: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        r = _Reader(problems, item, f"feeds[{i}]")
        url = r.get("url", str, "").strip()
        _check_url(problems, r.key("url"), url, required=True)
        language = r.language("language", None)
        if "language" not in r.table:
            problems.append(f"{r.key('language')}: required (en, fr or ru)")
        name = r.get("name", str, "")
        interval = r.duration("interval", None)
        r.finish()
        if url in seen:
            problems.append(f"{r.key('url')}: duplicate feed URL {url!r} (also feeds[{seen[url]}])")
        elif url:
            seen[url] = i
        if interval is not None and interval < 60:
            warnings.append(f"{r.key('interval')}: {interval:g}s is below a minute")
        feeds.append(FeedConfig(url=url, language=language or "en", name=name, interval=interval))
    return tuple(feeds)


def _parse_topics(problems: list[str], items: list) -> tuple[TopicConfig, ...]:
    topics: list[TopicConfig] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        r = _Reader(problems, item, f"topics[{i}]")
        name = r.get("name", str, "")
        if not name:
            problems.append(f"{r.key('name')}: required")
        elif not TOPIC_NAME.match(name):
            problems.append(f"{r.key('name')}: {name!r} is not a slug "
                            "(lower-case letters, digits, - and _)")
        elif name in seen:
            problems.append(f"{r.key('name')}: duplicate topic name {name!r} (also topics[{seen[name]}])")
        else:
            seen[name] = i
        title = r.get("title", str, "") or name
        queries: dict[str, str] = {}
        for language in LANGUAGES:
            query = r.get(language, str, None)
            if query is None:
                continue
            error = query_problem(query, language)
            if error:
                problems.append(f"{r.key(language)}: {error}")
            queries[language] = query
        if not queries and isinstance(item, dict):
            problems.append(f"topics[{i}]: needs a query for at least one of en, fr, ru")
        titles = {language: value.strip() for language in LANGUAGES
                  if (value := r.get(f"title_{language}", str, "")).strip()}
        r.finish()
        topics.append(TopicConfig(name=name, title=title, queries=queries, titles=titles))
    return tuple(topics)


# In the zone folder but not places: a zone that is always UTC with the abbreviation
# "-00" ("Factory"), the host's own setting, and the POSIX rule template.
_PSEUDO_ZONES = frozenset({"Factory", "localtime", "posixrules"})


@functools.cache
def _time_zones() -> dict[str, str]:
    """Every real IANA zone name, by its case-folded spelling."""
    from zoneinfo import available_timezones

    names = (available_timezones() - _PSEUDO_ZONES) | {"UTC"}
    return {name.casefold(): name for name in names}


def time_zone_named(name: str) -> str | None:
    """The IANA zone `name` stands for, as IANA spells it ("europe/paris" is
    "Europe/Paris"); None for anything that is not a real zone."""
    return _time_zones().get(name.casefold()) if name == name.strip() else None


def is_time_zone(name: str) -> bool:
    """Whether `name` is spelled as a real IANA time zone (Europe/Paris, UTC, ...)."""
    return time_zone_named(name) == name


def query_problem(query: str, language: str) -> str | None:
    """The query parser's own message for a malformed query, else None."""
    from bot.matching.query import QueryError, parse_query

    try:
        parse_query(query, language)
    except QueryError as exc:
        return str(exc)
    return None


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file; ConfigError (one line per problem) if unusable."""
    env = os.environ if env is None else env
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Windows editors start UTF-8 with a BOM
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such config file (copy config.example.toml)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse_config(data, env)
