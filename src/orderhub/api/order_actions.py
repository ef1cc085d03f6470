"""What a person does to one order over HTTP: cancel, hold, release, send from another
node, correct the address. Each needs `orders.write` and the order's shop in the
person's scope (another shop's order is not found); each is in the audit log with the
reason given, and a receiver's details there are masked."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from orderhub.api.people import principal
from orderhub.services.books import order_books
from orderhub.services.hub import Hub
from orderhub.services.order_actions import (
    OrderActed,
    cancel_order,
    change_address,
    hold_order,
    node_choices,
    release_order,
    send_from,
)

__all__ = ["order_action_routes"]

OrderId = Annotated[str, Path(min_length=1, max_length=64)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Text = Annotated[str, Field(max_length=300)]


class Why(BaseModel):
    """The person's reason, kept with the order and in the audit log."""

    model_config = ConfigDict(extra="forbid")
    reason: Reason


class SendFrom(Why):
    node: Annotated[str, Field(min_length=1, max_length=64)]


class LatinReceiver(BaseModel):
    """The receiver in Latin script, which a label abroad is printed with."""

    model_config = ConfigDict(extra="forbid")
    name: Text | None = None
    province: Text | None = None
    city: Text | None = None
    address1: Text | None = None
    address2: Text | None = None
    postcode: Annotated[str, Field(max_length=20)] | None = None


class Receiver(BaseModel):
    """The receiver's fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    name: Text | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    country: Annotated[str, Field(max_length=2)] | None = None
    province: Text | None = None
    city: Text | None = None
    district: Text | None = None
    address1: Text | None = None
    address2: Text | None = None
    postcode: Annotated[str, Field(max_length=20)] | None = None
    latin: LatinReceiver | None = None


class NewAddress(Why):
    receiver: Receiver


def _shown(result: OrderActed) -> dict[str, Any]:
    return {"order_id": result.order_id, "status": result.status, "outcome": result.outcome}


def order_action_routes(hub: Hub) -> APIRouter:
    """The routes; their permissions are declared in `api.access.ROUTES`."""
    router = APIRouter(tags=["orders"])

    @router.get("/api/v1/orders/{order_id}/nodes")
    def nodes(order_id: OrderId, request: Request) -> list[dict[str, Any]]:
        """The nodes the order may be sent from (its shop's), each switched on or off and
        with its available stock of the order's SKUs."""
        return [asdict(x) for x in node_choices(hub, order_id, who=principal(request))]

    @router.get("/api/v1/orders/{order_id}/books")
    def books(order_id: OrderId, request: Request) -> list[dict[str, Any]]:
        """The order's documents in the ERP (sale, outbounds, returns, purchases): their
        numbers there, and whether each is booked, voided or skipped."""
        return [asdict(x) for x in order_books(hub, order_id, who=principal(request))]

    @router.post("/api/v1/orders/{order_id}/cancel")
    def cancel(order_id: OrderId, body: Why, request: Request) -> dict[str, Any]:
        """Stop the order wherever it is: taken back before its node has it, intercepted
        at the node after; the stock comes back and the shop is told where its platform
        allows. A shipped order is refused (409): it comes back as a return."""
        return _shown(cancel_order(hub, order_id, reason=body.reason, who=principal(request)))

    @router.post("/api/v1/orders/{order_id}/hold")
    def hold(order_id: OrderId, body: Why, request: Request) -> dict[str, Any]:
        """Stop the order before its node has it (409 after), with the reason as its
        exception; what it reserved is given back until it is released."""
        return _shown(hold_order(hub, order_id, reason=body.reason, who=principal(request)))

    @router.post("/api/v1/orders/{order_id}/release")
    def release(order_id: OrderId, body: Why, request: Request) -> dict[str, Any]:
        """Let a held order go: it passes review and the seller's rules from now on and is
        routed again (it may be held again for what still stops it)."""
        return _shown(release_order(hub, order_id, reason=body.reason, who=principal(request)))

    @router.post("/api/v1/orders/{order_id}/route")
    def route(order_id: OrderId, body: SendFrom, request: Request) -> dict[str, Any]:
        """Send the order from the chosen node, one of its shop's nodes and switched on;
        a node that already has it is asked to stop it first (409 once shipped); 422
        names a node that cannot take it."""
        who = principal(request)
        return _shown(send_from(hub, order_id, body.node, reason=body.reason, who=who))

    @router.put("/api/v1/orders/{order_id}/address")
    def address(order_id: OrderId, body: NewAddress, request: Request) -> dict[str, Any]:
        """Correct where the order goes before its node has it (409 after); a reserved or
        held order is routed again with the new address."""
        fields = body.receiver.model_dump(exclude_none=True)
        latin = fields.pop("latin", None) or {}
        fields.update({f"latin.{name}": value for name, value in latin.items()})
        who = principal(request)
        return _shown(change_address(hub, order_id, fields, reason=body.reason, who=who))

    return router
