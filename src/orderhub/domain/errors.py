"""One tree of errors for the whole hub; each carries the data a person needs to act."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ConfigurationError",
    "IllegalTransition",
    "InvalidOrder",
    "InvalidRuleSet",
    "NotFound",
    "NotNow",
    "OrderhubError",
    "OutOfStock",
    "Problem",
]


class OrderhubError(Exception):
    """Base of every error orderhub raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an order, in plain words, with the field it concerns."""

    code: str
    message: str
    field: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidOrder(OrderhubError):
    """A payload could not become a valid canonical order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class OutOfStock(OrderhubError):
    """Not enough available stock for these (sku, quantity) lines."""

    def __init__(self, lines: Sequence[tuple[str, int]]) -> None:
        self.lines = list(lines)
        super().__init__(", ".join(f"{sku} × {qty}" for sku, qty in self.lines))


class NotNow(OrderhubError):
    """An action a person asked for that the order's state does not allow now (it has
    shipped, or it is already at its node)."""


class IllegalTransition(OrderhubError):
    """An order was asked to move between two states that have no allowed move."""

    def __init__(self, order_id: str, from_: str, to: str) -> None:
        self.order_id = order_id
        self.from_ = from_
        self.to = to
        super().__init__(f"order {order_id} cannot go from {from_} to {to}")


class NotFound(OrderhubError):
    """The thing asked for does not exist (for this seller)."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key!r}")


class ConfigurationError(OrderhubError):
    """Start-up cannot go on; the message is one plain sentence for the operator."""


class InvalidRuleSet(OrderhubError):
    """A seller's rule set cannot be used: which rule, and why, in the rule language's words."""

    def __init__(self, rule_set: str, rule: str, message: str) -> None:
        self.rule_set = rule_set
        self.rule = rule
        self.message = message
        where = f"rule {rule!r} of rule set {rule_set!r}" if rule else f"rule set {rule_set!r}"
        super().__init__(f"{where}: {message}")
