"""Every user-facing string of the bot, by language: `t(lang, key, **values)`.

The catalogs are `en.toml`, `fr.toml`, `ru.toml` beside this file; nested tables
become dotted keys (`[subscribe] done = ...` is `subscribe.done`). A key missing
from a language falls back to English, so a new string never shows a raw key.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources

from bot.locale_format import format_number
from bot.model import LANGUAGES

FALLBACK = "en"


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """The flattened strings of one language."""
    text = resources.files(__package__).joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(text))


def t(lang: str, key: str, **values: object) -> str:
    """The string `key` in `lang` (English if unknown there), with `values` filled in."""
    if lang not in LANGUAGES:
        lang = FALLBACK
    text = catalog(lang).get(key)
    if text is None:
        text = catalog(FALLBACK)[key]
    return text.format(**values)


def plural_form(lang: str, n: int) -> str:
    """'one', 'few' or 'many': which form of a counted word `n` takes in `lang`.

    Russian has three (1 язык, 2 языка, 5 языков; 11-14 take 'many', 21 'one');
    French uses the singular for 0 and 1; English for 1 only ('few' is 'many' there).
    """
    n = abs(n)
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    if lang == "fr":
        return "one" if n < 2 else "many"
    return "one" if n == 1 else "many"


def plural(lang: str, key: str, n: int, **values: object) -> str:
    """A counted phrase: `key` is a table of `one`, `few` and `many` forms, each with
    `{n}` (`[surge] languages = { one = "{n} language", ... }`), written as `lang` writes
    numbers (12,345 · 12 345)."""
    if lang not in LANGUAGES:
        lang = FALLBACK
    return t(lang, f"{key}.{plural_form(lang, n)}", n=format_number(n, lang, decimals=0),
             **values)
