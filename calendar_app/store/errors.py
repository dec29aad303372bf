"""Database failures, split into "the environment's fault" (the user can act) and bugs.

Every sqlite3 error that crosses the store's boundary is translated here, so callers show one
clear sentence instead of a traceback.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StoreError(Exception):
    """A database problem the user can do something about. `str()` is the whole message."""


class DatabaseLockedError(StoreError):
    pass


class DatabaseReadOnlyError(StoreError):
    pass


class DatabaseFullError(StoreError):
    pass


class DatabaseCorruptError(StoreError):
    pass


class DatabaseUnavailableError(StoreError):
    pass


class DatabaseTooNewError(StoreError):
    pass


# SQLite primary result codes (https://www.sqlite.org/rescode.html)
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26


def translate(error: sqlite3.Error, path: Path) -> Exception:
    """Map an sqlite3 error to a StoreError with an actionable message; programming errors
    (bad SQL, constraint violations we did not expect) come back unchanged as bugs."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error).lower()
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text:
        return DatabaseLockedError(
            f"The calendar database {path} is locked by another program (another calendar-app window?). "
            "Close it and try again; nothing was saved."
        )
    if primary == _SQLITE_READONLY or "readonly" in text or "read-only" in text:
        return DatabaseReadOnlyError(
            f"The calendar database {path} is read-only. Give your user write access to it and to its "
            "folder, then try again; nothing was saved."
        )
    if primary == _SQLITE_FULL or "disk is full" in text:
        return DatabaseFullError(
            f"The disk holding {path} is full. Free some space and try again; nothing was saved."
        )
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
        return DatabaseCorruptError(
            f"The calendar database {path} is damaged or is not a calendar-app database. Move it aside "
            "(your Exchange calendar will be downloaded again on the next sync) and restart; "
            "appointments not yet synced are only in the damaged file."
        )
    if primary in (_SQLITE_CANTOPEN, _SQLITE_PERM, _SQLITE_IOERR) or "unable to open" in text:
        return DatabaseUnavailableError(
            f"The calendar database {path} cannot be opened ({error}). Check that its folder exists "
            "and that your user may write there."
        )
    return error
