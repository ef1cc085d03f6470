"""What a person does to one order from its page: cancel it, hold it and let it go, send
it from another node, correct where it goes.

Each is one transaction on the order, traced on it with the person and the reason; the
API writes the audit entry. An action the order's state does not allow now (it has
shipped, it is already at its node) is refused with NotNow and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from orderhub.domain.access import Principal
from orderhub.domain.errors import NotFound, NotNow, OrderhubError, Problem
from orderhub.domain.exceptions_catalog import RECEIVER_FIELDS
from orderhub.domain.order import Order, OrderStatus
from orderhub.services.cancel import cancel_by_person, tell_shop
from orderhub.services.dispatch import JOB_NODE_CANCEL, ask_node_to_stop, withdraw_order
from orderhub.services.hub import Hub
from orderhub.services.pipeline import hold, release, route
from orderhub.services.switches import enabled
from orderhub.store.dispatches import Dispatch
from orderhub.store.uow import UnitOfWork

__all__ = [
    "HELD_BY_PERSON",
    "NodeChoice",
    "OrderActed",
    "cancel_order",
    "change_address",
    "hold_order",
    "node_choices",
    "release_order",
    "route_again",
    "send_from",
]

HELD_BY_PERSON = "held_by_person"
_SHIPPED = (
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.RETURNING,
    OrderStatus.RETURNED,
)
_BEFORE_THE_NODE = (OrderStatus.RECEIVED, OrderStatus.HELD, OrderStatus.RESERVED)


@dataclass(frozen=True)
class OrderActed:
    """The order's status after the action, and what happened in words."""

    order_id: str
    status: str
    outcome: str


def _order(uow: UnitOfWork, order_id: str, who: Principal) -> Order:
    """The order, locked; NotFound for one outside the person's shops."""
    order = uow.orders.get(order_id, for_update=True)
    if not who.sees_shop(order.shop):
        raise NotFound("order", order_id)
    return order


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise OrderhubError("reason: say why, in a few words; it is kept with the order")
    return text


def _held_by_person(uow: UnitOfWork, order: Order) -> bool:
    return order.status is OrderStatus.HELD and any(
        x.code == HELD_BY_PERSON
        for x in uow.exceptions.open_about(order_id=order.id, inbox_id=None, job_id=None)
    )


def _not_at_node(uow: UnitOfWork, order: Order, doing: str) -> None:
    """Take the order out of dispatches not sent yet; NotNow if a node already has it."""
    if order.status is OrderStatus.PUSHED or (
        order.status in _BEFORE_THE_NODE and withdraw_order(uow, order)
    ):
        raise NotNow(
            f"order {order.id} is already at its node: it can no longer be {doing}; "
            "cancel it instead"
        )
    if order.status not in _BEFORE_THE_NODE:
        raise NotNow(f"order {order.id} is {order.status.value}: it can no longer be {doing}")


def route_again(
    uow: UnitOfWork,
    order: Order,
    *,
    stock_window: float,
    duplicate_window: float,
    only_node: str | None = None,
) -> None:
    """Give back what the order holds and route it again from the start (to `only_node`
    alone when a person chose it); a node must no longer have it."""
    release(uow, order, reason="routed again by a person", stock_window=stock_window)
    if order.status is OrderStatus.PUSHED:
        order.move_to(OrderStatus.RESERVED)
    if order.status is OrderStatus.RESERVED:
        order.move_to(OrderStatus.HELD)
    uow.exceptions.resolve_for_order(order.id)
    order.move_to(OrderStatus.RECEIVED)
    route(
        uow,
        order,
        uow.catalog.shop(order.shop),
        stock_window=stock_window,
        duplicate_window=duplicate_window,
        only_node=only_node,
    )
    uow.orders.save(order)


def _route_again(hub: Hub, uow: UnitOfWork, order: Order, *, only_node: str | None = None) -> None:
    route_again(
        uow,
        order,
        stock_window=hub.settings.stock_push_window,
        duplicate_window=hub.settings.duplicate_window,
        only_node=only_node,
    )


@dataclass(frozen=True)
class NodeChoice:
    """A node the order may be sent from, with what it has of the order's SKUs now."""

    code: str
    name: str
    kind: str
    enabled: bool
    available: dict[str, int]


def node_choices(hub: Hub, order_id: str, *, who: Principal) -> list[NodeChoice]:
    """The order's shop's nodes, each with its available stock of the order's SKUs."""
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        if not who.sees_shop(order.shop):
            raise NotFound("order", order_id)
        codes = list(uow.catalog.shop(order.shop).nodes)
        skus = sorted({line.sku for line in order.lines if line.sku})
        levels = {(x.node, x.sku): x.available for x in uow.stock.levels(skus=skus, nodes=codes)}
        nodes = [uow.catalog.node(code) for code in codes]
    return [
        NodeChoice(
            n.code,
            n.name,
            n.kind,
            enabled(n),
            {sku: levels.get((n.code, sku), 0) for sku in skus},
        )
        for n in nodes
    ]


def cancel_order(hub: Hub, order_id: str, *, reason: str, who: Principal) -> OrderActed:
    """Stop the order wherever it is: taken back before its node has it, intercepted at
    the node after; its stock comes back, and the shop is told where its platform allows.
    A shipped order is refused: it comes back as a return."""
    why = f"cancelled by {who.name}: {_reason(reason)}"
    with hub.uow() as uow:
        order = _order(uow, order_id, who)
        if order.status in _SHIPPED:
            raise NotNow(
                f"order {order.id} is {order.status.value}: it cannot be cancelled; "
                "open a return when the goods come back"
            )
        if order.status in (OrderStatus.CANCELLED, OrderStatus.CANCELLING):
            raise NotNow(f"order {order.id} is already {order.status.value}")
        outcome = cancel_by_person(uow, order, reason=why, window=hub.settings.stock_push_window)
        told = tell_shop(hub, uow, order)
        uow.commit()
    return OrderActed(order.id, order.status.value, f"{outcome}; {told}")


