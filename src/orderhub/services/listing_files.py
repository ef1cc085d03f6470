"""Exporting the listings to a spreadsheet and importing it back, as use cases.

An import is all or nothing: every row is checked against the catalogue (and the
person's shops) before anything is written, then every listing is written in one
transaction with its audit entry and the stock pushes it needs. Orders held because a
code was unmapped are replayed afterwards, as a person would from the exception queue.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from orderhub.domain.access import Principal
from orderhub.domain.errors import OrderhubError
from orderhub.domain.order import OrderStatus
from orderhub.services.audit import record
from orderhub.services.exceptions import Replayed, replay_exception
from orderhub.services.hub import Hub
from orderhub.services.listing_sheets import (
    SHOP,
    SKU,
    SheetProblem,
    SheetRefused,
    SheetRow,
    SheetRows,
    read_sheet,
    write_workbook,
)
from orderhub.services.pipeline import schedule_stock_push
from orderhub.store.catalog import Listing
from orderhub.store.uow import UnitOfWork

__all__ = ["Imported", "ListingChange", "export_listings", "import_listings"]


def export_listings(hub: Hub, shops: Collection[str] | None = None) -> bytes:
    """Every listing and every unmatched item of `shops` (all when None), with the
    bundles for reference, as .xlsx bytes."""
    with hub.reader() as uow:
        listings = [x for x in uow.catalog.listings() if shops is None or x.shop in shops]
        items = {(i.shop, i.channel_sku): i for i in uow.items.items(shops=shops)}
        skus = uow.catalog.skus()
    rows: list[tuple[str, str, str, str, str, int | None]] = []
    for listing in listings:
        item = items.pop((listing.shop, listing.channel_sku), None)
        title, refs = (item.title, item.platform_ref) if item else ("", "")
        rows.append(
            (listing.shop, listing.channel_sku, title, refs, listing.sku, listing.multiplier)
        )
    rows += [(i.shop, i.channel_sku, i.title, i.platform_ref, "", None) for i in items.values()]
    rows.sort(key=lambda r: (r[0], r[1]))
    bundles = [
        (sku, record.title, part, units)
        for sku, record in sorted(skus.items())
        for part, units in sorted(record.components.items())
    ]
    return write_workbook(rows, bundles)


@dataclass(frozen=True)
class ListingChange:
    """One listing the import writes; `before` is what it was, if it existed."""

    shop: str
    channel_sku: str
    sku: str
    multiplier: int
    before: tuple[str, int] | None = None


@dataclass(frozen=True)
class Imported:
    """What an import wrote (or, dry, would write), and the held orders it replayed."""

    dry_run: bool
    changes: tuple[ListingChange, ...] = ()
    unchanged: int = 0
    replayed: tuple[Replayed, ...] = ()
    not_replayed: tuple[tuple[str, str], ...] = field(default=())  # (exception id, why)


def _check(uow: UnitOfWork, sheet: SheetRows, actor: Principal) -> list[SheetProblem]:
    """What only the catalogue can tell: shops and SKUs that do not exist, or are not
    the person's to change."""
    shops = {s.code for s in uow.catalog.shops()}
    known = uow.catalog.known_skus(sorted({r.sku for r in sheet.rows if r.sku}))
    problems = []
    for row in sheet.rows:
        if row.shop and (row.shop not in shops or not actor.sees_shop(row.shop)):
            why = "not one of yours" if row.shop in shops else "not a shop of the hub"
            problems.append(
                SheetProblem(sheet.name, row.row, sheet.columns[SHOP], f"{row.shop!r} is {why}")
            )
        if row.sku and row.sku not in known:
            problems.append(
                SheetProblem(
                    sheet.name, row.row, sheet.columns[SKU], f"{row.sku!r} is not one of our SKUs"
                )
            )
    return problems


