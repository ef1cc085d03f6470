"""Engines for SQLite (WAL, one writer at a time) and PostgreSQL, and schema upgrades."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)

from orderhub.crypto import Cipher
from orderhub.domain.errors import ConfigurationError
from orderhub.observability import get_logger, metrics
from orderhub.store.cache import TtlCache

__all__ = [
    "JOBS_CHANNEL",
    "WAL_PAGES_BEFORE_A_WRITER_CHECKPOINTS",
    "Database",
    "JobsListener",
    "Queued",
    "committed_together",
    "heard",
    "is_transient",
    "make_engine",
    "notice",
    "sent_together",
    "upgrade_schema",
]

JOBS_CHANNEL = "orderhub_jobs"
WAL_PAGES_BEFORE_A_WRITER_CHECKPOINTS = 16_384
"""SQLite: how long the write-ahead log may grow (in pages, 64 MB at SQLite's 4 KB)
before the transaction that commits past it copies the log into the database itself.
SQLite's default, 1,000 pages, makes a writer do that every few hundred orders in a
burst, every other writer in the process waiting behind it; a running worker copies
the log from a thread of its own instead (`Database.checkpoint_until`), and this is
only the bound for a process that runs none."""
_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open on the connection
_PIPELINE_OFF = 0  # libpq's PQ_PIPELINE_OFF: the connection is not in pipeline mode
Queued = dict[str, float | None] | None
"""Jobs queued: per kind, when the first of them falls due (None: not known); None for
the whole when a job of any kind may have been queued."""
JobsListener = Callable[[Queued], None]
MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)


def make_engine(url: str, *, pool_size: int = 20) -> Engine:
    """An engine tuned for the hub; SQLite gets WAL and immediate write transactions.

    The pool opens a connection when none is free, up to `pool_size`, and keeps every
    connection it opened. Connections opened beyond a kept number and closed when given
    back would be opened again by the next burst: on PostgreSQL a new server process
    each, with its caches cold (a burst of webhooks: 315-370 accepted a second with 10
    kept and 10 more opened and closed, against 513-515 with 20 kept)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"the database URL {url!r} is not valid") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private(Path(parsed.database))
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 60},
            pool_size=pool_size,
            max_overflow=0,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES_BEFORE_A_WRITER_CHECKPOINTS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Writers take the write lock up front (no deadlock on lock upgrade); readers
            # don't take it at all, so they never queue behind writers.
            # Straight to the driver: this runs for every transaction.
            options = conn.get_execution_options()
            if options.get("orderhub_one_read", False):
                return  # one read statement sees a snapshot of its own without BEGIN
            read_only = options.get("orderhub_read_only", False)
            conn.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

        _count_work(engine, explicit_begin=True)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # No ping before each checkout (a round trip per transaction): a connection that
        # broke (the server restarted) fails its first statement, the pool drops every
        # connection older than that, and the work is tried again (the worker retries
        # it, the API answers 503 and the platform resends).
        engine = create_engine(parsed, pool_size=pool_size, max_overflow=0)
        _count_work(engine, explicit_begin=False)
        return engine
    raise ConfigurationError(
        f"orderhub runs on SQLite or PostgreSQL, not {parsed.get_backend_name()!r}"
    )


@contextmanager
def sent_together(conn: Connection) -> Iterator[None]:
    """Writes whose results nothing reads, sent to PostgreSQL one after another without
    waiting for each answer (psycopg's pipeline mode): the answers come back together
    at the end of the block, and an error in any of them is raised there. Nothing in
    the block may read a result (a row count, RETURNING). SQLite runs them as they come.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    driver: Any = conn.connection.driver_connection
    if driver.pgconn.pipeline_status != _PIPELINE_OFF:
        yield  # inside statements already sent together: they go with those
        return
    driver_error: Any = conn.dialect.loaded_dbapi.Error
    try:
        with driver.pipeline():
            yield
    except driver_error as exc:
        # Raised by the driver, past SQLAlchemy: given the same form as any statement's
        # error, and a lost connection is not handed out again.
        if conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None):
            conn.invalidate(exc)
        raise DBAPIError.instance("(statements sent together)", None, exc, driver_error) from exc


@contextmanager
def committed_together(conn: Connection, *, sending: bool = True) -> Iterator[None]:
    """A transaction's last writes and its COMMIT, sent to PostgreSQL together: one round
    trip where each write and the COMMIT took one of their own. As in `sent_together`,
    nothing in the block may read a result, and an error in any statement is raised at
    its end, with the transaction left to be rolled back. When the block ends without
    one, the transaction is committed, and the caller's commit only closes it on
    SQLAlchemy's side (the driver finds nothing left to commit). `sending`: whether the
    block may send anything (a transaction that has not begun and sends nothing has
    nothing to commit). SQLite runs the statements as they come, and the caller's
    commit commits.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    driver: Any = conn.connection.driver_connection
    if driver.autocommit or (driver.pgconn.transaction_status == _IDLE and not sending):
        yield  # each statement commits as it runs, or nothing is sent at all
        return
    with sent_together(conn):
        yield
        if driver.pgconn.transaction_status != _IDLE:  # the block began the transaction
            driver.execute("COMMIT")


