"""Bad databases and configs at `check`, `run` and `preview`: one line, exit 2, no traceback."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store.db import SCHEMA_VERSION
from tests.fakes.feeds import FeedServer, fixture

COMMANDS = (("check",), ("run", "--console"))


def cli(*args: str, cwd: Path, wrap: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*wrap, sys.executable, "-m", "bot", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})


def config_with(tmp_path: Path, database: Path, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\ndatabase = "{database}"\n[translation]\nprovider = "none"\n'
                    f"{extra}")
    return path


def assert_one_line_exit_2(result: subprocess.CompletedProcess, words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(words, lines[0]), result.stderr
    assert "Traceback" not in result.stderr


def made_database(path: Path, version: int = 0) -> Path:
    with sqlite3.connect(path) as conn:  # a database an earlier run left
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        if version:
            conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_from_a_newer_version(tmp_path, command):
    database = made_database(tmp_path / "db.sqlite3", SCHEMA_VERSION + 1)
    result = cli(*command, "--config", str(config_with(tmp_path, database)), cwd=tmp_path)
    assert_one_line_exit_2(result, "newer than this coverage-bot understands")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_file_that_is_not_a_database(tmp_path, command):
    database = tmp_path / "db.sqlite3"
    database.write_bytes(b"not a database at all" * 100)
    result = cli(*command, "--config", str(config_with(tmp_path, database)), cwd=tmp_path)
    assert_one_line_exit_2(result, "file is not a database")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_where_the_database_should_be(tmp_path, command):
    (tmp_path / "db.sqlite3").mkdir()
    result = cli(*command, "--config", str(config_with(tmp_path, tmp_path / "db.sqlite3")),
                 cwd=tmp_path)
    assert_one_line_exit_2(result, "database")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_locked_database(tmp_path, command):
    database = made_database(tmp_path / "db.sqlite3")
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program in the middle of a long write
    try:
        result = cli(*command, "--config", str(config_with(tmp_path, database)), cwd=tmp_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_one_line_exit_2(result, "database is locked")


def read_only_mount(folder: Path) -> tuple[str, ...]:
    """A command prefix that runs the rest with `folder` mounted read-only, in a mount
    namespace of its own; root ignores file permissions, so this is how to be refused."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("needs unshare(1) to mount a folder read-only")
    probe = subprocess.run([unshare, "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode().strip()}")
    return (unshare, "-m", "sh", "-c",
            f'mount --bind "{folder}" "{folder}" && mount -o remount,ro,bind "{folder}" '
            '&& exec "$0" "$@"')


@pytest.mark.parametrize("command", COMMANDS)
def test_a_read_only_database(tmp_path, command):
    folder = tmp_path / "ro"
    folder.mkdir()
    database = made_database(folder / "db.sqlite3")
    config = config_with(tmp_path, database)
    result = cli(*command, "--config", str(config), cwd=tmp_path, wrap=read_only_mount(folder))
    assert_one_line_exit_2(result, "readonly database|Read-only file system")


@pytest.mark.parametrize("command", (*COMMANDS, ("preview",)))
@pytest.mark.parametrize("extra, words", [
    ("[polling]\ninterval = nan\n", "polling.interval: a duration must be a finite number"),
    ("[polling]\ntimeout = inf\n", "polling.timeout: a duration must be a finite number"),
    ('[[feeds]]\nurl = "http://[::1/feed"\nlanguage = "en"\n', r"feeds\[0\].url: malformed URL"),
    ('[[feeds]]\nurl = "http://a.example:99999/f"\nlanguage = "en"\n',
     "Port out of range 0-65535"),
])
def test_a_bad_config_at_every_command(tmp_path, command, extra, words):
    config = config_with(tmp_path, tmp_path / "db.sqlite3", extra)
    assert_one_line_exit_2(cli(*command, "--config", str(config), cwd=tmp_path), words)


def test_preview_exits_0_when_every_feed_was_read(tmp_path):
    with FeedServer() as server:
        url = server.add("/fr.xml", fixture("fr-monde.xml"))
        config = config_with(tmp_path, tmp_path / "db.sqlite3",
                             f'[polling]\nallow_private_addresses = true\n'
                             f'[[feeds]]\nurl = "{url}"\nlanguage = "fr"\n')
        result = cli("preview", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def damaged_database(path: Path) -> Path:
    """A database an earlier run left, then one page of its data overwritten (a bad disk
    or a torn copy): the header and the schema still read."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT)")
        conn.executemany("INSERT INTO filler (text) VALUES (?)", [("x" * 500,)] * 200)
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    at = (pages - 3) * page_size  # a leaf page of filler's
    data[at:at + page_size] = b"\xa5" * page_size
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_with_damaged_pages(tmp_path, command):
    database = damaged_database(tmp_path / "db.sqlite3")
    result = cli(*command, "--config", str(config_with(tmp_path, database)), cwd=tmp_path)
    assert_one_line_exit_2(result, r"db\.sqlite3 is damaged \(.*Page \d+.*\); restore a backup")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_stamped_by_a_newer_version(tmp_path, command):
    database = made_database(tmp_path / "db.sqlite3")
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    result = cli(*command, "--config", str(config_with(tmp_path, database)), cwd=tmp_path)
    assert_one_line_exit_2(result, "schema version 999, newer than this coverage-bot")


def test_a_config_that_starts_with_a_utf8_bom_is_read(tmp_path):
    config = config_with(tmp_path, tmp_path / "db.sqlite3")
    config.write_bytes(b"\xef\xbb\xbf" + config.read_bytes())
    result = cli("check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
