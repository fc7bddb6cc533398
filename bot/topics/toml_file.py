"""Topics as the TOML `[[topics]]` tables of config.toml, so /export output pastes into the file."""

from __future__ import annotations

import json

from bot.model import LANGUAGES, Topic


def _toml_string(value: str) -> str:
    # JSON string escapes (\" \\ \n \uXXXX) are all valid TOML basic-string escapes;
    # TOML also wants DEL escaped, and UTF-8 cannot hold a lone surrogate at all.
    value = value.encode("utf-8", "replace").decode("utf-8")
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def write_topics_toml(topics: list[Topic]) -> bytes:
    lines = ["# coverage-bot topics: paste into config.toml or keep as a backup.", ""]
    for topic in topics:
        lines.append("[[topics]]")
        lines.append(f"name = {_toml_string(topic.name)}")
        lines.append(f"title = {_toml_string(topic.title)}")
        for language in LANGUAGES:
            if topic.titles.get(language, topic.title) != topic.title:
                lines.append(f"title_{language} = {_toml_string(topic.titles[language])}")
        for language in LANGUAGES:
            if language in topic.queries:
                lines.append(f"{language} = {_toml_string(topic.queries[language])}")
        lines.append("")
    return "\n".join(lines).encode("utf-8")
