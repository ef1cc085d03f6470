"""Configuration: environment settings, and the YAML file of shops, nodes, SKUs and stock.

Secrets in the YAML file may be written as `${ENV_VAR}` so they never sit in the file.
Every mistake stops start-up with one plain sentence (ConfigurationError).
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from orderhub.domain.allocation import RoutingConfig
from orderhub.domain.customs import NodeCustoms, ShopCustoms
from orderhub.domain.errors import ConfigurationError

__all__ = [
    "HubConfig",
    "ListingConfig",
    "NodeConfig",
    "Settings",
    "ShopConfig",
    "StockConfig",
    "load_hub_config",
]


class Settings(BaseSettings):
    """Process settings, from `ORDERHUB_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="ORDERHUB_", extra="ignore")

    database_url: str = "sqlite:///./orderhub.db"
    config: Path | None = None
    encryption_keys: str | None = None
    key_file: Path | None = None
    tenant: str = "default"
    log_format: Literal["console", "json"] = "console"
    log_level: str = "info"
    api_token: str | None = None
    admin_token: str | None = None
    metrics_open: bool = True
    # Times are stored in UTC and shown in this zone.
    timezone: str = "Asia/Shanghai"
    # Personal data of closed orders and their raw payloads is purged after this many days.
    retention_days: float = 90.0
    # Finished jobs and their attempts are deleted this many days after they finished.
    finished_jobs_kept_days: float = Field(default=30.0, gt=0)
    public_url: str = "http://127.0.0.1:8000"
    # A console sign-in lasts this long (hours), then the person signs in again.
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # Stock changes reach the shops on the tick of this window (seconds): every SKU that
    # changed within one window goes to a shop together, in one call where the shop
    # takes many figures at once; the stock lane claims up to `stock_push_batch` SKUs.
    stock_push_window: float = Field(default=1.0, gt=0)
    stock_push_batch: int = Field(default=200, ge=1, le=1000)
    # Inbound bodies: larger ones are refused before they are read whole; a webhook sent
    # longer ago than the age below is kept and shown, not processed.
    max_body_bytes: int = 2_000_000
    webhook_max_age: float = 172_800.0
    # A webhook is verified with its shop as this process read it at most this many
    # seconds ago (see `Hub.shop_for_webhook`); 0 reads the shop for every webhook.
    webhook_shop_seconds: float = Field(default=1.0, ge=0, le=5.0)
    duplicate_window: float = 600.0
    default_safety_stock: int = 0
    # What a listing shows for a SKU a supplier without a stock feed (unlimited_stock) carries.
    unlimited_stock_listed: int = 999
    alert_webhook_url: str | None = None
    stock_difference_alert: int = 5
    low_stock_cover_days: float = 3.0
    reconcile_interval: float = 3600.0
    pull_interval: float = 300.0
    # How far back the first pull of a shop with no cursor begins, in hours; the
    # platforms keep three months. A platform that answers for half an hour at a time
    # (Pinduoduo) takes 48 calls per day of history.
    pull_history_hours: float = Field(default=2160.0, gt=0, le=2160.0)
    # Shops whose platform pushes nothing over HTTP (Taobao, JD, Pinduoduo) are pulled
    # this often instead.
    poll_interval: float = 60.0
    # Warehouses that call nothing back (京东云仓) are asked about their orders this often.
    node_poll_interval: float = 60.0
    worker_threads: int = 4
    # Which CPU each hub process keeps to (see `orderhub.cpus`): auto, off, or a list.
    cpu: str = "auto"
    worker_batch: int = 32
    # After a claim that was not full, a lane that claims many jobs at once (the batch
    # lane, the delivery-order lane) waits this long (seconds) for more to gather before
    # it claims again; a job that reaches an idle lane is taken at once. Waiting fills
    # batches and saves CPU where a process is short of it. Unset: 0.05 on PostgreSQL
    # (at a steady 100 orders/s, p99 86–128 ms instead of 114–226 ms waiting 0.02, and
    # 224–324 ms not waiting; 6.5–7.4 ms of CPU per order instead of 6.9–7.9; p99 at
    # 10/s unchanged; see docs/deployment.md) and 0.02 on SQLite (at 100 orders/s,
    # 4.5–5.0 ms of CPU per order instead of 6.1–7.5 not waiting, for a p99 of 49–51 ms
    # instead of 17–31; p99 at 10/s unchanged).
    worker_gather: float | None = Field(default=None, ge=0, le=1.0)
    # Delivery orders are claimed this many at a time, sent side by side (at most
    # `pushes_in_flight` calls to one node at once, each carrying one order or, to a
    # node set up for batches, up to its `batch_size`), and written down in one
    # transaction.
    push_batch: int = Field(default=48, ge=1, le=256)
    pushes_in_flight: int = Field(default=4, ge=1, le=64)
    job_lease: float = 60.0
    max_attempts: int = 10
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    # Alerts: every unsent alert goes out as one digest per window (seconds), to the
    # webhook above and, when a host and recipients are set, by email.
    alert_digest_window: float = 300.0
    alert_email_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    alert_smtp_host: str | None = None
    alert_smtp_port: int = 587
    alert_smtp_user: str | None = None
    alert_smtp_password: str | None = None
    alert_smtp_from: str = "orderhub@localhost"
    alert_smtp_starttls: bool = True
    alert_smtp_timeout: float = 10.0
    # Ship-by SLA: open orders this close to their ship-by time are at risk.
    sla_at_risk_hours: float = 6.0
    sla_scan_interval: float = 300.0
    # How often parcels are checked for a missing scan (each tracker says how long is too long).
    tracking_scan_interval: float = 1800.0

    @field_validator("alert_email_to", mode="before")
    @classmethod
    def _split_recipients(cls, value: Any) -> Any:
        """`ORDERHUB_ALERT_EMAIL_TO=ops@example.com, boss@example.com`."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShopConfig(_Strict):
    """A shop: its platform, the nodes that serve it, and how its stock is shown."""

    code: str
    platform: str
    name: str = ""
    nodes: list[str] = Field(default_factory=list)
    safety_stock: int = 0
    sync_ratio: Decimal = Decimal("1")
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    mapping: dict[str, Any] = Field(default_factory=dict)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    customs: ShopCustoms = Field(default_factory=ShopCustoms)


class NodeConfig(_Strict):
    """A warehouse or supplier, how to reach it, where it ships from and at what cost.

    `unlimited_stock` is for a supplier with no stock feed: it ships any quantity of its
    `skus` (of every SKU when the list is empty), and the hub reserves nothing there.
    """

    code: str
    platform: str
    kind: Literal["warehouse", "supplier"] = "warehouse"
    name: str = ""
    priority: int = 0
    country: str = ""
    province: str = ""
    costs: dict[str, Decimal] = Field(default_factory=dict)
    unlimited_stock: bool = False
    skus: list[str] = Field(default_factory=list)
    customs: NodeCustoms = Field(default_factory=NodeCustoms)
    # Delivery orders sent to this node at the same time (ORDERHUB_PUSHES_IN_FLIGHT
    # when unset); its connector's rate limit still spaces the calls.
    pushes_in_flight: int | None = Field(default=None, ge=1, le=64)
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)


class SkuConfig(_Strict):
    """One of our SKUs; a bundle lists its components (SKU → units per bundle)."""

    sku: str
    title: str = ""
    safety_stock: int | None = None
    backorder_limit: int = 0
    low_stock_threshold: int | None = None
    components: dict[str, int] = Field(default_factory=dict)
    cost: Decimal | None = None  # per unit, for the stock's value in reports
    hs_code: str = Field(default="", max_length=20)
    customs_description: str = Field(default="", max_length=300)  # in English
    origin_country: str = Field(default="", max_length=2)


class ListingConfig(_Strict):
    """A product as a shop sells it; the optional fields override the shop's settings."""

    shop: str
    channel_sku: str
    sku: str
    multiplier: int = 1
    sync_ratio: Decimal | None = None
    safety_stock: int | None = None
    max_listed: int | None = None
    end_below: int = 0


class StockConfig(_Strict):
    """Opening stock; applied only where the hub has no level yet."""

    node: str
    sku: str
    on_hand: int


class ErpConfig(_Strict):
    """The ERP the seller books into (and, for orders keyed in there, a source).

    `settings` hold the connection (base URL, 账套, user, login mode) and the seller's
    ERP codes: `org`, `currency`, `tax_rate`, `customers` (shop → customer code, the
    shop's code by default), `stocks` (node → ERP warehouse), `suppliers` (node →
    supplier code), `book` (which documents: sale_order, outbound, return,
    purchase_order). `mapping` overrides fields of the connector's document mapping.
    """

    code: str = "ERP"
    platform: str
    name: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    mapping: dict[str, Any] = Field(default_factory=dict)


class TrackerConfig(_Strict):
    """A parcel tracker account (快递100, 17TRACK) the hub subscribes every parcel with.

    `settings` hold the connection and `countries` (the destinations it serves, ISO
    codes; none: every destination), `stuck_hours` (hours without a scan before a
    parcel is stuck, 48 by default) and `stuck_hours_by_carrier` (the same per carrier
    code, for slow routes); `carriers` adds to its carrier-code table.
    """

    code: str
    platform: str
    name: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)


class HubConfig(_Strict):
    """Everything a seller configures in the YAML file."""

    shops: list[ShopConfig] = Field(default_factory=list)
    nodes: list[NodeConfig] = Field(default_factory=list)
    skus: list[SkuConfig] = Field(default_factory=list)
    listings: list[ListingConfig] = Field(default_factory=list)
    stock: list[StockConfig] = Field(default_factory=list)
    erp: ErpConfig | None = None
    trackers: list[TrackerConfig] = Field(default_factory=list)

    def check(self) -> None:
        """Cross-references: a shop names known nodes, a listing a known shop."""
        node_codes = {n.code for n in self.nodes}
        shop_codes = {s.code for s in self.shops}
        for shop in self.shops:
            for node in shop.nodes:
                if node not in node_codes:
                    raise ConfigurationError(f"shop {shop.code} is served by unknown node {node}")
        for listing in self.listings:
            if listing.shop not in shop_codes:
                raise ConfigurationError(f"a listing names unknown shop {listing.shop}")
        for level in self.stock:
            if level.node not in node_codes:
                raise ConfigurationError(f"opening stock names unknown node {level.node}")
        for shop in self.shops:
            allowed = set(shop.nodes) or node_codes
            named = {
                *shop.routing.fixed_sku.values(),
                *shop.routing.regions.values(),
                *([shop.routing.presale_node] if shop.routing.presale_node else []),
            }
            for node in sorted(named - allowed):
                raise ConfigurationError(
                    f"shop {shop.code} routes to {node}, which does not serve it"
                )
        sku_codes = {s.sku for s in self.skus}
        for sku in self.skus:
            for component in sku.components:
                if component not in sku_codes:
                    raise ConfigurationError(
                        f"bundle {sku.sku} names unknown component SKU {component}"
                    )


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(owner: str, secrets: dict[str, str]) -> dict[str, str]:
    expanded = {}
    for key, value in secrets.items():

        def lookup(match: re.Match[str], key: str = key) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigurationError(
                    f"{owner}: secret {key} refers to ${{{name}}}, which is not set"
                )
            return os.environ[name]

        expanded[key] = _ENV_REF.sub(lookup, str(value))
    return expanded


def load_hub_config(path: Path) -> HubConfig:
    """Read, expand and check the YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigurationError(f"the configuration file {path} does not exist") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "it is not valid YAML"
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigurationError(
            f"the configuration file {path} is not valid YAML{where}: {problem}"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigurationError(f"cannot read the configuration file {path}: {reason}") from exc
    try:
        config = HubConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"{path}: {where}: {first['msg'].lower()}") from exc
    for shop in config.shops:
        shop.secrets = _expand(f"shop {shop.code}", shop.secrets)
    for node in config.nodes:
        node.secrets = _expand(f"node {node.code}", node.secrets)
    config.check()
    return config
