"""The order pipeline inside one transaction: validate → allocate → reserve → queue push.

These functions run inside a caller's unit of work and never call out: the push to the
node is written as an outbox job in the same transaction as the reservation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from orderhub.connectors.registry import CROSS_BORDER_NODES
from orderhub.domain.alerts import Alert
from orderhub.domain.customs import (
    NodeCustoms,
    ShopCustoms,
    check_customs,
    crosses_border,
    fill_customs,
)
from orderhub.domain.errors import Problem
from orderhub.domain.order import Order, OrderStatus
from orderhub.domain.routing import LineNeed, NodeOption, RoutingRequest, add_needs, allocate
from orderhub.domain.rules import RuleHit
from orderhub.domain.stock import expand_bundles
from orderhub.domain.validation import (
    DuplicateCandidate,
    check_duplicate,
    check_order,
    check_phone,
    check_ship_by,
    resolve_skus,
)
from orderhub.observability import metrics
from orderhub.services.alerts import alert_held, raise_alert
from orderhub.services.books import queue_booking
from orderhub.services.dispatch import JOB_NODE_PUSH, dispatch_order, withdraw_order
from orderhub.services.figures import count_sale
from orderhub.services.routing import routing_config, strategies_for, supplier_scores
from orderhub.services.rules import decide
from orderhub.services.switches import enabled
from orderhub.store.catalog import ShopRecord, SkuRecord
from orderhub.store.uow import UnitOfWork

__all__ = [
    "JOB_NODE_PUSH",
    "JOB_REROUTE",
    "JOB_STOCK_PUSH",
    "hold",
    "order_problems",
    "queue_stock_push",
    "release",
    "route",
    "schedule_stock_push",
    "stock_arrived",
]

JOB_STOCK_PUSH = "stock.push"
# What a supplier with no stock feed offers of each SKU it carries.
UNLIMITED = 10**9
JOB_REROUTE = "orders.reroute"


def order_problems(uow: UnitOfWork, order: Order, shop: ShopRecord) -> list[Problem]:
    """The built-in checks every order passes before rules and routing: its SKUs against
    the shop's listings and our catalogue, receiver, lines, amounts and phone. The same
    checks `orderhub map` previews."""
    channel_skus = sorted({line.channel_sku for line in order.lines if line.channel_sku})
    listings = uow.catalog.listing_map(shop.code, channel_skus)
    packs = uow.catalog.listing_packs(shop.code, channel_skus)
    records = uow.catalog.skus(sorted(set(channel_skus) | set(listings.values())))
    problems = resolve_skus(order, listings=listings, known_skus=records, packs=packs)
    problems += check_order(order)
    problems += check_phone(order)
    return problems


def route(
    uow: UnitOfWork,
    order: Order,
    shop: ShopRecord,
    *,
    stock_window: float,
    duplicate_window: float = 0.0,
    review: bool = True,
    now: datetime | None = None,
    only_node: str | None = None,
    new_order: bool = False,
) -> None:
    """Take a received (or replayed) order as far as it can go without calling out.

    Checks, seller rules, review, routing, reservation and dispatch, in that order; an
    order that already passed review (retried when stock arrives) skips it; a node a
    person chose (`only_node`) is the only one it may go to; a `new_order`, made in this
    transaction, has no dispatch to look for. Changes the order in memory (status, each
    line's SKU and node) and writes the stock, exceptions, trace and jobs that follow;
    the caller stores the order itself.
    """
    moment = now or datetime.now(UTC)
    problems = order_problems(uow, order, shop)
    decision = decide(uow, order, now=moment)
    if not order.approved:  # a person let it go: the seller's rules no longer stop it
        problems += [Problem(hit.code, hit.reason, "", "error") for hit in decision.rejects]
    for hit in decision.alerts + decision.errors:
        raise_alert(uow, _rule_alert(order, hit))
    if problems:
        hold(uow, order, problems, stage="validate")
        return
    warnings = check_ship_by(order, moment)
    waits: list[Problem] = []
    if review and not order.approved:
        waits += [Problem(hit.code, hit.reason, "", "review") for hit in decision.holds]
        if duplicate_window > 0:
            waits += _duplicates(uow, order, timedelta(seconds=duplicate_window))
    if waits:
        hold(uow, order, waits + warnings, stage="review")
        return
    for warning in warnings:
        # It still ships, late: staff see it in the queue, and the SLA scan alerts.
        uow.exceptions.open(
            stage="validate",
            code=warning.code,
            message=warning.message,
            field=warning.field,
            severity=warning.severity,
            order_id=order.id,
        )
    config = routing_config(shop)
    records = uow.catalog.skus(sorted({line.sku for line in order.lines if line.sku}))
    recipes = {sku: dict(r.components) for sku, r in records.items() if r.components}
    line_needs = [
        LineNeed(line.line_id, expand_bundles({line.sku: line.quantity * line.pack}, recipes))
        for line in order.lines
        if line.sku
    ]
    needed = add_needs(need.needs for need in line_needs)
    if recipes:
        records = {**records, **uow.catalog.skus(sorted(set(needed) - set(records)))}
    backorder = {sku: records[sku].backorder_limit for sku in needed if sku in records}
    options = _node_options(uow, shop, needed, backorder)
    if only_node is not None:
        options = [option for option in options if option.code == only_node]
    request = RoutingRequest(
        order_id=order.id,
        country=order.receiver.country,
        province=order.receiver.province,
        lines=line_needs,
        options=options,
        split_allowed=config.split and not decision.no_split,
        rule_node=decision.route.node if decision.route else None,
        presale_skus=_presold(needed, backorder, options),
    )
    allocation = allocate(request, strategies_for(shop))
    if allocation is None:
        tried = ", ".join(s.name for s in strategies_for(shop))
        hold(
            uow,
            order,
            [Problem("no_node", f"no node of shop {shop.code} can take it (tried {tried})")],
            stage="allocate",
        )
        return
    uow.orders.trace(order.id, "allocate", "ok", f"{allocation.strategy}: {allocation.reason}")
    declared = _customs_problems(uow, order, shop, allocation.parts, records)
    if declared:
        hold(uow, order, declared, stage="customs")
        return
    short = _reserve_parts(uow, order, allocation.parts, line_needs, backorder)
    if short:
        hold(
            uow,
            order,
            [
                Problem(
                    "out_of_stock",
                    f"not enough stock of {sku} at {node} (needs {needed[sku]}); waiting for stock",
                    "lines",
                )
                for node, sku in short
            ],
            stage="reserve",
        )
        # The shop may have counted the sale itself: show it the hub's figure again.
        schedule_stock_push(uow, {sku for _, sku in short}, window=stock_window)
        return
    for line in order.lines:
        line.node = allocation.line_nodes.get(line.line_id)
    order.move_to(OrderStatus.RESERVED)
    presold = sorted(request.presale_skus)
    where = ", ".join(sorted(allocation.parts))
    uow.orders.trace(
        order.id,
        "reserve",
        "ok",
        f"reserved at {where}" + (f" (presale: {', '.join(presold)})" if presold else ""),
    )
    kinds = {option.code: option.kind for option in request.options}
    dispatch_order(
        uow,
        order,
        allocation.parts,
        kinds=kinds,
        merge_window=config.merge_window,
        merge=not decision.no_merge,
        new_order=new_order,
    )
    metrics.orders.labels("reserved").inc()
    queue_booking(uow, "sale_order", order.id, order)
    count_sale(uow, order)
    schedule_stock_push(uow, needed, window=stock_window)


def _customs_problems(
    uow: UnitOfWork,
    order: Order,
    shop: ShopRecord,
    parts: Mapping[str, Sequence[str]],
    records: Mapping[str, SkuRecord],
) -> list[Problem]:
    """What the parts crossing a border lack, found before anything is reserved or sent."""
    problems: list[Problem] = []
    filled = False
    for code, line_ids in sorted(parts.items()):
        node = uow.catalog.node(code)
        customs = NodeCustoms.model_validate(node.location.get("customs") or {})
        overseas = node.platform in CROSS_BORDER_NODES
        if not crosses_border(
            order, str(node.location.get("country", "")), customs, overseas=overseas
        ):
            continue
        if not filled:
            fill_customs(
                order,
                skus={
                    sku: (r.hs_code, r.customs_description, r.origin_country)
                    for sku, r in records.items()
                },
                shop=ShopCustoms.model_validate(shop.customs),
            )
            filled = True
        problems += check_customs(order, node=code, line_ids=line_ids, customs=customs)
    return problems


def _reserve_parts(
    uow: UnitOfWork,
    order: Order,
    parts: Mapping[str, Sequence[str]],
    line_needs: Sequence[LineNeed],
    backorder: dict[str, int],
) -> list[tuple[str, str]]:
    """Reserve every part at its node, or nothing; the (node, SKU) pairs that were short.

    A supplier with no stock feed takes any quantity and holds no reservation.
    """
    by_line = {need.line_id: need.needs for need in line_needs}
    unlimited = {n.code for n in uow.catalog.nodes() if n.location.get("unlimited_stock")}
    wanted = {
        node: add_needs(by_line[lid] for lid in line_ids if lid in by_line)
        for node, line_ids in sorted(parts.items())
        if node not in unlimited
    }
    if len(wanted) == 1:  # one node: reserve_all is already all or nothing
        ((node, skus),) = wanted.items()
        missing = uow.stock.reserve_all(node, skus, order_id=order.id, backorder=backorder)
        return [(node, sku) for sku in missing]
    short: list[tuple[str, str]] = []
    try:
        with uow.savepoint():
            for node, skus in wanted.items():
                missing = uow.stock.reserve_all(node, skus, order_id=order.id, backorder=backorder)
                short += [(node, sku) for sku in missing]
                if short:
                    raise _Short
    except _Short:
        pass
    return short


class _Short(Exception):
    """Unwinds the reservations of a split order when one part is short."""


def _presold(
    needed: Mapping[str, int], backorder: Mapping[str, int], options: Sequence[NodeOption]
) -> frozenset[str]:
    """SKUs sold ahead of stock: allowed to be, and more than any node has on hand."""
    return frozenset(
        sku
        for sku, quantity in needed.items()
        if backorder.get(sku)
        and all(o.available.get(sku, 0) - backorder[sku] < quantity for o in options)
    )


def _rule_alert(order: Order, hit: RuleHit) -> Alert:
    if hit.error:
        return Alert(
            "rule_error",
            f"rule_error:{hit.rule}",
            f"rule {hit.rule} could not be evaluated: {hit.error}",
            "error",
            {"rule": hit.rule, "order_id": order.id},
        )
    return Alert(
        "rule",
        f"rule:{hit.rule}:{order.id}",
        f"order {order.order_no or order.channel_order_id} of {order.shop}: {hit.reason}",
        hit.severity or "warning",
        {"rule": hit.rule, "order_id": order.id},
    )


def _duplicates(uow: UnitOfWork, order: Order, window: timedelta) -> list[Problem]:
    """Hold an order that repeats one the same buyer placed shortly before."""
    key = uow.orders.buyer_key(order)
    since = order.placed_at - window
    earlier = [
        DuplicateCandidate.of(o)
        for o in uow.orders.recent_by_buyer(order.shop, key, since=since, exclude=order.id)
        if o.status is not OrderStatus.CANCELLED and o.placed_at <= order.placed_at
    ]
    return check_duplicate(order, earlier, window=window) if earlier else []


def shop_node_codes(uow: UnitOfWork, shop: ShopRecord) -> list[str]:
    """The switched-on nodes a shop's orders may go to, in the shop's order."""
    nodes = {n.code for n in uow.catalog.nodes() if enabled(n)}
    return [code for code in (shop.nodes or sorted(nodes)) if code in nodes]


def order_skus(uow: UnitOfWork, order: Order) -> set[str]:
    """Our SKUs an order's lines may name, before they are resolved: each channel SKU's
    listing, and the channel SKU itself (a SKU of ours sold under its own code)."""
    channel_skus = {line.channel_sku for line in order.lines if line.channel_sku}
    listings = uow.catalog.listing_map(order.shop, sorted(channel_skus))
    return channel_skus | set(listings.values())


def _node_options(
    uow: UnitOfWork, shop: ShopRecord, needed: dict[str, int], backorder: dict[str, int]
) -> list[NodeOption]:
    nodes = {n.code: n for n in uow.catalog.nodes() if enabled(n)}
    codes = shop_node_codes(uow, shop)
    available: dict[str, dict[str, int]] = {code: {} for code in codes}
    for level in uow.stock.levels(skus=needed, nodes=codes):
        available[level.node][level.sku] = level.available + backorder.get(level.sku, 0)
    scores = supplier_scores(uow) if any(nodes[c].kind == "supplier" for c in codes) else {}
    options = []
    for code in codes:
        node = nodes[code]
        where = node.location
        if where.get("unlimited_stock"):
            carries = set(where.get("skus") or needed)
            available[code] = {sku: UNLIMITED for sku in needed if sku in carries}
        options.append(
            NodeOption(
                code=code,
                priority=node.priority,
                available=available[code],
                kind=node.kind,
                country=str(where.get("country", "")),
                province=str(where.get("province", "")),
                costs={k: Decimal(str(v)) for k, v in dict(where.get("costs", {})).items()},
                score=scores.get(code),
            )
        )
    return options


def hold(uow: UnitOfWork, order: Order, problems: Sequence[Problem], *, stage: str) -> None:
    """Hold the order with one open exception per problem (replacing older ones);
    the caller stores the order."""
    if order.status is OrderStatus.RESERVED:
        release(uow, order, reason="held")
        withdraw_order(uow, order)
    order.move_to(OrderStatus.HELD)
    uow.exceptions.resolve_for_order(order.id)
    for problem in problems:
        uow.exceptions.open(
            stage=stage,
            code=problem.code,
            message=problem.message,
            field=problem.field,
            severity=problem.severity,
            order_id=order.id,
        )
    uow.orders.trace(order.id, stage, "held", "; ".join(f"{p.code}: {p.message}" for p in problems))
    alert_held(uow, order, problems)
    metrics.orders.labels("held").inc()


def release(uow: UnitOfWork, order: Order, *, reason: str, stock_window: float = 1.0) -> None:
    """Give back the order's reservations and let the shops show the stock again."""
    touched = uow.stock.release(order.id, reason=reason)
    if touched:
        skus = {sku for _, sku in touched}
        uow.orders.trace(order.id, "release", "ok", reason)
        schedule_stock_push(uow, skus, window=stock_window)
        stock_arrived(uow, skus)


def schedule_stock_push(uow: UnitOfWork, skus: Iterable[str], *, window: float) -> None:
    """Queue one coalesced stock push per affected SKU, due on the next tick of `window`.

    While a push is pending, further changes add nothing: the push reads the stock when
    it runs, so the last value always wins. Every SKU changed within one window falls due
    at the same tick, so their figures go to each shop together (`push_stock`).
    """
    changed = sorted(set(skus))
    if not changed:
        return
    changed = sorted(set(changed) | uow.catalog.bundles_containing(changed))
    for sku in changed:
        queue_stock_push(uow, sku, window=window)


def queue_stock_push(uow: UnitOfWork, sku: str, *, window: float) -> None:
    """One SKU's coalesced push, due on the next tick of `window`."""
    uow.outbox.add(
        JOB_STOCK_PUSH,
        {"sku": sku},
        coalesce_key=f"stock:{uow.tenant}:{sku}",
        delay=window,
        on_the_tick=True,
    )


def stock_arrived(uow: UnitOfWork, skus: Iterable[str]) -> None:
    """More of these SKUs can be sold: queue one coalesced retry of the orders waiting
    for each of them."""
    for sku in sorted(set(skus)):
        uow.outbox.add(JOB_REROUTE, {"sku": sku}, coalesce_key=f"reroute:{uow.tenant}:{sku}")
