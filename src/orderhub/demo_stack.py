"""The whole stack on loopback: emulated shops, marketplaces, warehouses and a supplier,
the hub's HTTP API and a worker, wired together exactly as a seller would (shops and
warehouses in configuration, webhooks registered through the shop's API, the warehouse
calling the hub back). `orderhub demo`, the tests and the benchmarks all start this one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from orderhub.api.app import create_app
from orderhub.bootstrap import build_hub
from orderhub.config import (
    ErpConfig,
    HubConfig,
    ListingConfig,
    NodeConfig,
    Settings,
    ShopConfig,
    StockConfig,
    TrackerConfig,
)
from orderhub.demo_crossborder import DEMO_TAX_NUMBERS, demo_skus
from orderhub.demo_eclp import start_eclp, stock_eclp
from orderhub.demo_figures import StackFigures
from orderhub.demo_fourpx import start_fourpx, stock_fourpx
from orderhub.demo_goodcang import start_goodcang, stock_goodcang
from orderhub.demo_marketplaces import start_marketplace
from orderhub.jobs.worker import Worker
from orderhub.sandbox.eclp import EclpEmulator
from orderhub.sandbox.fourpx import FourpxEmulator
from orderhub.sandbox.goodcang import GoodCangEmulator
from orderhub.sandbox.k3cloud import K3CloudEmulator
from orderhub.sandbox.kuaidi100 import Kuaidi100Emulator
from orderhub.sandbox.qimen import QimenEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.sandbox.supplier import SupplierEmulator
from orderhub.sandbox.track17 import Track17Emulator
from orderhub.services.hub import Hub
from orderhub.services.setup import apply_config

__all__ = ["MARKET_CODES", "Stack", "StackOptions"]

DEMO_DATABASE = "sqlite:///./orderhub-demo.db"
TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "refunds/create")
QIMEN_KEY, QIMEN_SECRET, QIMEN_CUSTOMER = "demo-app-key", "demo-app-secret", "demo-owner"
SUPPLIER_ID, SUPPLIER_SECRET = "demo-supplier", "demo-supplier-secret"
WAREHOUSE_PROVINCES = ("浙江", "四川", "广东", "北京")
MARKET_CODES = {"taobao": "TB1", "jd": "JD1", "pdd": "PD1", "douyin": "DY1", "woocommerce": "WC1"}


def sku_codes(count: int) -> list[str]:
    """The demo's SKU codes: SKU-001, SKU-002, …"""
    return [f"SKU-{i + 1:03d}" for i in range(count)]


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
    warehouse_settings: dict[str, Any] = field(default_factory=dict)  # added to each WHn's
    stock_by_node: dict[str, dict[str, int]] | None = None
    supplier: bool = False
    supplier_ack_delay: float = 0.05
    supplier_settings: dict[str, Any] = field(default_factory=dict)  # added to SUP1's
    file_supplier: bool = False
    routing: dict[str, Any] = field(default_factory=dict)
    marketplaces: tuple[str, ...] = ()  # one pulled shop of each, e.g. ("taobao",)
    api_port: int = 0  # the hub's API and console; 0, or a port in use, picks a free one
    erp: bool = False  # book into an emulated Kingdee K/3 Cloud 账套
    erp_shop: bool = False  # and take the sales orders keyed in there as shop ERP1
    erp_settings: dict[str, Any] = field(default_factory=dict)
    tracking: bool = False  # follow every parcel with an emulated 快递100 account
    tracking_settings: dict[str, Any] = field(default_factory=dict)
    tracking_abroad: bool = False  # and parcels leaving China with an emulated 17TRACK
    eclp: bool = False  # a 京东云仓 department as node JDL1 (polled, no callbacks)
    fourpx: bool = False  # a 4PX overseas warehouse as node 4PX-US1 (polled)
    fourpx_ship_after: float | None = None  # and it ships each order by itself after this
    shop_nodes: dict[str, list[str]] = field(default_factory=dict)  # shop (or *) → nodes
    customs: bool = False  # SKUs with HS codes, shops with IOSS/VAT numbers
    goodcang: bool = False  # a 谷仓 UK warehouse as node GC-UK1 (polled, ships abroad)