def _count_work(engine: Engine, *, explicit_begin: bool) -> None:
    """Count the statements and transactions the engine runs (`/metrics`), so the cost of
    an order in round trips can be read off a running hub.

    An executemany is one statement. The BEGIN that SQLite's transactions send as a
    statement of their own is not counted (PostgreSQL's driver sends it unseen): the
    transaction is, when it ends.
    """
    statements = metrics.db_statements
    commits = metrics.db_transactions.labels("commit")
    rollbacks = metrics.db_transactions.labels("rollback")

    if explicit_begin:

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            if not statement.startswith("BEGIN"):
                statements.inc()

    else:

        @event.listens_for(engine, "before_cursor_execute")
        def _any_statement(*_args: Any) -> None:
            statements.inc()

    @event.listens_for(engine, "commit")
    def _commit(_conn: Any) -> None:
        commits.inc()

    @event.listens_for(engine, "rollback")
    def _rollback(_conn: Any) -> None:
        rollbacks.inc()


def _create_private(path: Path) -> None:
    """Create a new SQLite file readable by its owner only (0600), in a folder that
    must exist: a mistyped path is refused instead of starting an empty database."""
    if path.exists():
        return
    folder = path.parent
    if not folder.is_dir():
        raise ConfigurationError(
            f"the folder {folder} for the SQLite database {path.name} does not exist"
        )
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create the database {path}: {exc.strerror or exc}"
        ) from exc


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision`."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


class Database:
    """The engine, the cipher for personal data, and the signal that wakes workers."""

    def __init__(
        self,
        engine: Engine,
        cipher: Cipher,
        *,
        tenant: str = "default",
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.tenant = tenant
        self.timezone = timezone  # the seller's: reports count days in it
        self.dialect = engine.dialect.name
        self._listeners: list[JobsListener] = []
        # On SQLite, the one write transaction at a time, taken in this process's order.
        self.write_lock: threading.RLock | None = (
            threading.RLock() if self.dialect == "sqlite" else None
        )
        self._lock = threading.Lock()
        self.config_cache = TtlCache(ttl=5.0)
        self.score_cache = TtlCache(ttl=60.0)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def on_new_jobs(self, listener: JobsListener) -> None:
        """Call `listener(queued)` after every commit in this process that queued jobs."""
        with self._lock:
            self._listeners.append(listener)

    def jobs_added(self, queued: Queued = None) -> None:
        for listener in list(self._listeners):
            listener(queued)

    def check(self) -> None:
        """Raise ConfigurationError in one sentence when the database cannot be reached."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ConfigurationError(f"cannot reach the database: {reason}") from exc

    def dispose(self) -> None:
        self.engine.dispose()

    @property
    def sqlite_file(self) -> Path | None:
        """The database's file, on SQLite (not in memory); None otherwise."""
        name = self.engine.url.database
        if self.dialect != "sqlite" or not name or name == ":memory:":
            return None
        return Path(name)

    def checkpoint_until(self, stop: threading.Event, every: float = 0.5) -> None:
        """On SQLite, copy the committed write-ahead log into the database file every
        `every` seconds until `stop` is set; run it in a thread.

        SQLite copies the log, by default, in the transaction that commits past 1,000
        pages, while this process's other writers wait for it (its fsync included).
        Here it is copied beside them: a passive checkpoint takes no write lock, and the
        driver lets go of the interpreter lock while SQLite works. Errors are logged and
        tried again at the next turn; the writers' own bound still applies.
        """
        path = self.sqlite_file
        if path is None:
            return
        conn: sqlite3.Connection | None = None
        try:
            while not stop.wait(every):
                try:
                    if conn is None:
                        conn = sqlite3.connect(path, timeout=1.0)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    log.warning("copying the write-ahead log failed", exc_info=True)
                    if conn is not None:
                        conn.close()
                        conn = None
        finally:
            if conn is not None:
                conn.close()

    def listen_for_jobs(self, wake: JobsListener, stop: threading.Event) -> None:
        """On PostgreSQL, call `wake(queued)` whenever any process queues jobs
        (LISTEN/NOTIFY; see `heard`).

        Blocks until `stop` is set; run it in a thread. Reconnects after errors.
        """
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {JOBS_CHANNEL}")
                    while not stop.is_set():
                        for note in conn.notifies(timeout=0.5, stop_after=1):
                            wake(heard(note.payload))
            except psycopg.Error:
                stop.wait(1.0)


def notice(queued: dict[str, float]) -> str:
    """The word to other processes: `kind@due,kind@due`."""
    return ",".join(f"{kind}@{due:.3f}" for kind, due in sorted(queued.items()))


def heard(payload: str) -> Queued:
    """What a notice says was queued; a kind without a time falls due when not known,
    and a notice that names no kind may stand for any."""
    queued: dict[str, float | None] = {}
    for part in payload.split(","):
        kind, _, when = part.partition("@")
        if not kind:
            continue
        try:
            queued[kind] = float(when) if when else None
        except ValueError:
            queued[kind] = None
    return queued or None


def is_transient(exc: BaseException) -> bool:
    """Whether a failure may pass if the same work is tried again later.

    A lost connection, a lock time-out, a deadlock or a serialization failure, and a
    unique-key race with another worker are transient. Data the database refuses (a value
    too long or too large, text it cannot encode) fails the same way every time.
    """
    if isinstance(exc, OperationalError | InterfaceError | IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return isinstance(exc, ConnectionError | TimeoutError)
