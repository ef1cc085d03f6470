"""The Taobao bill as a statement: every line of `taobao.bill.bills.get` after a cursor.

The call lists a day of payment time at most, newest first, so the statement walks the
days from the cursor (the last second read) up to now, pages each day whole and gives the
lines oldest first. A line can be booked a little after the time it carries, so every
read starts `overlap` before the cursor; the lines read twice are kept once. Each account
is typed once with `taobao.bill.accounts.get`: the trade's payment is a charge (a refund
when negative), a commission, service fee or points deduction is a fee, the rest `other`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from orderhub.domain.money import Statement, StatementLine

from ..base import Unavailable
from .client import BEIJING, TopClient, top_time
from .consts import ACCOUNT_KINDS, BILL_FIELDS, BILL_PAGE_SIZE, MAX_WINDOW, Method

__all__ = ["account_kinds", "read_bills"]


def _listed(value: Any, key: str) -> list[dict[str, Any]]:
    inner = value.get(key) if isinstance(value, dict) else None
    items = inner if isinstance(inner, list) else [inner] if isinstance(inner, dict) else []
    return [item for item in items if isinstance(item, dict)]


def account_kinds(api: TopClient) -> dict[str, str]:
    """Statement kind per account id, from the accounts' types."""
    body = api.call(Method.BILL_ACCOUNTS, {"fields": "account_id,account_type"})
    return {
        str(row.get("account_id")): ACCOUNT_KINDS.get(int(row.get("account_type") or 6), "other")
        for row in _listed(body.get("accounts"), "account")
    }


def _line(raw: Mapping[str, Any], kinds: Mapping[str, str], per_unit: int) -> StatementLine:
    try:
        amount = Decimal(str(raw.get("amount") or "0")) / per_unit
        kind = kinds.get(str(raw.get("account_id")), "other")
        fee = Decimal("0")
        if kind == "charge" and amount < 0:
            kind = "refund"
        elif kind == "fee":
            amount, fee = Decimal("0"), -amount
        at = datetime.strptime(str(raw["pay_time"]), "%Y-%m-%d %H:%M:%S")
        return StatementLine(
            reference=str(raw["bid"]),
            kind=kind,
            amount=amount,
            fee=fee,
            currency="CNY",
            at=at.replace(tzinfo=BEIJING),
            order_ref=str(raw.get("trade_id") or ""),
        )
    except (KeyError, ValueError, InvalidOperation) as exc:
        raise Unavailable(f"Taobao sent an unreadable bill line: {exc}") from exc


def read_bills(
    api: TopClient,
    after: str | None,
    *,
    now: datetime,
    overlap: timedelta,
    days_back: int,
    per_unit: int,
    kinds: Mapping[str, str],
) -> Statement:
    """Paid bill lines from `overlap` before the cursor (the last second read, Beijing
    time) up to now, oldest first; the cursor moves to the last second read."""
    until = now.astimezone(BEIJING).replace(microsecond=0)
    second = timedelta(seconds=1)
    if after:
        try:
            cursor = datetime.strptime(after, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        except ValueError as exc:
            raise Unavailable(f"the Taobao bill cursor {after!r} is not a time") from exc
        read = cursor - overlap
    else:
        read = until - timedelta(days=days_back)
    lines: list[StatementLine] = []
    # Both bounds are inclusive: each day starts a second after the last one read.
    while read < until:
        start, end = read + second, min(read + MAX_WINDOW, until)
        page = 1
        while True:
            body = api.call(
                Method.BILLS,
                {
                    "fields": BILL_FIELDS,
                    "start_time": top_time(start),
                    "end_time": top_time(end),
                    "time_type": 2,
                    "page_no": page,
                    "page_size": BILL_PAGE_SIZE,
                },
            )
            for raw in _listed(body.get("bills"), "bill"):
                if int(raw.get("status") or 1) == 1:
                    lines.append(_line(raw, kinds, per_unit))
            if not body.get("has_next"):
                break
            page += 1
        read = end
    lines.sort(key=lambda line: (line.at, line.reference))
    return Statement(lines, top_time(read))
