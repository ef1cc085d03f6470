"""The unit of work: one transaction, the repositories on it, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cached_property
from types import TracebackType

from sqlalchemy import Connection, RootTransaction
from sqlalchemy.exc import OperationalError

from orderhub.domain.order import Order
from orderhub.store.alerts import AlertRepository
from orderhub.store.audit import AuditRepository
from orderhub.store.books import BooksRepository
from orderhub.store.buyers import BuyerRepository
from orderhub.store.calls import CallRepository
from orderhub.store.catalog import CatalogRepository
from orderhub.store.config_version import ConfigView
from orderhub.store.db import Database, committed_together, sent_together
from orderhub.store.dispatches import DispatchRepository
from orderhub.store.inbox import InboxRepository
from orderhub.store.items import ShopItemRepository
from orderhub.store.keeping import KeepingRepository
from orderhub.store.money import MoneyRepository
from orderhub.store.orders import OrderRepository, Stored
from orderhub.store.outbox import OutboxRepository
from orderhub.store.parcels import ParcelRepository
from orderhub.store.people import PeopleRepository
from orderhub.store.records import CursorRepository, ExceptionRepository
from orderhub.store.report_figures import FigureRepository
from orderhub.store.returns import ReturnRepository
from orderhub.store.rules import RulesRepo
from orderhub.store.shipments import ShipmentRepository
from orderhub.store.sla import SlaRepository
from orderhub.store.stock import StockRepository

__all__ = ["UnitOfWork"]


WRITE_WAIT = 60.0
"""Seconds a writer waits for SQLite's one write transaction, as its busy timeout does."""


