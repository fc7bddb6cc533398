"""The one SQLite connection: WAL, foreign keys, versioned migrations, transactions.

Every state change of the service goes through `Database.transaction()`, which
serialises writers on one connection so a transaction is never interleaved with
another coroutine's statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import aiosqlite


class DatabaseError(Exception):
    """The database cannot be used: unreadable, not SQLite, or from a newer version."""


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("bot.store") / "migrations"
    found = []
    for item in folder.iterdir():
        name = item.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), item.read_text(encoding="utf-8")))
    return sorted(found)


MIGRATIONS = _migrations()
SCHEMA_VERSION = MIGRATIONS[-1][0]


def check_database(path: str | Path) -> None:
    """DatabaseError (one line) if the service could not use the database at `path`:
    a missing folder, a file that is not SQLite, a newer schema, read-only or locked.
    Creates and changes nothing: for `coverage-bot check`."""
    path = str(path)
    file = Path(path).expanduser()
    if not file.resolve().parent.is_dir():
        raise DatabaseError(f"cannot open database {path}: folder "
                            f"{file.resolve().parent} does not exist")
    if not file.exists():
        return  # created on first run
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=rw", uri=True,
                               isolation_level=None, timeout=5.0)
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open database {path}: {exc}") from None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        if "schema_version" in tables:
            current = max(current, conn.execute(
                "SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
        if current > SCHEMA_VERSION:
            raise DatabaseError(_newer(path, current))
        _refuse_damage(path, [row[0] for row in conn.execute(QUICK_CHECK)])
        conn.execute("BEGIN IMMEDIATE")  # as Database._check_writable
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {int(version)}")
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot use database {path}: {exc}") from None
    finally:
        conn.close()


# Each page's structure, not the indexes' contents: linear in the file's size, the
# damage a crash, a full disk or a bad copy leaves. The first problem is enough to say.
QUICK_CHECK = "PRAGMA quick_check(1)"


def _refuse_damage(path: str, found: list[str]) -> None:
    """DatabaseError if `PRAGMA quick_check` found anything but "ok"."""
    if found != ["ok"]:
        problem = " ".join(" ".join(found).split())[:200]
        raise DatabaseError(f"database {path} is damaged ({problem}); restore a backup, "
                            f"or salvage it with: sqlite3 {path} .recover")


def _open_and_close(path: str) -> None:
    sqlite3.connect(path).close()


def _newer(path: str, current: int) -> str:
    return (f"database {path} has schema version {current}, newer than this "
            f"coverage-bot understands ({SCHEMA_VERSION}); upgrade coverage-bot")


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating if needed) and migrate; DatabaseError with a one-line reason."""
        path = str(path)
        if path != ":memory:":
            parent = Path(path).expanduser().resolve().parent
            if not parent.is_dir():
                raise DatabaseError(f"cannot open database {path}: folder {parent} does not exist")
        try:
            # Opened once plainly first: aiosqlite's thread outlives a failed connect and
            # then reports into a closed event loop, a traceback after our one line.
            await asyncio.to_thread(_open_and_close, path)
            conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open database {path}: {exc}") from None
        conn.row_factory = aiosqlite.Row
        db = cls(conn, path)
        try:
            await db._configure()
            await db._check_intact()
            await db._migrate()
            await db._check_writable()
        except sqlite3.DatabaseError as exc:
            await conn.close()
            raise DatabaseError(f"cannot use database {path}: {exc}") from None
        except DatabaseError:
            await conn.close()
            raise
        return db

    async def _check_writable(self) -> None:
        """Fail now, in one line, on a read-only or locked file, not at the first write."""
        # BEGIN IMMEDIATE waits busy_timeout for a lock holder; a write that changes
        # nothing and is rolled back is refused at once on a file opened read-only.
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = await (await self.conn.execute("PRAGMA user_version")).fetchone()
            await self.conn.execute(f"PRAGMA user_version = {int(row[0])}")
        finally:
            await self.conn.execute("ROLLBACK")

    async def _check_intact(self) -> None:
        """Refuse a damaged file now, in one line: started on one, every poll would fail
        and be charged to the feeds."""
        rows = await (await self.conn.execute(QUICK_CHECK)).fetchall()
        _refuse_damage(self.path, [row[0] for row in rows])

    async def _configure(self) -> None:
        await self.conn.execute("PRAGMA journal_mode=WAL")
        await self.conn.execute("PRAGMA foreign_keys=ON")
        await self.conn.execute("PRAGMA synchronous=NORMAL")
        await self.conn.execute("PRAGMA busy_timeout=5000")

    async def _migrate(self) -> None:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
        )
        rows = await (await self.conn.execute("SELECT version FROM schema_version")).fetchall()
        applied = {row[0] for row in rows}
        # user_version too: the header field other tools read (and a newer release may set
        # without a row we would know).
        stamped = (await (await self.conn.execute("PRAGMA user_version")).fetchone())[0]
        current = max(applied | {stamped})
        if current > SCHEMA_VERSION:
            raise DatabaseError(_newer(self.path, current))
        for version, script in MIGRATIONS:
            # By set, not by the highest: migrations numbered in parallel may land out of
            # order, and a database already at 009 must still get a later-landed 007.
            if version in applied:
                continue
            current = max(current, version)
            # executescript commits on its own; wrap it so a failed migration
            # leaves the previous version intact.
            await self.conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_version (version) VALUES ({version});\n"
                f"PRAGMA user_version = {current};\nCOMMIT;"
            )
        if stamped != current:  # a file migrated before the stamp existed
            await self.conn.execute(f"PRAGMA user_version = {current}")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One atomic unit of work; commits on exit, rolls back on any exception."""
        async with self._lock:
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                await self.conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        """Undo what is left of a failed transaction, keeping the failure that is being raised:
        SQLite has already rolled back after some errors (disk full, I/O), and a COMMIT that
        failed may leave the transaction open. Asked whether a transaction is open, the
        connection could say no while a cancelled caller's BEGIN still waits in its thread:
        the ROLLBACK, queued behind it, ends whatever is open then."""
        with contextlib.suppress(sqlite3.Error):
            await self.conn.execute("ROLLBACK")

    async def execute(self, sql: str, params: tuple | dict = ()) -> int:
        """One write statement, atomic on its own (one round trip instead of a
        transaction's three); the number of rows it changed."""
        async with self._lock:
            cursor = await self.conn.execute(sql, params)
            return cursor.rowcount

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[aiosqlite.Row]:
        async with self._lock:
            cursor = await self.conn.execute(sql, params)
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> aiosqlite.Row | None:
        async with self._lock:
            cursor = await self.conn.execute(sql, params)
            return await cursor.fetchone()

    async def close(self) -> None:
        await self.conn.close()