@dataclass
class Stack(StackFigures):
    """Emulators, the hub's API and a worker, all on loopback."""

    settings: Settings
    options: StackOptions = field(default_factory=StackOptions)
    hub: Hub = field(init=False)
    worker: Worker | None = field(init=False, default=None)
    shops: dict[str, ShopifyEmulator] = field(init=False, default_factory=dict)
    qimen: QimenEmulator = field(init=False)
    warehouses: dict[str, QimenEmulator] = field(init=False, default_factory=dict)
    supplier: SupplierEmulator | None = field(init=False, default=None)
    eclp: EclpEmulator | None = field(init=False, default=None)
    fourpx: FourpxEmulator | None = field(init=False, default=None)
    goodcang: GoodCangEmulator | None = field(init=False, default=None)
    marketplaces: dict[str, Any] = field(init=False, default_factory=dict)
    erp: K3CloudEmulator | None = field(init=False, default=None)
    tracker: Kuaidi100Emulator | None = field(init=False, default=None)
    tracker_abroad: Track17Emulator | None = field(init=False, default=None)
    api: RunningServer = field(init=False)
    hub_config: HubConfig = field(init=False)
    _servers: list[RunningServer] = field(init=False, default_factory=list)

    @property
    def sku_codes(self) -> list[str]:
        return sku_codes(self.options.skus)

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
                        **o.warehouse_settings,
                    },
                    secrets={"app_secret": QIMEN_SECRET},
                )
            )
        self.qimen = self.warehouses["WH1"]
        if o.eclp:
            self.eclp, eclp_node = start_eclp(self._serve, self.sku_codes)
            node_configs.append(eclp_node)
        if o.fourpx:
            self.fourpx, fourpx_node = start_fourpx(
                self._serve, self.sku_codes, ship_after=o.fourpx_ship_after
            )
            node_configs.append(fourpx_node)
        if o.goodcang:
            self.goodcang, goodcang_node = start_goodcang(self._serve, self.sku_codes)
            node_configs.append(goodcang_node)
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
                    settings={"base_url": url, "supplier_id": SUPPLIER_ID, **o.supplier_settings},
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
                    nodes=self._nodes_of(code, node_configs),
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
                nodes=self._nodes_of(code, node_configs),
                routing=o.routing,
                serve=self._serve,
                webhook_url=f"{self.api.url}/webhooks/{code}",
            )
            self.marketplaces[code] = market.emulator
            shop_configs.append(market.shop)
            if market.printer is not None:
                printers.append(market.printer)
        if o.customs:
            shop_configs = [
                s.model_copy(update={"customs": DEMO_TAX_NUMBERS}) for s in shop_configs
            ]
        erp_config = self._start_erp(shop_configs, node_configs) if o.erp else None
        stock = o.stock_by_node or {"WH1": {sku: o.stock for sku in self.sku_codes}}
        config = HubConfig(
            shops=shop_configs,
            nodes=node_configs,
            skus=demo_skus(self.sku_codes, customs=o.customs),
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
        config.erp = erp_config
        if o.tracking:
            config.trackers = self._start_trackers()
        self.hub_config = config
        apply_config(self.hub, config)
        for code, wms in self.warehouses.items():
            wms.set_stock(dict(stock.get(code, {})))
            wms.configure(callback_url=f"{self.api.url}/callbacks/{code}", printers=dict(printers))
        if self.supplier is not None:
            self.supplier.configure(callback_url=f"{self.api.url}/callbacks/SUP1")
        if self.eclp is not None:
            stock_eclp(self.eclp, stock)
        if self.fourpx is not None:
            stock_fourpx(self.fourpx, stock)
        if self.goodcang is not None:
            stock_goodcang(self.goodcang, stock)
        with self.hub.uow() as uow:
            records = uow.catalog.shops()
        for record in records:
            channel = self.hub.channel(record)
            channel.register_webhooks(
                address=f"{self.api.url}/webhooks/{record.code}",
                topics=tuple(getattr(channel, "webhook_topics", TOPICS)),
            )
        if o.start_worker:
            self.worker = Worker(self.hub, threads=o.worker_threads)
            self.worker.start()
        return self

    def _nodes_of(self, shop: str, nodes: list[NodeConfig]) -> list[str]:
        """The nodes a shop ships from: as the options say, else every node."""
        chosen = self.options.shop_nodes
        return chosen.get(shop) or chosen.get("*") or [n.code for n in nodes]

    def _start_erp(self, shops: list[ShopConfig], nodes: list[NodeConfig]) -> ErpConfig:
        """A K/3 Cloud 账套 that knows every SKU, a customer per shop, a supplier per
        drop-ship node; the hub books there with an app secret."""
        self.erp = K3CloudEmulator()
        self.erp.seed(
            materials=self.sku_codes,
            customers=[s.code for s in shops],
            suppliers=[n.code for n in nodes if n.kind == "supplier"],
        )
        url = self._serve(self.erp.app).url
        credentials = self.erp.credentials
        settings = {
            "base_url": f"{url}/k3cloud/",
            "acct_id": credentials["acct_id"],
            "user_name": credentials["user_name"],
            "auth": "app_secret",
            "org": "100",
            **self.options.erp_settings,
        }
        secrets = {"app_id": credentials["app_id"], "app_secret": credentials["app_secret"]}
        if self.options.erp_shop:
            suppliers = [n.code for n in nodes if n.kind == "supplier"]
            shops.append(
                ShopConfig(
                    code="ERP1",
                    platform="k3cloud",
                    name="Orders keyed in the ERP",
                    nodes=suppliers or [n.code for n in nodes],
                    settings=settings,
                    secrets=secrets,
                )
            )
        return ErpConfig(
            platform="k3cloud", name="Kingdee K/3 Cloud", settings=settings, secrets=secrets
        )

    def _start_trackers(self) -> list[TrackerConfig]:
        """A 快递100 account that calls the hub back at its own address; with
        `tracking_abroad`, it follows parcels to China and a 17TRACK account the rest."""
        self.tracker = Kuaidi100Emulator(retry_interval=0.3)
        url = self._serve(self.tracker.app).url
        self.hub.settings.public_url = self.api.url
        credentials = self.tracker.credentials
        abroad = self.options.tracking_abroad
        trackers = [
            TrackerConfig(
                code="KD100",
                platform="kuaidi100",
                name="快递100",
                settings={
                    "base_url": url,
                    "customer": credentials["customer"],
                    **({"countries": ["CN"]} if abroad else {}),
                    **self.options.tracking_settings,
                },
                secrets={"key": credentials["key"], "salt": "demo-salt-0f3c"},
            )
        ]
        if abroad:
            self.tracker_abroad = Track17Emulator(
                webhook_url=f"{self.api.url}/tracking/T17", retry_delays=(0.3, 0.6)
            )
            trackers.append(
                TrackerConfig(
                    code="T17",
                    platform="17track",
                    name="17TRACK",
                    settings={"base_url": self._serve(self.tracker_abroad.app).url},
                    secrets={"api_key": self.tracker_abroad.api_key},
                )
            )
        return trackers

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
        """Stop the worker, then every server and emulator at once (each takes a tick
        of its event loop to notice), then close the hub."""
        if self.worker:
            self.worker.stop()
        stops: list[Callable[[], None]] = [server.stop for server in reversed(self._servers)]
        stops += [emulator.close for emulator in self.shops.values()]
        stops += [wms.stop for wms in self.warehouses.values()]
        stops += [market.stop for market in self.marketplaces.values()]
        for other in (self.supplier, self.tracker):
            if other is not None:
                stops.append(other.stop)
        if self.tracker_abroad is not None:
            stops.append(self.tracker_abroad.close)
        with ThreadPoolExecutor(max_workers=len(stops) or 1) as pool:
            list(pool.map(lambda stop: stop(), stops))
        self.hub.close()
