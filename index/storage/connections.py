"""One SQLite connection per thread for a database file, in WAL mode.

Each thread reads and writes through its own connection, so a background reindex never
shares a transaction with a question being answered, and readers keep reading the last
committed state while a writer works. Used by the store and the embedding cache.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

# Reads go through a memory map of up to this much of the file instead of read() calls:
# answering a question reads a few hundred scattered rows (sentence vectors, passages), and
# mapped reads took 1.2 ms off a cold question at p50 (bench/bench_index.py). SQLite still
# writes with write() (no SQLITE_MMAP_READWRITE), so durability is unchanged.
MMAP_BYTES = 1 << 30

class PerThreadDatabase:
    """`connection` gives this thread's sqlite3 connection to `path`, `database` the same
    connection wrapped in a sqlite-utils Database (for its table API); `close` closes all.

    Statements go straight to the connection (sqlite-utils' `execute` is the same call):
    importing sqlite-utils costs about 70 ms, which a `citebot ask` does not pay unless
    the store has to be created or migrated.
    """

    def __init__(self, path: Path, *, foreign_keys: bool = False) -> None:
        self.path = path
        self._foreign_keys = foreign_keys
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False,
                                         isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            connection.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            if self._foreign_keys:
                connection.execute("PRAGMA foreign_keys=ON")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @property
    def database(self) -> sqlite_utils.Database:
        database = getattr(self._local, "db", None)
        if database is None:
            import sqlite_utils

            # No sqlite-utils plugins are used; looking for them scans every installed
            # package's entry points (~0.1 s).
            database = sqlite_utils.Database(self.connection, execute_plugins=False)
            self._local.db = database
        return database

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
