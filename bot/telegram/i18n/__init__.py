"""Every user-facing string of the bot, by language: `t(lang, key, **values)`.

The catalogs are `en.toml`, `fr.toml`, `ru.toml` beside this file; nested tables
become dotted keys (`[subscribe] done = ...` is `subscribe.done`). A key missing
from a language falls back to English, so a new string never shows a raw key.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources

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
