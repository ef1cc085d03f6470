"""`orderhub demo`: the hub on SQLite with emulated Shopify shops and a Qimen warehouse.

`Stack` starts everything on loopback (emulators, the hub's HTTP API and a worker) and
wires them together exactly as a seller would: shops and a warehouse in configuration,
webhooks registered through the shop's API, the warehouse calling the hub back. The
tests and benchmarks use the same stack.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from sqlalchemy.engine import make_url

from orderhub.api.app import create_app
from orderhub.bootstrap import build_hub
from orderhub.config import (
    HubConfig,
    ListingConfig,
    NodeConfig,
    Settings,
    ShopConfig,
    SkuConfig,
    StockConfig,
)
from orderhub.demo_marketplaces import MARKETPLACES, start_marketplace
from orderhub.domain.errors import ConfigurationError
from orderhub.jobs.scheduler import Scheduler
from orderhub.jobs.worker import Worker
from orderhub.sandbox.qimen import QimenEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.sandbox.supplier import SupplierEmulator
from orderhub.services import queries
from orderhub.services.accounts import create_user
from orderhub.services.alerts import JOB_ALERT_DIGEST
from orderhub.services.audit import cli_principal
from orderhub.services.hub import Hub
from orderhub.services.inventory import JOB_RECONCILE
from orderhub.services.keeping import JOB_RETENTION
from orderhub.services.setup import apply_config
from orderhub.services.sla import JOB_SLA_SCAN
from orderhub.services.sync import JOB_PULL, pull_orders

__all__ = ["DemoOptions", "Stack", "StackOptions", "run_demo"]

DEMO_DATABASE = "sqlite:///./orderhub-demo.db"
HOUSEKEEPING = (JOB_ALERT_DIGEST, JOB_SLA_SCAN, JOB_PULL, JOB_RECONCILE, JOB_RETENTION)
TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "refunds/create")
QIMEN_KEY, QIMEN_SECRET, QIMEN_CUSTOMER = "demo-app-key", "demo-app-secret", "demo-owner"
SUPPLIER_ID, SUPPLIER_SECRET = "demo-supplier", "demo-supplier-secret"
WAREHOUSE_PROVINCES = ("浙江", "四川", "广东", "北京")
MARKET_CODES = {"taobao": "TB1", "jd": "JD1", "pdd": "PD1", "douyin": "DY1"}


@dataclass
class StackOptions:
    """What to emulate: shops, SKUs and stock, and how the emulators behave."""

    shops: int = 1
    skus: int = 5
    stock: int = 1000
    ship_delay: float = 0.2
    leak_rate: float = 200.0
    bucket_size: int = 400
    webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)
    start_worker: bool = True
    worker_threads: int | None = None
    warehouses: int = 1
    stock_by_node: dict[str, dict[str, int]] | None = None
    supplier: bool = False
    supplier_ack_delay: float = 0.05
    file_supplier: bool = False
    routing: dict[str, Any] = field(default_factory=dict)
    marketplaces: tuple[str, ...] = ()  # one pulled shop of each, e.g. ("taobao",)
    api_port: int = 0  # the hub's API and console; 0, or a port in use, picks a free one


@dataclass
class Stack:
    """Emulators, the hub's API and a worker, all on loopback."""

    settings: Settings
    options: StackOptions = field(default_factory=StackOptions)
    hub: Hub = field(init=False)
    worker: Worker | None = field(init=False, default=None)
    shops: dict[str, ShopifyEmulator] = field(init=False, default_factory=dict)
    qimen: QimenEmulator = field(init=False)
    warehouses: dict[str, QimenEmulator] = field(init=False, default_factory=dict)
    supplier: SupplierEmulator | None = field(init=False, default=None)
    marketplaces: dict[str, Any] = field(init=False, default_factory=dict)
    api: RunningServer = field(init=False)
    hub_config: HubConfig = field(init=False)
    _servers: list[RunningServer] = field(init=False, default_factory=list)

    @property
    def sku_codes(self) -> list[str]:
        return [f"SKU-{i + 1:03d}" for i in range(self.options.skus)]

    def start(self) -> Stack:
        o = self.options
        self.hub = build_hub(self.settings)
        node_configs = []
        for n in range(o.warehouses):
            code = f"WH{n + 1}"
            wms = QimenEmulator(
                QIMEN_KEY,
                QIMEN_SECRET,
                QIMEN_CUSTOMER,
                warehouse_code=code,
                ship_delay=o.ship_delay,
            )
            url = self._serve(wms.app).url
            self.warehouses[code] = wms
            node_configs.append(
                NodeConfig(
                    code=code,
                    platform="qimen",
                    name=f"Demo warehouse {n + 1}",
                    priority=o.warehouses - n,
                    country="CN",
                    province=WAREHOUSE_PROVINCES[n % len(WAREHOUSE_PROVINCES)],
                    settings={
                        "base_url": f"{url}/router/qimen/service",
                        "app_key": QIMEN_KEY,
                        "customer_id": QIMEN_CUSTOMER,
                        "warehouse_code": code,
                        "owner_code": QIMEN_CUSTOMER,
                    },
                    secrets={"app_secret": QIMEN_SECRET},
                )
            )
        self.qimen = self.warehouses["WH1"]
        if o.file_supplier:
            node_configs.append(
                NodeConfig(
                    code="SUP-F",
                    platform="supplier_file",
                    kind="supplier",
                    name="Supplier without an API",
                    unlimited_stock=True,
                )
            )
        if o.supplier:
            self.supplier = SupplierEmulator(
                SUPPLIER_ID,
                SUPPLIER_SECRET,
                ack_delay=o.supplier_ack_delay,
                ship_delay=o.ship_delay,
                callback_retry_delays=(0.1, 0.2, 0.5, 1.0, 2.0),
            )
            self.supplier.start()
            url = self._serve(self.supplier.app).url
            node_configs.append(
                NodeConfig(
                    code="SUP1",
                    platform="supplier_api",
                    kind="supplier",
                    name="Demo drop-ship supplier",
                    unlimited_stock=True,
                    settings={"base_url": url, "supplier_id": SUPPLIER_ID},
                    secrets={"secret": SUPPLIER_SECRET},
                )
            )
        self.api = self._serve_api(create_app(self.hub), o.api_port)
        shop_configs = []
        for i in range(o.shops):
            code = f"SHOP{i + 1}"
            emulator = ShopifyEmulator(
                shop_domain=f"demo-shop-{i + 1}.myshopify.com",
                bucket_size=o.bucket_size,
                leak_rate=o.leak_rate,
                webhook_retry_delays=o.webhook_retry_delays,
            )
            emulator.seed_product({"skus": self.sku_codes, "price": "19.90", "stock": 0})
            server = self._serve(emulator.app)
            self.shops[code] = emulator
            shop_configs.append(
                ShopConfig(
                    code=code,
                    platform="shopify",
                    name=f"Demo shop {i + 1}",
                    nodes=[n.code for n in node_configs],
                    routing=o.routing,
                    settings={"base_url": server.url, "shop_domain": emulator.shop_domain},
                    secrets={
                        "access_token": emulator.access_token,
                        "webhook_secret": emulator.client_secret,
                    },
                )
            )
        printers: list[tuple[str, dict[str, Any]]] = []
        for platform in o.marketplaces:
            code = MARKET_CODES.get(platform, platform.upper())
            market = start_marketplace(
                platform,
                code,
                skus=self.sku_codes,
                stock=0,
                nodes=[n.code for n in node_configs],
                routing=o.routing,
                serve=self._serve,
                webhook_url=f"{self.api.url}/webhooks/{code}",
            )
            self.marketplaces[code] = market.emulator
            shop_configs.append(market.shop)
            printers.append(market.printer)
        stock = o.stock_by_node or {"WH1": {sku: o.stock for sku in self.sku_codes}}
        config = HubConfig(
            shops=shop_configs,
            nodes=node_configs,
            skus=[SkuConfig(sku=s, title=f"Demo item {s}") for s in self.sku_codes],
            listings=[
                ListingConfig(shop=shop.code, channel_sku=s, sku=s)
                for shop in shop_configs
                for s in self.sku_codes
            ],
            stock=[
                StockConfig(node=node, sku=sku, on_hand=quantity)
                for node, levels in stock.items()
                for sku, quantity in levels.items()
            ],
        )
        self.hub_config = config
        apply_config(self.hub, config)
        for code, wms in self.warehouses.items():
            wms.set_stock(dict(stock.get(code, {})))
            wms.configure(callback_url=f"{self.api.url}/callbacks/{code}", printers=dict(printers))
        if self.supplier is not None:
            self.supplier.configure(callback_url=f"{self.api.url}/callbacks/SUP1")
        with self.hub.uow() as uow:
            records = uow.catalog.shops()
        for record in records:
            self.hub.channel(record).register_webhooks(
                address=f"{self.api.url}/webhooks/{record.code}", topics=TOPICS
            )
        if o.start_worker:
            self.worker = Worker(self.hub, threads=o.worker_threads)
            self.worker.start()
        return self

    def _serve_api(self, app: Any, port: int) -> RunningServer:
        if port:
            try:
                server = serve_in_thread(app, port=port)
            except OSError:
                pass
            else:
                self._servers.append(server)
                return server
        return self._serve(app)

    def _serve(self, app: Any) -> RunningServer:
        server = serve_in_thread(app)
        self._servers.append(server)
        return server

    def stop(self) -> None:
        if self.worker:
            self.worker.stop()
        for server in reversed(self._servers):
            server.stop()
        for emulator in self.shops.values():
            emulator.close()
        for wms in self.warehouses.values():
            wms.stop()
        if self.supplier is not None:
            self.supplier.stop()
        for market in self.marketplaces.values():
            market.stop()
        self.hub.close()

    def placed(self) -> int:
        shopify = sum(int(e.stats()["orders_placed"]) for e in self.shops.values())
        return shopify + sum(len(e.orders()) for e in self.marketplaces.values())

    def webhooks_settled(self) -> bool:
        for emulator in self.shops.values():
            counts = emulator.stats()["webhooks"]
            if counts.get("pending", 0):
                return False
        return True

    def summary(self) -> dict[str, Any]:
        """What happened, counted on both sides: the emulators' and the hub's."""
        stats = queries.hub_stats(self.hub)
        orders = stats["orders"]
        return {
            "placed": self.placed(),
            "received": sum(orders.values()),
            "pushed_to_warehouse": sum(
                int(wms.stats().get("distinct_orders", 0)) for wms in self.warehouses.values()
            ),
            "shipped": stats["shipments"],
            "confirmed_to_channel": sum(int(e.stats()["fulfillments"]) for e in self.shops.values())
            + sum(_consigned(e) for e in self.marketplaces.values()),
            "completed": orders.get("completed", 0),
            "held": orders.get("held", 0),
            "cancelled": orders.get("cancelled", 0),
            "exceptions": stats["open_exceptions"],
            "oversold": stats["oversold"],
            "listed_stock": {
                **{code: e.inventory_by_sku() for code, e in self.shops.items()},
                **{code: e.stock() for code, e in self.marketplaces.items()},
            },
            "by_shop": self.by_shop(),
        }

    def by_shop(self) -> dict[str, dict[str, int]]:
        """Per shop: placed there, received by the hub, at the warehouse, shipped, confirmed
        back to the shop, and held."""
        counts = queries.orders_by_shop(self.hub)
        found = {}
        for code, emulator in {**self.shops, **self.marketplaces}.items():
            mine = counts.get(code, {})
            shopify = code in self.shops
            found[code] = {
                "placed": int(emulator.stats()["orders_placed"])
                if shopify
                else len(emulator.orders()),
                "received": sum(mine.values()),
                "pushed": sum(mine.get(s, 0) for s in ("pushed", *_SHIPPED)),
                "shipped": sum(mine.get(s, 0) for s in _SHIPPED),
                "confirmed": int(emulator.stats()["fulfillments"])
                if shopify
                else _consigned(emulator),
                "held": mine.get("held", 0),
            }
        return found

    def settled(self) -> bool:
        """Every placed order is in the hub and nothing is left to do for them: periodic
        housekeeping (the alert digest, scans) waiting for its next turn does not count."""
        stats = queries.hub_stats(self.hub)
        orders = stats["orders"]
        with self.hub.reader() as uow:
            busy = uow.outbox.busy_count(excluding=HOUSEKEEPING)
        in_flight = sum(
            orders.get(s, 0)
            for s in (
                "received",
                "reserved",
                "pushed",
                "partially_shipped",
                "shipped",
                "cancelling",
                "returning",
            )
        )
        return (
            sum(orders.values()) + stats["inbox"].get("failed", 0) >= self.placed()
            and busy == 0
            and in_flight == 0
            and self.webhooks_settled()
        )


