"""The Shopify Payments statement: balance transactions after a cursor, as statement lines.

Lines are read oldest first with `since_id` (the cursor is the last id read) and paged by
the Link header; a test-mode line is left out. Types: charge, refund, adjustment, payout
and the rest (dispute, reserve, credit, debit, payout_failure…) as `other`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from orderhub.connectors.base import Unavailable
from orderhub.connectors.shopify.client import ShopifyClient
from orderhub.connectors.shopify.consts import MAX_PAGE_SIZE
from orderhub.domain.money import Statement, StatementLine

__all__ = ["read_statement"]

_KINDS = {"charge": "charge", "refund": "refund", "adjustment": "adjustment", "payout": "payout"}


def _line(raw: dict[str, Any]) -> StatementLine:
    try:
        return StatementLine(
            reference=str(raw["id"]),
            kind=_KINDS.get(str(raw.get("type")), "other"),
            amount=Decimal(str(raw.get("amount") or "0")),
            fee=Decimal(str(raw.get("fee") or "0")),
            currency=str(raw.get("currency") or ""),
            at=datetime.fromisoformat(str(raw["processed_at"])),
            order_ref=str(raw.get("source_order_id") or ""),
            payout=str(raw.get("payout_id") or ""),
        )
    except (KeyError, ValueError, InvalidOperation) as exc:
        raise Unavailable(f"Shopify sent an unreadable balance transaction: {exc}") from exc


def read_statement(api: ShopifyClient, after: str | None) -> Statement:
    lines: list[StatementLine] = []
    params: dict[str, Any] = {"limit": MAX_PAGE_SIZE}
    if after:
        params["since_id"] = after
    cursor = after
    while True:
        page = api.list_balance_transactions(params)
        for raw in page.items:
            if raw.get("test"):
                cursor = str(raw["id"])
                continue
            line = _line(raw)
            lines.append(line)
            cursor = line.reference
        if not page.next_page_info:
            return Statement(lines, cursor)
        params = {"limit": MAX_PAGE_SIZE, "page_info": page.next_page_info}
