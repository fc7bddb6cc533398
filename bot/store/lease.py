"""One service per database: `run` holds an exclusive lock on `<database>.lock` while it lives.

The kernel releases the lock when the process dies however it dies, so a
SIGKILLed service's database is taken over by the next start; a second
service started while the first is alive is refused.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseHeld(Exception):
    """Another live service uses this database; the message is one line for the user."""


class Lease:
    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    @classmethod
    def take(cls, database: str) -> Lease | None:
        """Hold the database for this process; None for an in-memory database."""
        if database == ":memory:":
            return None
        path = Path(database).expanduser().resolve().with_name(Path(database).name + ".lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            return None  # no such folder: opening the database says so
        except OSError as exc:
            raise DatabaseHeld(f"cannot lock database {database}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DatabaseHeld(f"database {database} is in use by another coverage-bot "
                               f"service (pid {holder}); stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the only descriptor drops the lock
            self._fd = -1
