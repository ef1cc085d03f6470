"""One buyer across shops and platforms: recognised, counted, tagged, exported, erased.

A new order is recognised by keyed hashes of its buyer's phone and e-mail, the
receiver's phone, the platform's open id for the buyer and (Taobao) the OAID; orders
that share any of them belong to one buyer, and buyers found to share one are merged.
Rules read the buyer (`buyer.orders`, `buyer.spend`, `buyer.returns`, `buyer.tags`).

A buyer's data can be exported and erased on request (PIPL art. 45 and 47, GDPR art. 15,
17 and 20). Erasure replaces the personal fields of every order of the buyer with
nothing, destroys the raw payloads those orders came in, and forgets the keys that
recognise the buyer; amounts, SKUs, dates and statuses stay, as the books need them.
Both are audited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from orderhub.domain.access import Permission, Principal, require
from orderhub.domain.errors import NotFound, OrderhubError
from orderhub.domain.order import Order, OrderStatus
from orderhub.services.audit import record, record_change
from orderhub.services.hub import Hub
from orderhub.store.buyers import BuyerRecord
from orderhub.store.uow import UnitOfWork

__all__ = [
    "Erased",
    "buyer_of",
    "buyer_shown",
    "erase_buyer",
    "export_buyer",
    "find_buyer",
    "identifiers",
    "recognise",
    "tag_buyer",
]

_TAG = re.compile(r"^[\w\-.·\u4e00-\u9fff]{1,40}$")


def _phone(text: str) -> str | None:
    digits = re.sub(r"[\s()\-]", "", text)
    if "*" in digits or not re.fullmatch(r"\+?\d{7,15}", digits):
        return None  # a mask or nothing: it identifies nobody
    return digits.removeprefix("+86").removeprefix("0086").lstrip("+")


def identifiers(order: Order) -> list[str]:
    """What identifies the order's buyer, as plain text (to be hashed, never stored)."""
    found = []
    for phone in (order.buyer.phone, order.receiver.phone):
        clean = _phone(phone or "")
        if clean:
            found.append(f"phone|{clean}")
    email = (order.buyer.email or "").strip().casefold()
    if "@" in email and "*" not in email:
        found.append(f"email|{email}")
    if order.buyer.open_id:
        found.append(f"open|{order.platform}|{order.buyer.open_id}")
    if order.platform == "taobao" and order.receiver.sealed:
        found.append(f"oaid|taobao|{order.receiver.sealed}")
    return sorted(set(found))


def recognise(uow: UnitOfWork, order: Order) -> BuyerRecord | None:
    """Count a new order to its buyer (made, found, or several merged into one)."""
    buyers = uow.buyers
    hashes = [buyers.key(i) for i in identifiers(order)]
    if not hashes:
        return None
    known = buyers.find(hashes)
    paid = order.status is not OrderStatus.CANCELLED
    spend = order.totals.grand_total if paid else Decimal("0")
    if known:
        if len(known) > 1:
            buyers.merge(known[0], known[1:])
        buyers.attach(known[0], hashes)
        found = buyers.add(known[0], orders=1, spend=spend, seen=order.placed_at)
    else:
        found = buyers.create(order.placed_at, orders=1, spend=spend)
        buyers.attach(found.id, hashes)
    buyers.recognised[order.id] = found
    return found


def buyer_shown(buyer: BuyerRecord) -> dict[str, Any]:
    """A buyer as a person reads them: figures, tags, when seen; never who they are."""
    return {
        **buyer.facts,
        "first_seen": buyer.first_seen.isoformat(),
        "last_seen": buyer.last_seen.isoformat(),
        "erased": buyer.erased_at is not None,
    }


def count_return(uow: UnitOfWork, order_id: str) -> None:
    buyer = uow.buyers.of_order(order_id)
    if buyer is not None:
        uow.buyers.add(buyer.id, returns=1)


@dataclass(frozen=True)
class Erased:
    buyer_id: str
    orders: int
    payloads: int


def _record(hub: Hub, buyer_id: str) -> BuyerRecord:
    with hub.reader() as uow:
        return uow.buyers.get(buyer_id)


