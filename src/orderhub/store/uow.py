"""The unit of work: one transaction, the repositories on it, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy import Connection, RootTransaction
from sqlalchemy.exc import OperationalError

from orderhub.store.alerts import AlertRepository
from orderhub.store.audit import AuditRepository
from orderhub.store.books import BooksRepository
from orderhub.store.buyers import BuyerRepository
from orderhub.store.calls import CallRepository
from orderhub.store.catalog import CatalogRepository
from orderhub.store.config_version import ConfigView
from orderhub.store.db import Database
from orderhub.store.dispatches import DispatchRepository
from orderhub.store.inbox import InboxRepository
from orderhub.store.items import ShopItemRepository
from orderhub.store.keeping import KeepingRepository
from orderhub.store.money import MoneyRepository
from orderhub.store.orders import OrderRepository
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

    orders: OrderRepository
    stock: StockRepository
    outbox: OutboxRepository
    inbox: InboxRepository
    config: ConfigView
    catalog: CatalogRepository
    exceptions: ExceptionRepository
    cursors: CursorRepository
    shipments: ShipmentRepository
    dispatches: DispatchRepository
    rules: RulesRepo
    alerts: AlertRepository
    sla: SlaRepository
    returns: ReturnRepository
    people: PeopleRepository
    audit: AuditRepository
    keeping: KeepingRepository
    items: ShopItemRepository
    books: BooksRepository
    figures: FigureRepository
    buyers: BuyerRepository
    money: MoneyRepository
    parcels: ParcelRepository

    def __init__(self, db: Database, *, tenant: str | None = None, read_only: bool = False) -> None:
        self.db = db
        self.tenant = tenant or db.tenant
        self.read_only = read_only
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
        if self.read_only:
            conn = conn.execution_options(orderhub_read_only=True)
        self._conn = conn
        self._tx = conn.begin()
        cipher, tenant = self.db.cipher, self.tenant
        self.orders = OrderRepository(conn, cipher, tenant)
        self.stock = StockRepository(conn, tenant)
        self.calls = CallRepository(conn, tenant)
        self.outbox = OutboxRepository(conn, tenant)
        self.inbox = InboxRepository(conn, cipher, tenant)
        self.config = ConfigView(conn, tenant, self.db.config_cache)
        self.catalog = CatalogRepository(conn, cipher, tenant, config=self.config)
        self.exceptions = ExceptionRepository(conn, tenant)
        self.cursors = CursorRepository(conn, tenant)
        self.shipments = ShipmentRepository(conn, tenant)
        self.dispatches = DispatchRepository(conn, tenant)
        self.rules = RulesRepo(conn, tenant, self.config)
        self.alerts = AlertRepository(conn, tenant)
        self.sla = SlaRepository(conn, tenant)
        self.returns = ReturnRepository(conn, tenant)
        self.people = PeopleRepository(conn, tenant)
        self.audit = AuditRepository(conn, tenant)
        self.keeping = KeepingRepository(conn, cipher, tenant)
        self.items = ShopItemRepository(conn, tenant)
        self.books = BooksRepository(conn, cipher, tenant, self.config)
        self.buyers = BuyerRepository(conn, cipher, tenant)
        self.money = MoneyRepository(conn, tenant)
        self.parcels = ParcelRepository(conn, cipher, tenant, self.config)
        self.figures = FigureRepository(conn, tenant, self.db.timezone)
        return self

    def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("commit outside of `with`")
        # Shared rows last, each kind in one order: stock levels, alerts, buyers,
        # coalesced jobs.
        self.stock.write_levels()
        self.alerts.write_held()
        self.buyers.write_held()
        self.outbox.write_coalesced()
        self.flush()
        self.outbox.announce()
        self._tx.commit()
        self._tx = None
        if self.outbox.added:
            kinds = frozenset(self.outbox.kinds)
            self.outbox.added = 0
            self.outbox.kinds.clear()
            self.db.jobs_added(kinds)

    def flush(self) -> None:
        """Write what the repositories hold back to write together (ledger rows, new
        dispatches, new jobs, trace)."""
        self.stock.flush()
        self.dispatches.flush()
        self.outbox.flush()
        self.orders.flush_trace()
        self.figures.flush()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: what happens inside is undone alone if it raises."""
        if self._conn is None:
            raise RuntimeError("savepoint outside of `with`")
        self.flush()
        nested = self._conn.begin_nested()
        added, touched = self.outbox.added, set(self.outbox.touched)
        levels, alerts, buyers = self.stock.held_levels(), self.alerts.held(), self.buyers.held()
        coalesced = self.outbox.held_coalesced()
        try:
            yield
            self.flush()
        except BaseException:
            nested.rollback()
            self.orders.discard_trace()
            self.stock.discard()
            self.dispatches.discard()
            self.outbox.discard()
            self.figures.discard()
            self.outbox.added, self.outbox.touched = added, touched
            self.stock.restore_levels(levels)
            self.alerts.restore(alerts)
            self.buyers.restore(buyers)
            self.outbox.restore_coalesced(coalesced)
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
        finally:
            self._release()

    def _release(self) -> None:
        if self._writing and self.db.write_lock is not None:
            self._writing = False
            self.db.write_lock.release()