def hold_order(hub: Hub, order_id: str, *, reason: str, who: Principal) -> OrderActed:
    """Stop the order before its node has it, with the person's reason as its exception;
    what it reserved is given back until it is released."""
    why = f"held by {who.name}: {_reason(reason)}"
    with hub.uow() as uow:
        order = _order(uow, order_id, who)
        if _held_by_person(uow, order):
            raise NotNow(f"order {order.id} is already held by a person")
        _not_at_node(uow, order, "held")
        hold(uow, order, [Problem(HELD_BY_PERSON, why, "", "review")], stage="hold")
        order.approved = False
        uow.orders.save(order)
        uow.commit()
    return OrderActed(order.id, order.status.value, "held")


def release_order(hub: Hub, order_id: str, *, reason: str, who: Principal) -> OrderActed:
    """Let a held order go: the person's decision passes review and the seller's rules
    from now on, and it is routed again (it may be held again for what still stops it,
    such as an unknown SKU or no stock)."""
    why = f"released by {who.name}: {_reason(reason)}"
    with hub.uow() as uow:
        order = _order(uow, order_id, who)
        if order.status is not OrderStatus.HELD:
            raise NotNow(f"order {order.id} is {order.status.value}, not held")
        order.approved = True
        uow.orders.trace(order.id, "release", "ok", why)
        _route_again(hub, uow, order)
        uow.commit()
    return OrderActed(order.id, order.status.value, f"routed again: {order.status.value}")


def send_from(hub: Hub, order_id: str, node: str, *, reason: str, who: Principal) -> OrderActed:
    """Send the order from the node the person chose. Before a node has it, what it
    reserved elsewhere is given back and it reserves there (or waits there for stock);
    once a node has it, that node is asked to stop it, and the order goes to the chosen
    node when it has stopped. Shipped, it is refused."""
    why = f"sent from {node} by {who.name}: {_reason(reason)}"
    with hub.uow() as uow:
        order = _order(uow, order_id, who)
        shop = uow.catalog.shop(order.shop)
        if node not in shop.nodes:
            raise OrderhubError(
                f"node: {node} is not one of shop {shop.code}'s nodes ({', '.join(shop.nodes)})"
            )
        if not enabled(uow.catalog.node(node)):
            raise OrderhubError(f"node: {node} is switched off")
        if order.status in (OrderStatus.RESERVED, OrderStatus.PUSHED):
            at_node = withdraw_order(uow, order)
            if at_node:
                return _move_from_node(uow, order, at_node, node, why)
        _not_at_node(uow, order, "sent from another node")
        uow.orders.trace(order.id, "route", "ok", why)
        order.approved = order.approved or order.status is OrderStatus.HELD
        _route_again(hub, uow, order, only_node=node)
        uow.commit()
    return OrderActed(order.id, order.status.value, f"{order.status.value} at {node}")


def _move_from_node(
    uow: UnitOfWork, order: Order, at_node: list[Dispatch], node: str, why: str
) -> OrderActed:
    """The order is at a node: ask it to stop the order, which then goes to `node`."""
    old = sorted({d.node for d in at_node})
    if old == [node]:
        raise NotNow(f"order {order.id} is already at {node}")
    if uow.outbox.waiting_for_order(order.id, JOB_NODE_CANCEL):
        raise NotNow(
            f"{', '.join(old)} is already being asked to stop order {order.id}: wait for its answer"
        )
    ask_node_to_stop(uow, order, at_node, then_node=node)
    uow.orders.trace(order.id, "route", "ok", f"{why}; asking {', '.join(old)} to stop it")
    uow.commit()
    outcome = f"{', '.join(old)} is asked to stop it; then it goes to {node}"
    return OrderActed(order.id, order.status.value, outcome)


def change_address(
    hub: Hub, order_id: str, fields: Mapping[str, str], *, reason: str, who: Principal
) -> OrderActed:
    """Correct where the order goes before its node has it; the receiver is encrypted
    again on save, and only the names of the fields changed are traced. An order that
    was reserved, or held for what the new address may cure, is routed again with it; one
    a person holds stays held."""
    unknown = sorted(set(fields) - RECEIVER_FIELDS)
    if unknown:
        raise OrderhubError(
            f"{unknown[0]}: not a receiver field; these are: {', '.join(sorted(RECEIVER_FIELDS))}"
        )
    changes = {name: value.strip() for name, value in fields.items()}
    if not changes:
        raise OrderhubError("receiver: give at least one field to change")
    why = _reason(reason)
    with hub.uow() as uow:
        order = _order(uow, order_id, who)
        _not_at_node(uow, order, "sent elsewhere: cancel it and have it ordered again")
        for name, value in changes.items():
            order.set_receiver(name, value)
        names = ", ".join(f"receiver.{n}" for n in sorted(changes))
        uow.orders.trace(order.id, "address", "ok", f"{names} changed by {who.name}: {why}")
        if order.status is OrderStatus.RECEIVED or _held_by_person(uow, order):
            uow.orders.save(order)  # a person's hold stays until it is released
        else:
            _route_again(hub, uow, order)
        uow.commit()
    return OrderActed(order.id, order.status.value, f"address changed: {names}")
