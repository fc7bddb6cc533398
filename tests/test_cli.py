"""`coverage-bot preview` and `coverage-bot run --console` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from email.utils import formatdate
from pathlib import Path

from tests.fakes.feeds import FeedServer, fixture, refused_url

REPO = Path(__file__).resolve().parents[1]

TOPICS = """
[[topics]]
name = "oreshnik"
title = "The Oreshnik missile"
en = "oreshnik"
fr = "oreshnik OR orechnik"
ru = "орешник"

[[topics]]
name = "troops-ukraine"
title = "Western troops in Ukraine"
en = "(troops OR soldiers) AND ukraine"
fr = "(troupes OR soldats) AND ukraine"
"""


def write_config(folder: Path, feeds: list[tuple[str, str]], extra: str = "") -> Path:
    body = "".join(f'[[feeds]]\nurl = "{url}"\nlanguage = "{lang}"\nname = "{lang} feed"\n'
                   for url, lang in feeds)
    path = folder / "config.toml"
    path.write_text(f"""
[storage]
database = "{folder / 'cli.sqlite3'}"
[polling]
interval = "0.3s"
adaptive = false  # the fixtures' entries are dated days apart; here feeds change at once
timeout = "3s"
allow_private_addresses = true
[translation]
provider = "none"
{extra}
{body}
{TOPICS}
""", encoding="utf-8")
    return path


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_BOT_")}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_preview_json_lists_each_match_with_its_terms_and_stores_nothing(tmp_path):
    with FeedServer() as server:
        fr = server.add("/fr.xml", fixture("fr-monde.xml"))
        en = server.add("/en.xml", fixture("en-bbc.atom.xml"), content_type="application/atom+xml")
        config = write_config(tmp_path, [(fr, "fr"), (en, "en")])
        result = cli("preview", "--json", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows, result.stdout
    for row in rows:
        assert set(row) == {"topic", "feed", "language", "link", "title", "terms", "story"}
        assert row["terms"] and row["story"] >= 1
    story_of = {}
    for row in rows:  # an entry matched by two topics is in one story
        assert story_of.setdefault(row["link"], row["story"]) == row["story"]
    found = {(r["topic"], r["feed"]) for r in rows}
    assert ("oreshnik", fr) in found and ("oreshnik", en) in found
    assert ("troops-ukraine", fr) in found
    oreshnik_fr = [r for r in rows if r["topic"] == "oreshnik" and r["feed"] == fr]
    assert all(r["language"] == "fr" and "oreshnik" in r["terms"] for r in oreshnik_fr)
    assert not (tmp_path / "cli.sqlite3").exists()  # preview stores nothing


def test_preview_topic_filter_and_unknown_topic(tmp_path):
    with FeedServer() as server:
        fr = server.add("/fr.xml", fixture("fr-monde.xml"))
        config = write_config(tmp_path, [(fr, "fr")])
        only = cli("preview", "--json", "--topic", "oreshnik", "--config", str(config),
                   cwd=tmp_path)
        text = cli("preview", "--config", str(config), cwd=tmp_path)
        unknown = cli("preview", "--topic", "nope", "--config", str(config), cwd=tmp_path)
    assert {json.loads(line)["topic"] for line in only.stdout.splitlines()} == {"oreshnik"}
    assert "[troops-ukraine]" in text.stdout and "matched:" in text.stdout
    assert unknown.returncode == 2
    assert "unknown topic 'nope'" in unknown.stderr and "Traceback" not in unknown.stderr


def test_preview_reports_a_broken_feed_in_one_line_and_goes_on(tmp_path):
    with FeedServer() as server:
        fr = server.add("/fr.xml", fixture("fr-monde.xml"))
        gone = server.add("/gone.xml", b"not here", status=404)
        config = write_config(tmp_path, [(gone, "en"), (refused_url(), "ru"), (fr, "fr")])
        result = cli("preview", "--json", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1  # SPEC: any feed that could not be read
    assert any(json.loads(line)["feed"] == fr for line in result.stdout.splitlines())
    problems = [line for line in result.stderr.splitlines() if line.startswith("coverage-bot:")]
    assert len(problems) == 2
    assert any(p.endswith("HTTP 404 Not Found") for p in problems)
    assert any(p.endswith("connection refused") for p in problems)
    assert "Traceback" not in result.stderr


def test_run_console_prints_new_matches_without_a_token(tmp_path):
    rss = fixture("fr-monde.xml")
    with FeedServer() as server:
        fr = server.add("/fr.xml", rss)
        config = write_config(tmp_path, [(fr, "fr")], extra='[bot]\ndefault_language = "fr"')
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_BOT_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--console", "--config", str(config)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60  # hang guards: a busy machine starts slowly
            while server.hits("/fr.xml") < 2:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            item = (f"<item><title>Orechnik : une nouvelle frappe</title>"
                    f"<link>https://www.lemonde.fr/orechnik_7.html</link>"
                    f"<pubDate>{formatdate()}</pubDate></item>").encode()
            head, sep, tail = rss.partition(b"<item>")
            server.change("/fr.xml", body=head + item + sep + tail)
            hits = server.hits("/fr.xml")
            deadline = time.monotonic() + 60
            while server.hits("/fr.xml") < hits + 4:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        finally:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out.count("Orechnik : une nouvelle frappe") == 1, out
    assert "The Oreshnik missile" in out
    assert "https://www.lemonde.fr/orechnik_7.html" in out
    assert "Traceback" not in err


def test_unreadable_database_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "db.sqlite3").write_bytes(b"this is not a database" * 100)
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{tmp_path / "db.sqlite3"}"\n')
    result = cli("run", "--console", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot use database" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_token_telegram_refuses_is_one_line_and_exit_2(tmp_path):
    from tests.fakes.bot_api import FakeBotAPI

    with FakeBotAPI() as api:
        config = tmp_path / "config.toml"
        config.write_text(f'[bot]\ntoken = "999:wrong"\napi_base_url = "{api.base_url}"\n'
                          f'[storage]\ndatabase = "{tmp_path / "db.sqlite3"}"\n')
        result = cli("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "Telegram refused the bot token" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_bot_api_is_waited_for_and_sigterm_still_stops(tmp_path):
    config = tmp_path / "config.toml"
    base = refused_url().rsplit("/", 1)[0]
    config.write_text(f'[bot]\ntoken = "1:x"\napi_base_url = "{base}/bot"\n'
                      f'[storage]\ndatabase = "{tmp_path / "db.sqlite3"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_BOT_")}
    process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--config", str(config)],
                               cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: [lines.append(line) for line in process.stderr])
    reader.start()
    # Started (its signal handlers are in place before it first tries the Bot API).
    deadline = time.monotonic() + 60
    while not any("cannot reach the Telegram Bot API" in line for line in lines):
        assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
        time.sleep(0.05)
    time.sleep(2.5)  # past the first retry: still waiting, not crashed
    assert process.poll() is None, "".join(lines)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    reader.join(timeout=20)
    err = "".join(lines)
    assert "cannot reach the Telegram Bot API" in err
    assert "Traceback" not in err
