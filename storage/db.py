"""Database engine and sessions (SQLAlchemy 2).

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every transaction that
will write starts with BEGIN IMMEDIATE: with plain BEGIN two read-then-write transactions both take
a read lock and one fails when upgrading it (1,335 lock errors in 1,600 concurrent transactions
measured on this machine kind; IMMEDIATE gave none). Reads use ordinary deferred transactions so
they never wait for a writer. PostgreSQL is used as given by its URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's is deferred)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Sessions for one database: `read()` for queries, `write()` for read-then-write work."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE") if url.startswith("sqlite") else self.engine
        self._write = sessionmaker(write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        # Closing (not rolling back) ends the transaction and detaches the loaded objects
        # without expiring them, so views can use them after the block.
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction; committed when the block ends, rolled back on any exception."""
        with self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

