"""A node's callbacks: verified, stored before anything can fail, then applied or held.

Warehouses and suppliers call back with shipments, acknowledgements, returns received
and stock changes. A callback is answered "success" only once it is stored and could be
read; one whose values the hub cannot keep (an unknown SKU, a field longer than any real
one) is held as an exception naming the field, and applied whole when it is retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from orderhub.connectors.base import NodeEvent
from orderhub.observability import metrics
from orderhub.services.callback_inbox import keep_callback, replay_callback
from orderhub.services.hub import Hub
from orderhub.services.ingest import BadSignature
from orderhub.services.inventory import apply_stock_changes
from orderhub.services.node_cancels import node_cancelled
from orderhub.services.returns import receive_return
from orderhub.services.shipping import apply_shipment
from orderhub.store.outbox import Job
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_NODE_EVENT",
    "process_node_event",
    "receive_node_callback",
    "replay_node_callback",
]

JOB_NODE_EVENT = "node.event"

# The longest value of each kind the hub keeps; longer ones are not real.
_CODE, _CARRIER, _TRACKING, _CONFIRM_ID, _SKU, _LINE_NO = 64, 64, 100, 150, 100, 40


def receive_node_callback(
    hub: Hub, node_code: str, query: Mapping[str, str], body: bytes
) -> tuple[bytes, str]:
    """Verify and store a node's callback, queue it, and answer in the node's own format."""
    with hub.reader() as uow:
        node = uow.catalog.node(node_code)
    connector = hub.node(node)
    if not connector.verify_callback(query, body):
        metrics.inbound.labels("node", "bad_signature").inc()
        raise BadSignature(f"callback from node {node_code} has a bad signature")
    # Read before the node is told "success": a body that cannot be read is kept and
    # shown, and the node hears that it was not accepted.
    problem = keep_callback(
        hub,
        source="node",
        code=node_code,
        topic=str(query.get("method", "")),
        body=body,
        headers={"query": json.dumps(dict(query))},
        read=lambda: connector.parse_callback(query, body),
        job_kind=JOB_NODE_EVENT,
    )
    if problem:
        return connector.callback_reply(ok=False, message="the callback cannot be read")
    return connector.callback_reply(ok=True)


def process_node_event(hub: Hub, job: Job, *, uow: UnitOfWork | None = None) -> None:
    """Apply a stored node callback: today, a shipment confirmation.

    Runs inside `uow` when given (the worker batches these); otherwise in its own.
    """
    if uow is not None:
        _apply_event(hub, uow, str(job.payload["inbox_id"]), job.id)
        return
    with hub.uow() as own:
        _apply_event(hub, own, str(job.payload["inbox_id"]), job.id)
        own.commit()


def _apply_event(hub: Hub, uow: UnitOfWork, inbox_id: str, job_id: int | None) -> None:
    item = uow.inbox.get(inbox_id)
    if item.status != "pending":
        return
    node = uow.catalog.node(item.shop)
    query = json.loads(item.headers.get("query", "{}"))
    try:
        event = hub.node(node).parse_callback(query, item.body)
    except ValueError as exc:
        uow.exceptions.open(
            stage="parse",
            code="malformed_callback",
            message=f"callback from {node.code} is unreadable: {exc}",
            inbox_id=item.id,
        )
        uow.inbox.mark(item.id, "failed", error=str(exc))
        return
    too_long = _too_long(event)
    if too_long is not None:
        _hold(uow, item.id, node.code, "invalid_field", *too_long)
        return
    unknown = _unknown_skus(uow, event)
    if unknown is not None:
        _hold(uow, item.id, node.code, "unknown_stock_sku", *unknown)
        return
    order_id = None
    if event.acknowledged is not None:
        order_id = _acknowledged(uow, node.code, event.acknowledged, job_id)
    if event.shipment is not None:
        order_id = apply_shipment(uow, node.code, event.shipment, job_id=job_id)
    if event.returned is not None:
        order_id = receive_return(
            hub, uow, node.code, event.returned, job_id=job_id, inbox_id=item.id
        )
    if event.stock_changes:
        apply_stock_changes(hub, uow, node.code, event.stock_changes)
    if event.cancelled is not None:
        order_id = node_cancelled(hub, uow, node.code, event.cancelled, job_id=job_id)
    uow.inbox.mark(
        item.id,
        "processed" if order_id or event.shipment is None else "failed",
        order_id=order_id,
    )


def _acknowledged(uow: UnitOfWork, node: str, code: str, job_id: int | None) -> str | None:
    """A supplier took the purchase order on; how quickly counts towards its score."""
    dispatch = uow.dispatches.get(code, for_update=True)
    if dispatch is None:
        uow.exceptions.open(
            stage="ack",
            code="unknown_order",
            message=f"{node} acknowledged {code}, which is not a purchase order of ours",
        )
        return None
    if dispatch.acknowledged_at is None and dispatch.status == "pushed":
        uow.dispatches.mark(dispatch.id, "acknowledged", at="acknowledged")
        for order_id in dispatch.order_ids:
            uow.orders.trace(order_id, "acknowledge", "ok", f"{node} took {code}", job_id=job_id)
    return dispatch.order_ids[0] if dispatch.order_ids else None


def replay_node_callback(hub: Hub, inbox_id: str) -> str | None:
    """Apply a held node callback again, whole, after its cause was fixed."""
    return replay_callback(hub, inbox_id, _apply_event)


def _too_long(event: NodeEvent) -> tuple[str, str] | None:
    """The first value longer than the hub keeps, as (field, sentence)."""
    checks: list[tuple[str, str, int]] = []
    if event.acknowledged is not None:
        checks.append(("po_number", event.acknowledged, _CODE))
    if event.shipment is not None:
        s = event.shipment
        checks += [
            ("code", s.code, _CODE),
            ("carrier", s.carrier, _CARRIER),
            ("tracking_no", s.tracking_no, _TRACKING),
            ("confirm_id", s.confirm_id, _CONFIRM_ID),
        ]
        for n, line in enumerate(s.lines):
            checks += [
                (f"lines[{n}].sku", line.sku, _SKU),
                (f"lines[{n}].line_no", line.line_no or "", _LINE_NO),
            ]
    for n, change in enumerate(event.stock_changes):
        checks.append((f"items[{n}].sku", change.sku, _SKU))
    for name, value, limit in checks:
        if len(value) > limit:
            return name, f"{name} is {len(value)} characters long; at most {limit} are kept"
    return None


def _unknown_skus(uow: UnitOfWork, event: NodeEvent) -> tuple[str, str] | None:
    """A stock change for a SKU the hub does not know, as (field, sentence)."""
    skus = [change.sku for change in event.stock_changes]
    known = uow.catalog.known_skus(skus) if skus else set()
    for n, sku in enumerate(skus):
        if sku not in known:
            return (
                f"items[{n}].sku",
                f"stock was reported for SKU {sku!r}, which the hub does not know",
            )
    return None


def _hold(uow: UnitOfWork, item_id: str, node: str, code: str, field: str, message: str) -> None:
    uow.exceptions.open(
        stage="callback",
        code=code,
        message=f"callback from {node}: {message}",
        field=field,
        inbox_id=item_id,
    )
    uow.inbox.mark(item_id, "failed", error=message[:1000])
