"""K/3 Cloud WebAPI names and codes (platform-apis.md §9, peers-and-apis.md §5.1)."""

from __future__ import annotations

__all__ = [
    "AUTH_MODES",
    "DEFAULT_KEY_FIELD",
    "FORMS",
    "MSG_SESSION_LOST",
    "SERVICE",
    "STATUS_AUDITED",
    "STATUS_SUBMITTED",
]

SERVICE = "Kingdee.BOS.WebApi.ServicesStub.{service}.{method}.common.kdsvc"
"""Appended to the base URL (`https://host/k3cloud/`)."""

AUTH_MODES = ("app_secret", "password", "signed")
"""`LoginByAppSecret` (required on public-cloud tenants opened after 2022-11-29),
`ValidateUser`, or no login at all with every request signed as Kingdee's SDKs do."""

MSG_SESSION_LOST = 1
"""`ResponseStatus.MsgCode` when the session has lapsed: log in again, retry once."""

STATUS_SUBMITTED, STATUS_AUDITED = "B", "C"

FORMS = {
    "sale_order": "SAL_SaleOrder",
    "outbound": "SAL_OUTSTOCK",
    "return": "SAL_RETURNSTOCK",
    "purchase_order": "PUR_PurchaseOrder",
}

DEFAULT_KEY_FIELD = "F_OH_OrderNo"
"""The text field the seller adds to each form (BOS designer) to hold our number; its
real name carries the tenant's developer prefix, so it is a setting (`key_field`)."""