_SHIPPED = ("partially_shipped", "shipped", "completed", "returning", "returned")


def _consigned(emulator: Any) -> int:
    """Trades a marketplace shows as sent with a tracking number."""
    orders = emulator.orders().values()
    return sum(1 for order in orders if order.get("consign_time") or order.get("shipments"))


@dataclass
class DemoOptions:
    """The demo's knobs, as the CLI passes them."""

    orders: int = 200
    rate: float = 20.0
    shops: int = 1
    stock: int = 1000
    skus: int = 1
    exit_when_done: bool = False
    quiet: bool = False
    channels: tuple[str, ...] = ("shopify",)
    port: int = 8000  # the console's; another is picked when it is taken


DEMO_MARK = ".made-by-orderhub-demo"
"""Beside a SQLite file the demo made: only such a file may be replaced by the next demo."""


class DemoRefused(ConfigurationError):
    """The demo would have used a database it did not make; nothing was touched."""


def _demo_settings() -> Settings:
    """The demo's database: a SQLite file it makes (or made before, and may replace), or
    an empty PostgreSQL database. Anything else is refused untouched."""
    settings = Settings()
    if "ORDERHUB_DATABASE_URL" not in os.environ:
        settings.database_url = DEMO_DATABASE
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        _claim_sqlite(Path(url.database))
    elif url.get_backend_name() == "sqlite":
        pass
    else:
        _check_postgres(settings.database_url)
        settings.tenant = f"demo-{int(time.time())}"
    settings.stock_push_window = 0.5
    settings.pull_interval = 3600
    settings.poll_interval = 2
    return settings