def find_buyer(hub: Hub, *, phone: str = "", email: str = "", order: str = "") -> BuyerRecord:
    """The buyer with this phone or e-mail (hashed to look up), or of this order."""
    with hub.reader() as uow:
        if order:
            from orderhub.services.queries import find_order_id

            found = uow.buyers.of_order(find_order_id(hub, order))
            if found is None:
                raise NotFound("buyer of order", order)
            return found
        wanted = []
        if phone and _phone(phone):
            wanted.append(uow.buyers.key(f"phone|{_phone(phone)}"))
        if email:
            wanted.append(uow.buyers.key(f"email|{email.strip().casefold()}"))
        if not wanted:
            raise OrderhubError("give a phone number, an e-mail or an order")
        ids = uow.buyers.find(wanted)
        if not ids:
            raise NotFound("buyer", "with that phone or e-mail")
        return uow.buyers.get(ids[0])


def buyer_of(hub: Hub, buyer_id: str) -> BuyerRecord:
    return _record(hub, buyer_id)


def tag_buyer(
    hub: Hub, buyer_id: str, *, add: Sequence[str], remove: Sequence[str], who: Principal
) -> BuyerRecord:
    """Tags such as vip or blacklist, which rules read as `buyer.tags`; audited."""
    require(who, Permission.ORDERS_WRITE)
    bad = [tag for tag in [*add, *remove] if not _TAG.match(tag)]
    if bad:
        raise OrderhubError(f"tags: {bad[0]!r} is not a tag (letters, digits, - . _, 40 at most)")
    with hub.uow() as uow:
        before = uow.buyers.get(buyer_id)
        if before.erased_at is not None:
            raise OrderhubError(f"buyer {buyer_id} was erased")
        tags = sorted((set(before.tags) | set(add)) - set(remove))
        uow.buyers.set_tags(buyer_id, tags)
        record(uow, who, "buyer.tags", f"buyer:{buyer_id}", before=list(before.tags), after=tags)
        uow.commit()
    return _record(hub, buyer_id)


def export_buyer(hub: Hub, buyer_id: str, *, who: Principal, reason: str) -> dict[str, Any]:
    """Everything the hub holds about the buyer, personal data in clear; audited as a
    reveal of each order."""
    require(who, Permission.PII_REVEAL)
    if not reason.strip():
        raise OrderhubError("reason: say why the buyer's data is exported")
    with hub.reader() as uow:
        buyer = uow.buyers.get(buyer_id)
        orders = [uow.orders.get(order_id) for order_id in uow.buyers.orders_of(buyer_id)]
    visible = [o for o in orders if who.sees_shop(o.shop)]
    record_change(
        hub,
        who,
        "buyer.export",
        f"buyer:{buyer_id}",
        detail=f"{reason}; orders {', '.join(o.id for o in visible)}",
    )
    return {
        "buyer": {**buyer.facts, "first_seen": buyer.first_seen.isoformat()},
        "orders": [o.model_dump(mode="json", exclude={"trace", "exceptions"}) for o in visible],
    }


def erase_buyer(hub: Hub, buyer_id: str, *, who: Principal, reason: str) -> Erased:
    """Destroy the buyer's personal data in every order and payload; audited."""
    require(who, Permission.BUYERS_ERASE)
    if who.shops:
        raise OrderhubError("erasure covers every shop: ask someone who sees them all")
    if not reason.strip():
        raise OrderhubError("reason: say why the buyer's data is erased (the request)")
    with hub.uow() as uow:
        uow.buyers.get(buyer_id)
        order_ids = uow.buyers.orders_of(buyer_id)
        payloads = uow.keeping.erase_orders(order_ids)
        uow.buyers.forget(buyer_id)
        for order_id in order_ids:
            uow.orders.trace(order_id, "erase", "ok", "the buyer's personal data was erased")
        record(
            uow,
            who,
            "buyer.erase",
            f"buyer:{buyer_id}",
            detail=f"{reason}; {len(order_ids)} order(s), {payloads} payload(s)",
        )
        uow.commit()
    return Erased(buyer_id, len(order_ids), payloads)