def import_listings(hub: Hub, data: bytes, *, actor: Principal, dry_run: bool = False) -> Imported:
    """Make every row with our SKU a listing (replacing the shop's listing of that code,
    keeping its other settings); raise SheetRefused naming every problem, changing
    nothing, when any row is wrong."""
    sheet = read_sheet(data)
    with hub.uow() as uow:
        problems = sheet.problems + _check(uow, sheet, actor)
        if problems:
            raise SheetRefused(sorted(problems, key=lambda p: (p.row, p.column)))
        wanted = [r for r in sheet.rows if r.sku]
        stored = {
            (x.shop, x.channel_sku): x
            for x in uow.catalog.listings()
            if x.shop in {r.shop for r in wanted}
        }
        changes, unchanged = _changes(wanted, stored)
        if dry_run or not changes:
            return Imported(dry_run, tuple(changes), unchanged)
        for change in changes:
            old = stored.get((change.shop, change.channel_sku))
            uow.catalog.put_listing(
                change.shop,
                change.channel_sku,
                change.sku,
                multiplier=change.multiplier,
                sync_ratio=old.sync_ratio if old else None,
                safety_stock=old.safety_stock if old else None,
                max_listed=old.max_listed if old else None,
                end_below=old.end_below if old else 0,
            )
        touched = {c.sku for c in changes} | {c.before[0] for c in changes if c.before}
        schedule_stock_push(uow, touched, window=hub.settings.stock_push_window)
        record(
            uow,
            actor,
            "listings.import",
            "shops:" + ",".join(sorted({c.shop for c in changes}))[:190],
            before=[_entry(c, before=True) for c in changes if c.before],
            after=[_entry(c) for c in changes],
            detail=f"{len(changes)} listings written, {unchanged} unchanged",
        )
        uow.commit()
    replayed, refused = _replay_held(hub, changes, by=actor.name)
    return Imported(False, tuple(changes), unchanged, replayed, refused)


def _changes(
    wanted: list[SheetRow], stored: dict[tuple[str, str], Listing]
) -> tuple[list[ListingChange], int]:
    changes, unchanged = [], 0
    for row in wanted:
        old = stored.get((row.shop, row.channel_sku))
        if old is not None and (old.sku, old.multiplier) == (row.sku, row.multiplier):
            unchanged += 1
            continue
        before = (old.sku, old.multiplier) if old else None
        changes.append(ListingChange(row.shop, row.channel_sku, row.sku, row.multiplier, before))
    return changes, unchanged


def _entry(change: ListingChange, *, before: bool = False) -> dict[str, Any]:
    sku, multiplier = change.before if before and change.before else (change.sku, change.multiplier)
    return {"shop": change.shop, "channel_sku": change.channel_sku, "sku": sku, "x": multiplier}


def _replay_held(
    hub: Hub, changes: list[ListingChange], *, by: str
) -> tuple[tuple[Replayed, ...], tuple[tuple[str, str], ...]]:
    """Replay each order held as `unknown_sku` whose code the import mapped, the way a
    person replays it from the exception queue; each is its own transaction."""
    mapped: dict[str, set[str]] = {}
    for change in changes:
        mapped.setdefault(change.shop, set()).add(change.channel_sku)
    due: list[str] = []
    with hub.reader() as uow:
        for shop, codes in sorted(mapped.items()):
            seen: set[str] = set()
            for exc in uow.exceptions.search(code="unknown_sku", shop=shop, limit=10_000):
                order = uow.orders.find(exc.order_id) if exc.order_id else None
                if order is None or order.id in seen or order.status is not OrderStatus.HELD:
                    continue
                if any(line.channel_sku in codes for line in order.lines):
                    seen.add(order.id)
                    due.append(exc.id)
    replayed, refused = [], []
    for exception_id in reversed(due):  # oldest first
        try:
            replayed.append(replay_exception(hub, exception_id, by=by))
        except OrderhubError as exc:
            refused.append((exception_id, str(exc)))
    return tuple(replayed), tuple(refused)
