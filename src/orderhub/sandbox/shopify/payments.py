"""Shopify Payments: the balance transactions (the account's statement) and payouts.

Sources: shopify.dev REST Admin `shopify_payments/balance/transactions.json` (Transactions
resource: id, type charge|refund|dispute|reserve|adjustment|credit|debit|payout|
payout_failure|payout_cancellation, test, payout_id, payout_status, currency, amount,
fee, net, source_id, source_type, source_order_id, source_order_transaction_id,
processed_at; filters payout_id, payout_status, since_id, last_id, test) and
`shopify_payments/payouts.json` (id, status, date, currency, amount, summary).

A paid order makes a charge (its total, less a fee of `fee_rate` × amount + `fee_fixed`),
a refund a negative refund line without a fee. Tests change lines as a bank would get
them wrong (`change`, `drop`, `add`), and close a payout over the pending lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Json = dict[str, Any]
CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_UP))


class Payments:
    """One shop's Shopify Payments account."""

    def __init__(
        self,
        *,
        currency: str,
        next_id: Callable[[], int],
        now: Callable[[], datetime],
        fee_rate: Decimal = Decimal("0.029"),
        fee_fixed: Decimal = Decimal("0.30"),
    ) -> None:
        self.currency = currency
        self.next_id, self.now = next_id, now
        self.fee_rate, self.fee_fixed = fee_rate, fee_fixed
        self.transactions: dict[int, Json] = {}
        self.payouts: dict[int, Json] = {}

    def _line(
        self, kind: str, amount: Decimal, fee: Decimal, order: Mapping[str, Any], source: int
    ) -> Json:
        line_id = self.next_id()
        line = {
            "id": line_id,
            "type": kind,
            "test": False,
            "payout_id": None,
            "payout_status": "pending",
            "currency": self.currency,
            "amount": _money(amount),
            "fee": _money(fee),
            "net": _money(amount - fee),
            "source_id": source,
            "source_type": kind,
            "source_order_id": order.get("id"),
            "source_order_transaction_id": source,
            "processed_at": self.now().isoformat(),
        }
        self.transactions[line_id] = line
        return line

    def charge(self, order: Mapping[str, Any]) -> Json:
        amount = Decimal(str(order.get("total_price") or "0"))
        fee = (amount * self.fee_rate + self.fee_fixed).quantize(CENT, ROUND_HALF_UP)
        return self._line("charge", amount, fee, order, self.next_id())

    def refund(self, order: Mapping[str, Any], refund: Mapping[str, Any]) -> Json | None:
        amount = sum(
            (
                Decimal(str(t.get("amount") or "0"))
                for t in refund.get("transactions") or []
                if t.get("kind") == "refund"
            ),
            Decimal("0"),
        )
        if amount <= 0:
            return None
        return self._line("refund", -amount, Decimal("0"), order, int(refund["id"]))

    # what tests do to the statement

    def change(self, line_id: int, **values: Any) -> Json:
        line = self.transactions[line_id]
        for key, value in values.items():
            line[key] = _money(Decimal(str(value))) if key in ("amount", "fee") else value
        line["net"] = _money(Decimal(line["amount"]) - Decimal(line["fee"]))
        return dict(line)

    def drop(self, line_id: int) -> None:
        del self.transactions[line_id]

    def add(self, kind: str, amount: str, *, order_id: int | None = None, fee: str = "0") -> Json:
        return self._line(kind, Decimal(amount), Decimal(fee), {"id": order_id}, self.next_id())

    def pay_out(self) -> Json:
        """A payout of every pending line."""
        payout_id = self.next_id()
        pending = [t for t in self.transactions.values() if t["payout_status"] == "pending"]
        net = sum((Decimal(t["net"]) for t in pending), Decimal("0"))
        for line in pending:
            line.update(payout_id=payout_id, payout_status="paid")
        payout = {
            "id": payout_id,
            "status": "paid",
            "date": self.now().date().isoformat(),
            "currency": self.currency,
            "amount": _money(net),
            "summary": {
                "charges_gross_amount": _money(
                    sum(
                        (Decimal(t["amount"]) for t in pending if t["type"] == "charge"),
                        Decimal("0"),
                    )
                ),
                "charges_fee_amount": _money(
                    sum((Decimal(t["fee"]) for t in pending if t["type"] == "charge"), Decimal("0"))
                ),
                "refunds_gross_amount": _money(
                    sum(
                        (Decimal(t["amount"]) for t in pending if t["type"] == "refund"),
                        Decimal("0"),
                    )
                ),
            },
        }
        self.payouts[payout_id] = payout
        return dict(payout)

    def matching(self, filters: Mapping[str, str]) -> list[Json]:
        """Lines in id order, as the filters of transactions.json narrow them."""
        found = sorted(self.transactions.values(), key=lambda t: t["id"])
        if "payout_id" in filters:
            found = [t for t in found if str(t["payout_id"]) == filters["payout_id"]]
        if "payout_status" in filters:
            found = [t for t in found if t["payout_status"] == filters["payout_status"]]
        if "since_id" in filters:
            found = [t for t in found if t["id"] > int(filters["since_id"])]
        if "last_id" in filters:
            found = [t for t in found if t["id"] <= int(filters["last_id"])]
        if "test" in filters:
            found = [t for t in found if str(t["test"]).lower() == filters["test"].lower()]
        return [dict(t) for t in found]