def _claim_sqlite(path: Path) -> None:
    mark = path.with_name(path.name + DEMO_MARK)
    if path.exists() and not mark.exists():
        raise DemoRefused(
            f"orderhub demo will not use {path.resolve()}: the file exists and was not made by the "
            "demo; move it away or set ORDERHUB_DATABASE_URL to a new file"
        )
    for suffix in ("", "-wal", "-shm", ".key"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    if not path.parent.is_dir():
        raise DemoRefused(f"the folder {path.parent} for the demo's database does not exist")
    mark.write_text("This database was made by `orderhub demo`; the next demo may replace it.\n")


def _check_postgres(database_url: str) -> None:
    """A PostgreSQL database is used only while it holds no tables but the demo's own."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            tenants: set[str] = set()
            if "shops" in tables:
                tenants = set(conn.execute(text("SELECT DISTINCT tenant FROM shops")).scalars())
    except Exception as exc:
        raise DemoRefused(f"cannot reach the demo's database: {exc}") from exc
    finally:
        engine.dispose()
    if any(not tenant.startswith("demo-") for tenant in tenants):
        raise DemoRefused(
            f"orderhub demo will not use {make_url(database_url).database}: it holds data "
            "that is not the demo's; give it an empty database"
        )


def _progress(stack: Stack, started: float) -> Table:
    summary = stack.summary()
    table = Table(title=f"orderhub demo — {time.monotonic() - started:.0f}s")
    table.add_column("stage")
    table.add_column("orders", justify="right")
    for key in (
        "placed",
        "received",
        "pushed_to_warehouse",
        "shipped",
        "confirmed_to_channel",
        "completed",
        "held",
        "exceptions",
        "oversold",
    ):
        table.add_row(key.replace("_", " "), str(summary[key]))
    if len(summary["by_shop"]) > 1:
        for code, row in summary["by_shop"].items():
            table.add_row(
                f"{code}",
                f"{row['received']}/{row['placed']} in, {row['shipped']} shipped, "
                f"{row['confirmed']} confirmed, {row['held']} held",
            )
    for code, stock in summary["listed_stock"].items():
        table.add_row(f"{code} listed stock", " ".join(f"{v}" for v in stock.values()))
    return table


def _line(stack: Stack, started: float) -> str:
    """One plain progress line, for output that is not a terminal."""
    summary = stack.summary()
    return (
        f"{time.monotonic() - started:.0f}s: placed {summary['placed']}, "
        f"received {summary['received']}, at warehouse {summary['pushed_to_warehouse']}, "
        f"shipped {summary['shipped']}, confirmed {summary['confirmed_to_channel']}, "
        f"held {summary['held']}, exceptions {summary['exceptions']}, "
        f"oversold {summary['oversold']}"
    )


class _Report:
    """Progress as a live table on a terminal, or a plain line every few seconds when the
    output goes to a file or a pipe; and one line when every order has settled."""

    EVERY = 2.0

    def __init__(self, stack: Stack, started: float, console: Console) -> None:
        self.stack, self.started, self.console = stack, started, console
        self.live = (
            Live(_progress(stack, started), console=console, refresh_per_second=4)
            if console.is_terminal
            else None
        )
        self.printed = 0.0
        self.settled_said = False

    def __enter__(self) -> _Report:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def tick(self, *, force: bool = False) -> None:
        if self.live is not None:
            self.live.update(_progress(self.stack, self.started))
        elif force or time.monotonic() - self.printed >= self.EVERY:
            self.printed = time.monotonic()
            self.console.print(_line(self.stack, self.started))

    def settled(self, *, exiting: bool) -> None:
        if self.settled_said:
            return
        self.settled_said = True
        self.tick(force=True)
        then = "" if exiting else "; the hub keeps running, Ctrl-C stops it"
        self.console.print(
            f"all {self.stack.placed()} orders settled after "
            f"{time.monotonic() - self.started:.0f}s{then}"
        )


def run_demo(options: DemoOptions, *, on_tick: Callable[[], None] | None = None) -> dict[str, Any]:
    """Place orders at a steady rate, show progress, and return the summary."""
    unknown = set(options.channels) - {"shopify", *MARKETPLACES}
    if unknown or not options.channels:
        known = ", ".join(("shopify", *MARKETPLACES))
        raise ConfigurationError(f"--channels takes some of {known}, not {','.join(unknown)}")
    stack = Stack(
        _demo_settings(),
        StackOptions(
            shops=options.shops if "shopify" in options.channels else 0,
            skus=options.skus,
            stock=options.stock,
            marketplaces=tuple(c for c in options.channels if c != "shopify"),
            api_port=options.port,
        ),
    ).start()
    password = secrets.token_urlsafe(9)
    create_user(stack.hub, "demo", "owner", actor=cli_principal(), password=password)
    # Marketplaces push nothing: the scheduler polls them, as `orderhub worker` does.
    scheduler = Scheduler(stack.hub) if stack.marketplaces else None
    if scheduler is not None:
        scheduler.start()
    console = Console(stderr=True, quiet=options.quiet, soft_wrap=True)
    rng = random.Random(7)
    console.print(
        f"Console: {stack.api.url}/  (sign in as [bold]demo[/], password [bold]{password}[/])"
    )
    started = time.monotonic()
    selling: dict[str, Any] = {**stack.shops, **stack.marketplaces}
    codes = list(selling)
    try:
        with _Report(stack, started, console) as report:
            for i in range(options.orders):
                due = started + i / options.rate
                while time.monotonic() < due:
                    time.sleep(min(0.05, due - time.monotonic()))
                sku = rng.choice(stack.sku_codes)
                shop = selling[codes[i % len(codes)]]
                shop.place_order({"lines": [{"sku": sku, "quantity": 1}]})
                if i % 10 == 0:
                    report.tick()
            deadline = time.monotonic() + 120 + options.orders / 50
            try:
                while True:
                    if on_tick:
                        on_tick()
                    report.tick()
                    if stack.settled():
                        # The pull is the safety net under webhooks: nothing may be missing.
                        for code in codes:
                            pull_orders(stack.hub, code)
                        if stack.settled():
                            report.settled(exiting=options.exit_when_done)
                            if options.exit_when_done:
                                break
                    if options.exit_when_done and time.monotonic() > deadline:
                        console.print("stopped waiting: some orders have not settled")
                        break
                    time.sleep(0.25)
            except KeyboardInterrupt:
                pass
            report.tick(force=True)
        summary = stack.summary()
        summary["seconds"] = round(time.monotonic() - started, 2)
        summary["database"] = stack.settings.database_url
        return summary
    finally:
        if scheduler is not None:
            scheduler.stop()
        stack.stop()
