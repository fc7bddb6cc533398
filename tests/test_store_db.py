"""The database: WAL, foreign keys, versioned migrations, and clear refusals."""

import asyncio
import sqlite3

import pytest

from bot.store.db import SCHEMA_VERSION, Database, DatabaseError


async def test_new_database_is_migrated_to_the_latest_version_in_wal_mode(tmp_path):
    db = await Database.open(tmp_path / "a.sqlite3")
    assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    assert (await db.fetchone("SELECT MAX(version) FROM schema_version"))[0] == SCHEMA_VERSION
    await db.close()
    # Reopening migrates nothing twice.
    db = await Database.open(tmp_path / "a.sqlite3")
    versions = [row[0] for row in await db.fetchall("SELECT version FROM schema_version")]
    assert len(versions) == len(set(versions))
    await db.close()


async def test_a_migration_that_landed_after_a_higher_one_is_still_applied(tmp_path):
    path = tmp_path / "gap.sqlite3"
    await (await Database.open(path)).close()
    with sqlite3.connect(path) as conn:  # as if built before migration 007 existed
        conn.execute("DROP TABLE topic_titles")
        conn.execute("ALTER TABLE chats DROP COLUMN timezone")
        conn.execute("DELETE FROM schema_version WHERE version = 7")
    db = await Database.open(path)
    assert (await db.fetchone("SELECT COUNT(*) FROM topic_titles"))[0] == 0
    assert (await db.fetchone("SELECT COUNT(*) FROM schema_version WHERE version = 7"))[0] == 1
    await db.close()


async def test_a_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    await (await Database.open(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(DatabaseError, match="newer than this coverage-bot understands"):
        await Database.open(path)


async def test_a_file_that_is_not_sqlite_is_refused_in_one_line(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"definitely not sqlite" * 200)
    with pytest.raises(DatabaseError) as info:
        await Database.open(path)
    assert "\n" not in str(info.value) and "junk.sqlite3" in str(info.value)


async def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(DatabaseError, match="does not exist"):
        await Database.open(tmp_path / "nowhere" / "db.sqlite3")


async def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    db = await Database.open(tmp_path / "t.sqlite3")
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO counters (name, value) VALUES ('x', 1)")
            raise RuntimeError("boom")
    assert await db.fetchall("SELECT * FROM counters WHERE name = 'x'") == []
    await db.close()


async def test_a_transaction_cancelled_as_it_begins_leaves_none_open(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")

    async def work() -> None:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE never (x)")

    task = asyncio.create_task(work())
    await asyncio.sleep(0)  # it now waits for its BEGIN, which the connection's thread runs
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.transaction() as conn:  # not "cannot start a transaction within a transaction"
        await conn.execute("CREATE TABLE kept (x)")
    tables = await db.fetchall("SELECT name FROM sqlite_master WHERE name IN ('never', 'kept')")
    assert [row[0] for row in tables] == ["kept"] and not db.conn.in_transaction
    await db.close()


async def test_the_file_is_stamped_with_its_schema_version_for_other_tools(tmp_path):
    path = tmp_path / "stamped.sqlite3"
    await (await Database.open(path)).close()
    with sqlite3.connect(path) as conn:  # as migrated before the stamp existed
        conn.execute("PRAGMA user_version = 0")
    conn.close()
    db = await Database.open(path)
    assert (await db.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
    await db.close()


async def test_a_file_stamped_by_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    await (await Database.open(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(DatabaseError, match="schema version 999, newer than"):
        await Database.open(path)