class UnitOfWork:
    """`with UnitOfWork(db) as uow: ...; uow.commit()`; leaving without commit rolls back."""

    def __init__(
        self,
        db: Database,
        *,
        tenant: str | None = None,
        read_only: bool = False,
        autocommit: bool = False,
    ) -> None:
        self.db = db
        self.tenant = tenant or db.tenant
        self.read_only = read_only
        # On PostgreSQL each statement commits as it runs: for work that writes with one
        # statement, which then needs no BEGIN and COMMIT round trips. SQLite ignores it.
        self.autocommit = autocommit
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self._writing = False

    def __enter__(self) -> UnitOfWork:
        # SQLite lets one writer in at a time: the threads of this process queue for it
        # here, in order, instead of polling in SQLite's busy handler with a connection
        # held. Another process still meets the busy handler.
        lock = None if self.read_only else self.db.write_lock
        if lock is not None:
            if not lock.acquire(timeout=WRITE_WAIT):
                raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
            self._writing = True
        try:
            conn = self.db.engine.connect()
        except BaseException:
            self._release()
            raise
        if self.read_only and self.db.is_postgres:
            # Each statement sees what was committed when it began, in a transaction or
            # not (READ COMMITTED): a reader needs none, and saves BEGIN and ROLLBACK.
            conn = conn.execution_options(orderhub_read_only=True, isolation_level="AUTOCOMMIT")
        elif self.autocommit and self.db.is_postgres:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        elif self.read_only and self.autocommit:
            conn = conn.execution_options(orderhub_read_only=True, orderhub_one_read=True)
        elif self.read_only:
            conn = conn.execution_options(orderhub_read_only=True)
        self._conn = conn
        self._tx = conn.begin()
        return self

    # Repositories are made when first used: most transactions touch two or three.
    @cached_property
    def orders(self) -> OrderRepository:
        return OrderRepository(self._open(), self.db.cipher, self.tenant)

    @cached_property
    def stock(self) -> StockRepository:
        return StockRepository(self._open(), self.tenant)

    @cached_property
    def calls(self) -> CallRepository:
        return CallRepository(self._open(), self.tenant)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self._open(), self.tenant)

    @cached_property
    def inbox(self) -> InboxRepository:
        return InboxRepository(self._open(), self.db.cipher, self.tenant)

    @cached_property
    def config(self) -> ConfigView:
        return ConfigView(self._open(), self.tenant, self.db.config_cache)

    @cached_property
    def catalog(self) -> CatalogRepository:
        return CatalogRepository(self._open(), self.db.cipher, self.tenant, config=self.config)

    @cached_property
    def exceptions(self) -> ExceptionRepository:
        return ExceptionRepository(self._open(), self.tenant)

    @cached_property
    def cursors(self) -> CursorRepository:
        return CursorRepository(self._open(), self.tenant)

    @cached_property
    def shipments(self) -> ShipmentRepository:
        return ShipmentRepository(self._open(), self.tenant)

    @cached_property
    def dispatches(self) -> DispatchRepository:
        return DispatchRepository(self._open(), self.tenant)

    @cached_property
    def rules(self) -> RulesRepo:
        return RulesRepo(self._open(), self.tenant, self.config)

    @cached_property
    def alerts(self) -> AlertRepository:
        return AlertRepository(self._open(), self.tenant)

    @cached_property
    def sla(self) -> SlaRepository:
        return SlaRepository(self._open(), self.tenant)

    @cached_property
    def returns(self) -> ReturnRepository:
        return ReturnRepository(self._open(), self.tenant)

    @cached_property
    def people(self) -> PeopleRepository:
        return PeopleRepository(self._open(), self.tenant)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self._open(), self.tenant)

    @cached_property
    def keeping(self) -> KeepingRepository:
        return KeepingRepository(self._open(), self.db.cipher, self.tenant)

    @cached_property
    def items(self) -> ShopItemRepository:
        return ShopItemRepository(self._open(), self.tenant)

    @cached_property
    def books(self) -> BooksRepository:
        return BooksRepository(self._open(), self.db.cipher, self.tenant, self.config)

    @cached_property
    def buyers(self) -> BuyerRepository:
        return BuyerRepository(
            self._open(), self.db.cipher, self.tenant, before_orders=self._write_added_orders
        )

    def _write_added_orders(self) -> None:
        if "orders" in self.__dict__:
            self.orders.write_added()

    @cached_property
    def money(self) -> MoneyRepository:
        return MoneyRepository(self._open(), self.tenant)

    @cached_property
    def parcels(self) -> ParcelRepository:
        return ParcelRepository(self._open(), self.db.cipher, self.tenant, self.config)

    @cached_property
    def figures(self) -> FigureRepository:
        return FigureRepository(self._open(), self.tenant, self.db.timezone)

    def orders_added(self) -> dict[str, tuple[Order, Stored]]:
        """The orders added in this transaction that are still stored as they were added,
        each with what it was stored as (none when no order was touched)."""
        return self.orders.added_orders if "orders" in self.__dict__ else {}

    def _open(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("a repository used outside of `with`")
        return self._conn

    def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("commit outside of `with`")
        made = self.__dict__
        # Shared rows last, each kind in one order: stock levels, alerts, buyers,
        # coalesced jobs.
        if "stock" in made:
            self.stock.write_levels()  # reads the levels it changed
        if "alerts" in made:
            self.alerts.write_held()  # reads whether an alert is open
        buyers = made.get("buyers")
        if buyers is not None and buyers.reads_when_written():
            buyers.write_held()
            buyers = None
        outbox = made.get("outbox")
        figures = made.get("figures")
        conn = self._open()
        writes = self._writes_held() + self._shared_writes_held(buyers, outbox)
        marks = 0 if figures is None else figures.marks_held()
        if figures is not None and marks > 1:
            # Several marks are read back through SQLAlchemy, which cannot read a
            # statement sent together: what comes before them goes first.
            with sent_together(conn) if writes > 1 else nullcontext():
                self._write_shared_held(buyers, outbox)
            counted = figures.mark()
            with committed_together(conn):
                figures.write(counted)
                if outbox is not None:
                    outbox.announce()
        else:
            # Nothing here is read back but one mark, which the driver reads in line:
            # on PostgreSQL it all goes with the COMMIT.
            announces = outbox is not None and outbox.announces()
            with committed_together(conn, sending=writes + marks > 0 or announces):
                self._write_shared_held(buyers, outbox)
                if figures is not None:
                    figures.write(figures.mark())
                if outbox is not None:
                    outbox.announce()
        self._tx.commit()
        self._tx = None
        if outbox is not None and outbox.added:
            self.db.jobs_added(outbox.taken())

    def flush(self) -> None:
        """Write what the repositories hold back to write together (ledger rows, new
        dispatches, new jobs, trace, payload marks, report figures)."""
        self._write_held()
        if "figures" in self.__dict__:
            self.figures.flush()  # reads what its marks returned

    def _shared_writes_held(
        self, buyers: BuyerRepository | None, outbox: OutboxRepository | None
    ) -> int:
        return (0 if buyers is None else buyers.writes_held()) + (
            0 if outbox is None else outbox.coalesced_held()
        )

    def _write_shared_held(
        self, buyers: BuyerRepository | None, outbox: OutboxRepository | None
    ) -> None:
        """New buyers and their keys, coalesced jobs (shared rows, in that order), then
        the held writes; none reads anything back."""
        if buyers is not None:
            buyers.write_held()
        if outbox is not None:
            outbox.write_coalesced()
        self._write_held()

    def _held(
        self,
    ) -> list[InboxRepository | StockRepository | DispatchRepository | OutboxRepository]:
        """The repositories made so far that hold writes back to flush."""
        made = self.__dict__
        return [made[name] for name in ("inbox", "stock", "dispatches", "outbox") if name in made]

    def _writes_held(self) -> int:
        """How many statements `_write_held` would run."""
        writes: int = sum(repository.writes_held() for repository in self._held())
        if "orders" in self.__dict__:
            writes += self.orders.writes_held()
        return writes

    def _write_held(self) -> None:
        """The held writes but the report figures, which read back their marks."""
        if self._conn is None:
            raise RuntimeError("flush outside of `with`")
        # Two writes or more go to PostgreSQL together; one goes as it is.
        with sent_together(self._conn) if self._writes_held() > 1 else nullcontext():
            self._write_added_orders()  # first: the rows below may name them
            for repository in self._held():
                repository.flush()
            if "orders" in self.__dict__:
                self.orders.flush_trace()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: what happens inside is undone alone if it raises."""
        if self._conn is None:
            raise RuntimeError("savepoint outside of `with`")
        self.flush()
        nested = self._conn.begin_nested()
        # What the savepoint may undo is held by these; they are made now so that
        # their state before it can be kept.
        stock, alerts, buyers, outbox = self.stock, self.alerts, self.buyers, self.outbox
        added, touched = outbox.added, set(outbox.touched)
        held_levels, held_alerts, held_buyers = (
            stock.held_levels(),
            alerts.held(),
            buyers.held(),
        )
        coalesced = outbox.held_coalesced()
        try:
            yield
            self.flush()
        except BaseException:
            nested.rollback()
            self.inbox.discard()
            self.orders.discard_trace()
            self.orders.discard_added()
            stock.discard()
            self.dispatches.discard()
            outbox.discard()
            self.figures.discard()
            outbox.added, outbox.touched = added, touched
            stock.restore_levels(held_levels)
            alerts.restore(held_alerts)
            buyers.restore(held_buyers)
            outbox.restore_coalesced(coalesced)
            raise
        nested.commit()

    def lock_shared_rows_at_commit(self, *, stock: bool = True) -> None:
        """Write the rows every batch shares (stock levels, alerts, buyers, coalesced
        jobs) at commit, each kind in one fixed order, instead of as each order comes:
        batches in several worker processes then queue for them briefly and never
        deadlock. Without `stock`, levels change at once (before the others, as in a
        batch), so a reservation is never undone at commit."""
        if stock:
            self.stock.hold_levels()
        self.alerts.hold()
        self.buyers.hold()
        self.outbox.hold_coalesced()

    def rollback(self) -> None:
        if self._tx is not None:
            self._tx.rollback()
            self._tx = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            for name in _REPOSITORIES & self.__dict__.keys():
                del self.__dict__[name]
        finally:
            self._release()

    def _release(self) -> None:
        if self._writing and self.db.write_lock is not None:
            self._writing = False
            self.db.write_lock.release()


# Every repository a unit of work makes, forgotten when it ends.
_REPOSITORIES = frozenset(
    name for name, value in vars(UnitOfWork).items() if isinstance(value, cached_property)
)
