"""Payment reconciliation: what a shop shipped on a day against what its platform paid.

The shop's statement (Shopify Payments balance transactions, for example) is pulled from
where the last pull stopped and kept line by line. For the seller's day:

* orders shipped that day (first parcel) are looked up in the statement by their
  platform order id: no charge at all is `shipped_not_paid`; charges that differ from
  the order's total by more than the shop's `reconcile_tolerance` (0.00 by default) are
  `amount_differs`;
* charges processed that day for an order the hub does not know are `unknown_payment`;
  for an order that was cancelled and not refunded, or still not shipped after
  `reconcile_ship_days` (3), `paid_not_shipped`;
* fees and refunds processed that day are summed; a refund for an unknown order is
  `unknown_payment` too.

The figures and differences are stored; running the same day again (a late statement)
updates them: a difference no longer found is cleared, a finance person's note stays.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from orderhub.domain.access import Permission, Principal, require
from orderhub.domain.errors import OrderhubError
from orderhub.domain.money import StatementSource
from orderhub.services.audit import record
from orderhub.services.hub import Hub
from orderhub.store.money import Difference

__all__ = ["differences", "pull_statement", "reconcile", "reconciled_days", "resolve_difference"]

CURSOR = "statement"
CANCELLED = ("cancelled",)


def pull_statement(hub: Hub, shop_code: str) -> int:
    """New statement lines of the shop since the last pull; how many were new."""
    with hub.reader() as uow:
        shop = uow.catalog.shop(shop_code)
        after = uow.cursors.get(shop_code, CURSOR)
    channel = hub.channel(shop)
    if not isinstance(channel, StatementSource):
        raise OrderhubError(
            f"shop {shop_code}: {shop.platform} offers no statement the hub can read yet"
        )
    statement = channel.statement(after)
    with hub.uow() as uow:
        added = uow.money.keep_lines(shop_code, statement.lines)
        if statement.cursor:
            uow.cursors.set(shop_code, CURSOR, statement.cursor)
        uow.commit()
    return added


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _span(hub: Hub, day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(hub.settings.timezone)
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    return start, start + timedelta(days=1)


def reconcile(hub: Hub, shop_code: str, day: date, *, who: Principal) -> dict[str, Any]:
    """Pull the statement, compare the day, store and return the figures and differences."""
    require(who, Permission.FINANCE_RECONCILE, shop=shop_code)
    new_lines = pull_statement(hub, shop_code)
    since, until = _span(hub, day)
    with hub.uow() as uow:
        shop = uow.catalog.shop(shop_code)
        tolerance = Decimal(str(shop.settings.get("reconcile_tolerance", "0.00")))
        grace = int(shop.settings.get("reconcile_ship_days", 3))
        shipped = uow.money.shipped(shop_code, since=since, until=until)
        of_shipped = uow.money.lines_of_orders(shop_code, [o.channel_order_id for o in shipped])
        todays = uow.money.lines(shop_code, since=since, until=until)
        refs = {str(line.order_ref) for line in todays if line.order_ref}
        known = uow.money.orders_by_ref(shop_code, sorted(refs))
        sent = uow.money.was_shipped([o.order_id for o in known.values()])
        refunded_refs = {
            str(line.order_ref)
            for line in uow.money.lines_of_orders(shop_code, sorted(refs))
            if line.kind == "refund"
        }
        found: dict[tuple[str, str], dict[str, Any]] = {}
        charges: dict[str, Decimal] = {}
        for line in of_shipped:
            if line.kind == "charge":
                ref = str(line.order_ref)
                charges[ref] = charges.get(ref, Decimal("0")) + Decimal(line.amount)
        for order in shipped:
            paid = charges.get(order.channel_order_id)
            if paid is None:
                found[("shipped_not_paid", order.channel_order_id)] = {
                    "order_id": order.order_id,
                    "expected": order.grand_total,
                    "received": None,
                    "message": f"order {order.channel_order_id} shipped on {day}; "
                    "the statement has no payment for it",
                }
            elif abs(paid - order.grand_total) > tolerance:
                found[("amount_differs", order.channel_order_id)] = {
                    "order_id": order.order_id,
                    "expected": order.grand_total,
                    "received": paid,
                    "message": f"order {order.channel_order_id}: {order.grand_total} ordered, "
                    f"{paid} paid (differs by {paid - order.grand_total})",
                }
        overdue = day + timedelta(days=grace) < datetime.now(UTC).date()
        for line in todays:
            ref = str(line.order_ref)
            if line.kind not in ("charge", "refund"):
                continue
            payer = known.get(ref)
            if payer is None:
                found[("unknown_payment", str(line.reference))] = {
                    "order_id": None,
                    "expected": None,
                    "received": Decimal(line.amount),
                    "message": f"{line.kind} {line.reference} of {line.amount} for order "
                    f"{ref or '(none)'}, which the hub does not know",
                }
                continue
            if line.kind != "charge" or payer.order_id in sent:
                continue
            cancelled = payer.status in CANCELLED and ref not in refunded_refs
            if cancelled or overdue:
                why = (
                    "was cancelled and not refunded"
                    if cancelled
                    else f"has not shipped in {grace} days"
                )
                found[("paid_not_shipped", ref)] = {
                    "order_id": payer.order_id,
                    "expected": None,
                    "received": Decimal(line.amount),
                    "message": f"order {ref} was paid {line.amount} on {day} and {why}",
                }
        figures = {
            "shop": shop_code,
            "day": day.isoformat(),
            "shipped_orders": len(shipped),
            "shipped_value": _money(sum((o.grand_total for o in shipped), Decimal("0"))),
            "received": _money(
                sum((Decimal(x.amount) for x in todays if x.kind == "charge"), Decimal("0"))
            ),
            "fees": _money(sum((Decimal(x.fee) for x in todays), Decimal("0"))),
            "refunds": _money(
                -sum((Decimal(x.amount) for x in todays if x.kind == "refund"), Decimal("0"))
            ),
            "net": _money(
                sum(
                    (Decimal(x.amount) - Decimal(x.fee) for x in todays if x.kind != "payout"),
                    Decimal("0"),
                )
            ),
            "statement_lines": len(todays),
            "new_statement_lines": new_lines,
            "differences": len(found),
        }
        for (kind, ref), detail in found.items():
            uow.money.put_difference(shop_code, day, kind, ref, **detail)
        cleared = uow.money.clear_others(shop_code, day, set(found))
        figures["cleared"] = cleared
        uow.money.save(shop_code, day, figures, by=who.name)
        record(
            uow,
            who,
            "finance.reconcile",
            f"shop:{shop_code}",
            detail=f"{day}: {len(found)} difference(s)",
        )
        uow.commit()
        listed = uow.money.differences(shop_code, day)
    return {**figures, "listed": [_shown(d) for d in listed]}


def _shown(found: Difference) -> dict[str, Any]:
    shown = asdict(found)
    shown["day"] = found.day.isoformat()
    for key in ("expected", "received"):
        shown[key] = None if shown[key] is None else str(shown[key])
    return shown


def reconciled_days(
    hub: Hub, *, who: Principal, shop: str | None = None, limit: int = 60
) -> list[dict[str, Any]]:
    """The days already reconciled, newest first, with their figures."""
    require(who, Permission.FINANCE_RECONCILE)
    with hub.reader() as uow:
        found = uow.money.recent(shop, limit)
    return [day for day in found if who.sees_shop(str(day["shop"]))]


def differences(
    hub: Hub, *, who: Principal, shop: str | None = None, day: date | None = None
) -> list[dict[str, Any]]:
    require(who, Permission.FINANCE_RECONCILE)
    with hub.reader() as uow:
        found = uow.money.differences(shop, day)
    return [_shown(d) for d in found if who.sees_shop(d.shop)]


def resolve_difference(
    hub: Hub, difference_id: str, *, note: str, resolve: bool, who: Principal
) -> dict[str, Any]:
    """A finance person's note on a difference, and whether it is settled; audited."""
    require(who, Permission.FINANCE_RECONCILE)
    if not note.strip():
        raise OrderhubError("note: say what was found or done")
    with hub.uow() as uow:
        done = uow.money.resolve(difference_id, note=note, by=who.name, resolve=resolve)
        if not who.sees_shop(done.shop):
            raise OrderhubError(f"{who.name} may not settle shop {done.shop}'s differences")
        record(
            uow,
            who,
            "finance.resolve" if resolve else "finance.note",
            f"difference:{difference_id}",
            detail=note,
        )
        uow.commit()
    return _shown(done)
