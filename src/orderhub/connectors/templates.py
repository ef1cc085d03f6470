"""What a person fills in to connect each platform: the console's forms are built from this.

One template per platform: its settings and secrets by the platform's own names, which
are required, their defaults, and whether the platform calls the hub back (a webhook
or callback address to paste into the platform, signed with one of the secrets).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TEMPLATES", "Field", "Template"]


@dataclass(frozen=True)
class Field:
    """One setting or secret of a connection."""

    name: str
    required: bool = True
    default: str = ""
    secret: bool = False
    hint: str = ""


@dataclass(frozen=True)
class Template:
    """How to connect one platform as a shop or a node."""

    platform: str
    kind: str  # "shop", "warehouse" or "supplier"
    title: str
    fields: tuple[Field, ...]
    calls_back: str = ""  # "webhooks" or "callbacks": the hub address the platform calls;
    # empty for a platform that calls nothing back (pulled, or polled as 京东云仓 is)
    signed_with: str = ""  # the secret that signs what it sends
    extra: tuple[str, ...] = field(default=())  # further settings, by name, all optional


def _secret(name: str) -> Field:
    return Field(name, secret=True)


TEMPLATES: dict[str, Template] = {
    t.platform: t
    for t in (
        Template(
            "shopify",
            "shop",
            "Shopify",
            (
                Field("shop_domain", hint="example.myshopify.com"),
                Field("base_url", required=False, hint="only for a proxy or a test shop"),
                _secret("access_token"),
                _secret("webhook_secret"),
            ),
            calls_back="webhooks",
            signed_with="webhook_secret",
            extra=("api_version", "location_id", "page_size", "pull_window_days"),
        ),
        Template(
            "woocommerce",
            "shop",
            "WooCommerce",
            (
                Field("url", hint="https://shop.example.com"),
                Field("consumer_key", hint="ck_…, WooCommerce → Settings → Advanced → REST API"),
                _secret("consumer_secret"),
                Field(
                    "webhook_secret",
                    secret=True,
                    hint="any long random text; the hub registers its webhooks with it",
                ),
            ),
            calls_back="webhooks",
            signed_with="webhook_secret",
            extra=("auth", "page_size", "window_days", "overlap_minutes"),
        ),
        Template(
            "taobao",
            "shop",
            "淘宝 / 天猫 (TOP)",
            (
                Field("base_url", required=False, default="https://eco.taobao.com"),
                Field("app_key"),
                _secret("app_secret"),
                _secret("session"),
            ),
            extra=("sign_method", "page_size", "window_hours", "decrypt_scene"),
        ),
        Template(
            "jd",
            "shop",
            "京东 (JOS)",
            (
                Field("base_url", required=False, default="https://api.jd.com"),
                Field("app_key"),
                _secret("app_secret"),
                _secret("access_token"),
            ),
            extra=("carriers", "decrypt_method", "window_days", "refunded_value"),
        ),
        Template(
            "k3cloud",
            "shop",
            "金蝶云星空 K/3 Cloud (sales orders keyed in the ERP)",
            (
                Field("base_url", hint="https://erp.example.com/k3cloud/"),
                Field("acct_id", hint="账套 ID (数据中心)"),
                Field("user_name"),
                Field(
                    "auth",
                    required=False,
                    default="app_secret",
                    hint="app_secret, password or signed",
                ),
                Field("app_id", required=False, secret=True),
                Field("app_secret", required=False, secret=True),
                Field("password", required=False, secret=True),
            ),
            extra=("org", "key_field", "page_size", "receiver_keys", "outbound_bill_type"),
        ),
        Template(
            "pdd",
            "shop",
            "拼多多 (POP)",
            (
                Field("base_url", required=False, default="https://gw-api.pinduoduo.com"),
                Field("client_id"),
                _secret("client_secret"),
                _secret("access_token"),
            ),
            extra=("page_size", "lag_seconds"),
        ),
        Template(
            "douyin",
            "shop",
            "抖店 (Douyin Shop)",
            (
                Field("base_url", required=False, default="https://openapi-fxg.jinritemai.com"),
                Field("app_key"),
                Field("shop_id"),
                _secret("app_secret"),
                _secret("access_token"),
            ),
            calls_back="webhooks",
            signed_with="app_secret",
            extra=("page_size", "window_hours"),
        ),
        Template(
            "amazon",
            "shop",
            "Amazon (Selling Partner API, merchant-fulfilled)",
            (
                Field(
                    "endpoint",
                    required=False,
                    default="https://sellingpartnerapi-na.amazon.com",
                    hint="-na, -eu or -fe: the seller's region",
                ),
                Field(
                    "lwa_endpoint", required=False, default="https://api.amazon.com/auth/o2/token"
                ),
                Field("client_id", hint="amzn1.application-oa2-client.…"),
                _secret("client_secret"),
                _secret("refresh_token"),
                Field("seller_id", hint="the merchant token"),
                Field("marketplace_id", required=False, default="ATVPDKIKX0DER"),
            ),
            extra=("lag_seconds", "window_days", "pull_wait", "quotas", "carrier_codes"),
        ),
        Template(
            "qimen",
            "warehouse",
            "奇门 WMS (Qimen)",
            (
                Field("base_url"),
                Field("app_key"),
                Field("customer_id"),
                Field("warehouse_code"),
                Field("owner_code"),
                _secret("app_secret"),
            ),
            calls_back="callbacks",
            signed_with="app_secret",
            extra=(
                "logistics_code",
                "method_prefix",
                "utc_offset",
                "platform_codes",
                "batch_create",
                "batch_size",
            ),
        ),
        Template(
            "eclp",
            "warehouse",
            "京东云仓 (ECLP)",
            (
                Field("base_url", required=False, default="https://api.jd.com"),
                Field("app_key"),
                _secret("app_secret"),
                _secret("access_token"),
                Field("department_no", hint="事业部编号, EBU…"),
                Field("warehouse_no", hint="库房编号"),
                Field("shop_no", hint="店铺编号, ESP…"),
                Field("isv_source", hint="ISV来源编号, given by JD"),
                Field(
                    "shipper_no", required=False, default="CYS0000010", hint="CYS0000010: 京东快递"
                ),
            ),
            extra=(
                "shippers",
                "platform_sources",
                "shipped_codes",
                "cancelled_codes",
                "cancel_ok_codes",
                "stock_status",
                "stock_type",
                "stock_sku_param",
            ),
        ),
        Template(
            "fourpx",
            "warehouse",
            "4PX 递四方 / 菜鸟 GFN overseas warehouse",
            (
                Field(
                    "base_url",
                    required=False,
                    default="https://open.4px.com",
                    hint="https://open.gfn.cainiao.com for 菜鸟 GFN",
                ),
                Field("app_key"),
                _secret("app_secret"),
                Field("warehouse_code", hint="仓库代码, e.g. USLAXA"),
                Field("logistics_product_code", hint="派送方式 used when the order names none"),
            ),
            extra=(
                "customer_code",
                "version",
                "cancel_type",
                "carriers",
                "poll_days",
                "duplicate_ref_codes",
            ),
        ),
        Template(
            "goodcang",
            "warehouse",
            "谷仓 (GoodCang) overseas warehouse",
            (
                Field("base_url", required=False, default="https://oms.goodcang.net"),
                _secret("app_token"),
                _secret("app_key"),
                Field("warehouse_code", hint="e.g. UKLH"),
                Field("shipping_method", required=False, hint="default 物流产品 code"),
            ),
            extra=(
                "platform",
                "verify",
                "carriers",
                "shipped_statuses",
                "cancelled_statuses",
                "barcode_separator",
            ),
        ),
        Template(
            "supplier_api",
            "supplier",
            "Drop-ship supplier (orderhub supplier API)",
            (Field("base_url"), Field("supplier_id"), _secret("secret")),
            calls_back="callbacks",
            signed_with="secret",
            extra=("batch_create", "batch_size"),
        ),
    )
}
