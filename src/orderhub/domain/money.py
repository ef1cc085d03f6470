"""What a channel says it paid: the lines of its statement, in one shape for every platform.

Channels that offer a statement (a payments ledger, a settlement bill) implement
`statement(after)`: the lines after the cursor `after` (the last line's reference read
before), oldest first, and the cursor to give next time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

__all__ = ["LINE_KINDS", "Statement", "StatementLine", "StatementSource"]

LINE_KINDS = ("charge", "refund", "fee", "adjustment", "payout", "other")


@dataclass(frozen=True)
class StatementLine:
    """One movement of money: `amount` is gross (negative for money going back to the
    buyer), `fee` what the platform kept of it; `order_ref` is the platform's order id."""

    reference: str
    kind: str
    amount: Decimal
    fee: Decimal
    currency: str
    at: datetime
    order_ref: str = ""
    payout: str = ""


@dataclass(frozen=True)
class Statement:
    lines: Sequence[StatementLine]
    cursor: str | None


@runtime_checkable
class StatementSource(Protocol):
    def statement(self, after: str | None) -> Statement: ...
