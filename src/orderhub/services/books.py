"""Booking into the seller's ERP: sales, shipments, returns and purchases, each once.

Each document is an outbox job queued in the transaction that made it due (an order
reserved, a parcel shipped, a return received, a purchase order accepted by a supplier),
so nothing is booked for a change that was rolled back and nothing is forgotten for one
that committed. The connector makes the booking itself idempotent (our number in the
document, looked up first), so a job run twice after a crash books one document.

A cancellation before the sale was booked books nothing; after, the sale is taken back
(un-audited) and voided. A document the ERP refuses (an unknown material, say) is
dead-lettered with the ERP's words, naming the field and the code, and a person replays
it once the ERP knows the code.
"""

from __future__ import annotations

from orderhub.connectors.base import ConnectorError
from orderhub.connectors.books import ErpDocument
from orderhub.domain.access import Principal
from orderhub.domain.errors import NotFound
from orderhub.domain.order import Order, OrderStatus
from orderhub.services.erp_context import NotBookable, context_for
from orderhub.services.hub import Hub
from orderhub.store.books import ErpDocumentRecord, ErpRecord
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_ERP_BOOK",
    "JOB_ERP_VOID",
    "book_in_erp",
    "order_books",
    "queue_booking",
    "queue_void",
    "void_in_erp",
]

JOB_ERP_BOOK = "erp.book"
JOB_ERP_VOID = "erp.void"
ALL_KINDS = ("sale_order", "outbound", "return", "purchase_order")


def _books(erp: ErpRecord, kind: str) -> bool:
    wanted = erp.settings.get("book", ALL_KINDS)
    return kind in (wanted if isinstance(wanted, list | tuple) else str(wanted).split(","))


def _from_this_erp(uow: UnitOfWork, erp: ErpRecord, order: Order) -> bool:
    """An order keyed in the ERP itself already has its sales order there."""
    return order.platform == erp.platform and order.origin == "channel"


def queue_booking(uow: UnitOfWork, kind: str, our_no: str, order: Order) -> None:
    """Queue the document in every ERP that books its kind (usually one, or none)."""
    for erp in uow.books.erps():
        if not _books(erp, kind):
            continue
        if kind in ("sale_order", "outbound") and _from_this_erp(uow, erp, order):
            continue  # the ERP has the sale; its channel writes the outbound document
        uow.outbox.add(
            JOB_ERP_BOOK,
            {"erp": erp.code, "kind": kind, "our_no": our_no, "order_id": order.id},
            key=f"erp:{erp.code}:{kind}:{our_no}",
            order_id=order.id,
        )


def queue_void(uow: UnitOfWork, order: Order) -> None:
    """The order was cancelled: its sale, if booked, is taken back and voided."""
    for erp in uow.books.erps():
        if _books(erp, "sale_order") and not _from_this_erp(uow, erp, order):
            uow.outbox.add(
                JOB_ERP_VOID,
                {"erp": erp.code, "order_id": order.id},
                key=f"erp-void:{erp.code}:{order.id}",
                order_id=order.id,
            )


def _links(uow: UnitOfWork, erp: ErpRecord, order: Order) -> dict[str, str]:
    links = {}
    if _from_this_erp(uow, erp, order):
        links["sale_order"] = order.channel_order_id
    for document in uow.books.of_order(order.id):
        if document.erp == erp.code and document.status == "booked":
            links.setdefault(document.kind, document.bill_no)
    return links


def book_in_erp(hub: Hub, job: Job) -> None:
    """Book one document; a shipment or return waits until its sale is booked."""
    code, kind = str(job.payload["erp"]), str(job.payload["kind"])
    our_no, order_id = str(job.payload["our_no"]), str(job.payload["order_id"])
    with hub.reader() as uow:
        erp = uow.books.erp(code)
        order = uow.orders.get(order_id)
        if kind == "sale_order" and order.status is OrderStatus.CANCELLED:
            _write(hub, erp, kind, our_no, order, "skipped", "cancelled before it was booked")
            return
        links = _links(uow, erp, order)
        if (
            kind in ("outbound", "return")
            and _books(erp, "sale_order")
            and not links.get("sale_order")
        ):
            raise ConnectorError(f"the {kind} of order {order.id} waits for its sale to be booked")
        try:
            context = context_for(uow, erp, kind, our_no, order)
        except NotBookable as exc:
            _write(hub, erp, kind, our_no, order, "skipped", str(exc))
            return
        context["links"] = links
    connector = hub.erp(erp)
    booked = connector.book(ErpDocument(kind, our_no, context))
    if kind == "sale_order":
        with hub.reader() as uow:
            cancelled = uow.orders.get(order.id).status is OrderStatus.CANCELLED
        if cancelled:  # while the booking was on its way: take it back at once
            voided = connector.void(kind, our_no)
            booked = voided if voided is not None else booked
    did = ", ".join(booked.steps) or "already there"
    with hub.uow() as uow:
        uow.books.record(
            erp=erp.code,
            kind=kind,
            our_no=our_no,
            order_id=order.id,
            status="voided" if booked.voided else "booked",
            form=booked.form,
            bill_id=booked.bill_id,
            bill_no=booked.bill_no,
            erp_status=booked.status,
        )
        uow.orders.trace(
            order.id, "erp", "ok", f"{booked.form} {booked.bill_no}: {did}", job_id=job.id
        )
        uow.commit()


def void_in_erp(hub: Hub, job: Job) -> None:
    """Take a cancelled order's sale back in the ERP; nothing when it was never booked."""
    code, order_id = str(job.payload["erp"]), str(job.payload["order_id"])
    with hub.reader() as uow:
        erp = uow.books.erp(code)
        order = uow.orders.get(order_id)
    voided = hub.erp(erp).void("sale_order", order.id)
    if voided is None:
        _write(hub, erp, "sale_order", order.id, order, "skipped", "cancelled before booking")
        return
    with hub.uow() as uow:
        uow.books.record(
            erp=erp.code,
            kind="sale_order",
            our_no=order.id,
            order_id=order.id,
            status="voided",
            form=voided.form,
            bill_id=voided.bill_id,
            bill_no=voided.bill_no,
            erp_status=voided.status,
        )
        did = ", ".join(voided.steps) or "already voided"
        uow.orders.trace(order.id, "erp", "ok", f"{voided.form} {voided.bill_no}: {did}")
        uow.commit()


def _write(
    hub: Hub, erp: ErpRecord, kind: str, our_no: str, order: Order, status: str, why: str
) -> None:
    with hub.uow() as uow:
        if uow.books.document(erp.code, kind, our_no) is None:
            uow.books.record(
                erp=erp.code,
                kind=kind,
                our_no=our_no,
                order_id=order.id,
                status=status,
                detail=why,
            )
            uow.orders.trace(order.id, "erp", status, f"{kind}: {why}")
        uow.commit()


def order_books(hub: Hub, order_id: str, *, who: Principal) -> list[ErpDocumentRecord]:
    """What the ERP holds for the order: each document, its number and its state."""
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        if not who.sees_shop(order.shop):
            raise NotFound("order", order_id)
        return uow.books.of_order(order.id)
