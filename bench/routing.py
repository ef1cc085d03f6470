"""Routing decisions per second, and the time to re-route held orders when stock arrives.

Decisions: one core, 50 seller rules (CEL, compiled once) and 20 nodes. A decision is
what the pipeline does for each order before it touches the database: build the rule
facts, evaluate every active rule, then run the shop's strategies (rule, region,
stock_first, nearest, lowest_cost, split, home_node) over the 20 nodes. The rules are
written so that almost none match, so all 50 are evaluated for every order (the worst
case). The reference, in the same run, makes the same decisions with the 50 conditions
written as plain Python functions instead of CEL.

Re-route: 10,000 orders held out of stock on one SKU, then one stocktake that covers
them all; timed from the stocktake until every order is reserved and queued for its
warehouse, by a worker running only re-route batches (the pushes themselves run in
lanes of their own and are not timed), on PostgreSQL (a throwaway server, default
settings) or SQLite.

One JSON object on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import log, postgres_server
from orderhub.config import (
    HubConfig,
    NodeConfig,
    Settings,
    ShopConfig,
    SkuConfig,
    StockConfig,
)
from orderhub.crypto import Cipher
from orderhub.domain.allocation import RoutingConfig, build_strategies
from orderhub.domain.geo import PROVINCE_CAPITALS
from orderhub.domain.order import Address, Order, OrderLine, Totals
from orderhub.domain.routing import LineNeed, NodeOption, RoutingRequest, allocate
from orderhub.domain.rules import Facts, RuleSet, order_facts
from orderhub.jobs.worker import Worker
from orderhub.services.hub import Hub
from orderhub.services.inventory import apply_stocktake
from orderhub.services.pipeline import JOB_REROUTE, route
from orderhub.services.setup import apply_config
from orderhub.store.db import Database, make_engine, upgrade_schema

PROVINCES = sorted(PROVINCE_CAPITALS)
SKUS = [f"SKU-{i:03d}" for i in range(200)]
STRATEGIES = ["rule", "region", "stock_first", "nearest", "lowest_cost", "split", "home_node"]


def _rules(count: int) -> tuple[RuleSet, list[Callable[[Order], bool]]]:
    """`count` rules that rarely match, as CEL and as the same checks in plain Python."""
    cel: list[dict[str, Any]] = []
    python: list[Callable[[Order], bool]] = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            limit = 100_000 + i
            cel.append({"when": f"order.totals.grand_total > {limit}", "action": "hold"})
            python.append(lambda o, limit=limit: o.totals.grand_total > limit)
        elif kind == 1:
            word = f"关键词{i}"
            cel.append({"when": f"order.remarks.buyer.contains('{word}')", "action": "hold"})
            python.append(lambda o, word=word: word in o.remarks.buyer)
        elif kind == 2:
            sku = f"RARE-{i}"
            cel.append(
                {
                    "when": f"order.lines.exists(l, l.sku == '{sku}')",
                    "action": "route",
                    "node": "N00",
                }
            )
            python.append(lambda o, sku=sku: any(x.sku == sku for x in o.lines))
        elif kind == 3:
            cel.append(
                {
                    "when": f"order.receiver.country == 'XX{i}' && order.totals.grand_total > 10",
                    "action": "alert",
                }
            )
            python.append(
                lambda o, c=f"XX{i}": o.receiver.country == c and o.totals.grand_total > 10
            )
        else:
            n = 50 + i
            cel.append({"when": f"size(order.lines) > {n}", "action": "reject"})
            python.append(lambda o, n=n: len(o.lines) > n)
    body = {
        "name": "bench",
        "rules": [{"name": f"r{i}", "reason": f"rule {i}", **rule} for i, rule in enumerate(cel)],
    }
    return RuleSet.model_validate(body), python


def _nodes(count: int, rng: random.Random) -> list[NodeOption]:
    return [
        NodeOption(
            code=f"N{i:02d}",
            priority=count - i,
            available={sku: rng.choice((0, 0, 5, 50)) for sku in SKUS},
            country="CN",
            province=PROVINCES[i % len(PROVINCES)],
            costs={"*": Decimal(rng.randrange(5, 20)), PROVINCES[i % len(PROVINCES)]: Decimal(4)},
        )
        for i in range(count)
    ]


def _orders(count: int, rng: random.Random) -> list[Order]:
    orders = []
    for i in range(count):
        lines = [
            OrderLine(line_id=str(n), channel_sku=sku, sku=sku, quantity=rng.randint(1, 3))
            for n, sku in enumerate(rng.sample(SKUS, rng.choice((1, 1, 2, 3))))
        ]
        orders.append(
            Order(
                id=f"o{i}",
                shop="S1",
                platform="shopify",
                channel_order_id=str(i),
                placed_at=datetime.now(UTC),
                currency="CNY",
                totals=Totals(grand_total=Decimal(rng.randrange(10, 5000))),
                receiver=Address(country="CN", province=rng.choice(PROVINCES), city="x"),
                lines=lines,
            )
        )
    return orders


def decisions(rule_count: int, node_count: int, orders: int) -> dict[str, Any]:
    rng = random.Random(7)
    rule_set, python_rules = _rules(rule_count)
    compiled = rule_set.compile()
    options = _nodes(node_count, rng)
    config = RoutingConfig(
        strategies=STRATEGIES, regions={"新疆": "N01", "西藏": "N01"}, split=True
    )
    strategies = build_strategies(config)
    batch = _orders(orders, rng)
    now = datetime.now(UTC)

    def request(order: Order, rule_node: str | None) -> RoutingRequest:
        return RoutingRequest(
            order_id=order.id,
            country=order.receiver.country,
            province=order.receiver.province,
            lines=[LineNeed(x.line_id, {x.sku or "": x.quantity}) for x in order.lines],
            options=options,
            split_allowed=True,
            rule_node=rule_node,
        )

    def hub_decide(order: Order) -> Any:
        decision = compiled.evaluate(Facts(order_facts(order, now=now)))
        node = decision.route.node if decision.route else None
        return allocate(request(order, node), strategies)

    def reference_decide(order: Order) -> Any:
        matched = [rule for rule in python_rules if rule(order)]
        return allocate(request(order, None if not matched else "N00"), strategies)

    results: dict[str, Any] = {"rules": rule_count, "nodes": node_count, "orders": orders}
    for name, fn in (("hub", hub_decide), ("reference", reference_decide)):
        fn(batch[0])
        started = time.process_time()
        placed = sum(1 for order in batch if fn(order) is not None)
        cpu = time.process_time() - started
        results[name] = {"decisions_per_s": round(orders / cpu), "placed": placed}
        log(f"{name}: {orders / cpu:,.0f} decisions/s on one core")
    rules_only = time.process_time()
    for order in batch:
        compiled.evaluate(Facts(order_facts(order, now=now)))
    results["hub"]["rules_us_per_order"] = round(
        (time.process_time() - rules_only) / orders * 1e6, 1
    )
    results["ratio_to_reference"] = round(
        results["hub"]["decisions_per_s"] / results["reference"]["decisions_per_s"], 3
    )
    return results


def reroute(url: str, held: int) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    settings = Settings(database_url=url, tenant="bench", worker_batch=200, stock_push_window=60.0)
    hub = Hub(Database(make_engine(url), Cipher({"k": b"b" * 32}, "k"), tenant="bench"), settings)
    apply_config(
        hub,
        HubConfig(
            shops=[
                ShopConfig(
                    code="S1",
                    platform="shopify",
                    nodes=["WH1"],
                    settings={"base_url": "http://127.0.0.1:9", "shop_domain": "s.myshopify.com"},
                    secrets={"access_token": "t", "webhook_secret": "s"},
                )
            ],
            nodes=[
                NodeConfig(
                    code="WH1",
                    platform="qimen",
                    settings={
                        "base_url": "http://127.0.0.1:9/router",
                        "app_key": "k",
                        "customer_id": "c",
                        "warehouse_code": "WH1",
                        "owner_code": "c",
                    },
                    secrets={"app_secret": "s"},
                )
            ],
            skus=[SkuConfig(sku="HOT")],
            stock=[StockConfig(node="WH1", sku="HOT", on_hand=0)],
        ),
    )
    log(f"holding {held} orders out of stock")
    rng = random.Random(3)
    for start in range(0, held, 500):
        with hub.uow() as uow:
            shop = uow.catalog.shop("S1")
            for i in range(start, min(held, start + 500)):
                order = _orders(1, rng)[0].model_copy(
                    update={"id": "", "channel_order_id": str(i), "lines": []}
                )
                order.lines = [OrderLine(line_id="1", channel_sku="HOT", quantity=1)]
                order.receiver = Address(
                    name="张三",
                    phone=f"138{i:08d}",
                    country="CN",
                    province="浙江",
                    city="杭州",
                    address1="文三路100号",
                )
                order.totals = Totals()
                order.id = f"o{i:06d}"
                route(uow, order, shop, stock_window=60.0)
                uow.orders.add(order)
            uow.commit()
    with hub.reader() as uow:
        counts = uow.orders.count_by_status()
    assert counts.get("held") == held, counts
    # Only re-routing is timed: the pushes it queues run in lanes of their own.
    worker = Worker(hub, threads=2, kinds=[JOB_REROUTE])
    started = time.perf_counter()
    apply_stocktake(hub, "WH1", {"HOT": held}, reason="delivery")
    worker.start()
    try:
        while True:
            with hub.reader() as uow:
                counts = uow.orders.count_by_status()
            if counts.get("held", 0) == 0:
                break
            time.sleep(0.2)
    finally:
        elapsed = time.perf_counter() - started
        worker.stop()
        hub.close()
    log(f"re-routed {held} orders in {elapsed:.1f} s")
    return {"held": held, "seconds": round(elapsed, 2), "orders_per_s": round(held / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--held", type=int, default=10_000)
    parser.add_argument(
        "--database", choices=("postgresql", "sqlite", "none"), default="postgresql"
    )
    args = parser.parse_args()
    result: dict[str, Any] = {"decisions": decisions(args.rules, args.nodes, args.orders)}
    if args.database != "none":
        with ExitStack() as stack:
            if args.database == "postgresql":
                url = stack.enter_context(postgres_server())
            else:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                url = f"sqlite:///{folder / 'bench.db'}"
            result["reroute"] = {"database": args.database, **reroute(url, args.held)}
    targets = {
        "decisions_per_s_at_least_5000": result["decisions"]["hub"]["decisions_per_s"] >= 5000
    }
    if "reroute" in result and result["reroute"]["held"] >= 10_000:
        targets["reroute_10000_under_30_s"] = result["reroute"]["seconds"] < 30
    result["targets_met"] = targets
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
