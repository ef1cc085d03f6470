"""Rules sellers write without code: when an order looks like this, do that.

A rule's `when` is a CEL expression (https://cel.dev) that is true for the orders it is
about. It sees three variables:

`order`, the canonical order:
    order.id, order.shop, order.platform, order.channel_order_id, order.order_no  strings
    order.status, order.channel_status    strings ("received", "held", ... / "paid", ...)
    order.placed_at, order.paid_at, order.ship_by
                                          RFC 3339 strings, or null (paid_at, ship_by);
                                          `timestamp(order.placed_at)` makes a time of one
    order.currency                        string ("CNY")
    order.totals.items, .shipping, .discount, .tax, .grand_total    numbers (double)
    order.quantity                        total units over all lines (int)
    order.node                            where every line goes, or null
    order.buyer.name, .email, .phone      strings
    order.receiver.name, .phone, .country (ISO code, "CN"), .province, .city, .district,
                   .address1, .address2, .postcode                  strings
    order.remarks.buyer, order.remarks.seller                       strings
    order.tags                            list of strings (the platform's and staff's
                                          labels, e.g. "high-risk")
    order.lines                           list of {line_id, sku (string or null),
                                          channel_sku, title, quantity (int),
                                          unit_price (double), node (string or null)}
`buyer`, what the hub knows of the buyer:
    buyer.previous_orders                 orders placed before this one in this shop, to
                                          the same receiver (0: first-time buyer)
    buyer.orders, buyer.spend             across every shop and platform, this one included
    buyer.returns                         returns received from this buyer
    buyer.tags                            the seller's tags, e.g. "vip", "blacklist"
`now`, the time of the decision (a CEL timestamp).

Examples:
    order.totals.grand_total > 2000 && order.receiver.province in ['新疆', '西藏']
    order.remarks.buyer.contains('发票')
    order.lines.exists(l, l.sku == 'SKU-1')
    'high-risk' in order.tags
    buyer.previous_orders == 0 && order.totals.grand_total > 1000
    'blacklist' in buyer.tags || buyer.returns > 3
    now - timestamp(order.placed_at) > duration('48h')

A rule that cannot be evaluated for an order (a field that does not exist, a division by
zero, an answer that is not true or false) does not match it: the rule's hit carries
`error`, so staff hear of it, and the other rules still apply.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any, Literal

from cel_expr_python import cel
from pydantic import BaseModel, ConfigDict, Field, model_validator

from orderhub.domain.errors import InvalidRuleSet
from orderhub.domain.order import Order

__all__ = [
    "CompiledRuleSet",
    "CompiledRules",
    "Decision",
    "Facts",
    "Rule",
    "RuleAction",
    "RuleHit",
    "RuleSet",
    "combine",
    "order_facts",
]

_NAME = r"^[\w.-]+$"


class RuleAction(StrEnum):
    """What a matching rule does to the order."""

    REJECT = "reject"  # the order fails validation: held with the rule's code and reason
    HOLD = "hold"  # the order waits for a person to review it
    ROUTE = "route"  # the order goes to the rule's node (the first matching route wins)
    ALERT = "alert"  # staff are told; the order goes on
    NO_MERGE = "no_merge"  # never merged with other orders of the same buyer
    NO_SPLIT = "no_split"  # never split across nodes or parcels


class Rule(BaseModel):
    """One rule: when `when` is true for an order, `action` applies, for `reason`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=58, pattern=_NAME)
    when: str = Field(min_length=1)
    action: RuleAction
    reason: str = Field(min_length=1)
    code: str = Field(min_length=1, max_length=64)
    severity: Literal["error", "warning"]
    node: str | None = None
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """`code` defaults to `rule:<name>`; a reject is an error, anything else a warning."""
        if isinstance(data, Mapping):
            data = dict(data)
            if not data.get("code") and isinstance(data.get("name"), str):
                data["code"] = f"rule:{data['name']}"
            if data.get("severity") is None:
                data["severity"] = "error" if data.get("action") == "reject" else "warning"
        return data

    def hit(self, rule_set: str, *, error: str | None = None) -> RuleHit:
        return RuleHit(
            rule=self.name,
            action=self.action,
            code=self.code,
            reason=self.reason,
            severity=self.severity,
            node=self.node,
            rule_set=rule_set,
            error=error,
        )


class RuleSet(BaseModel):
    """A named, versioned list of rules a seller maintains as one file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=_NAME)
    description: str = ""
    rules: list[Rule] = Field(default_factory=list)

    def compile(self) -> CompiledRuleSet:
        """Parse and check every rule once; InvalidRuleSet names the first rule that fails."""
        seen: set[str] = set()
        compiled: list[tuple[Rule, Any]] = []
        for rule in self.rules:
            if rule.name in seen:
                raise InvalidRuleSet(self.name, rule.name, "another rule has the same name")
            seen.add(rule.name)
            if rule.action is RuleAction.ROUTE and not rule.node:
                raise InvalidRuleSet(self.name, rule.name, "a route rule needs a node")
            if rule.action is not RuleAction.ROUTE and rule.node:
                raise InvalidRuleSet(
                    self.name, rule.name, f"only route rules take a node, not {rule.action}"
                )
            compiled.append((rule, _compile(self.name, rule)))
        return CompiledRuleSet(
            self.name, tuple((rule, expr) for rule, expr in compiled if rule.enabled)
        )


@dataclass(frozen=True)
class RuleHit:
    """A rule that matched an order (or, with `error`, one that could not be evaluated)."""

    rule: str
    action: RuleAction
    code: str
    reason: str
    severity: str
    node: str | None = None
    rule_set: str = ""
    error: str | None = None


@dataclass(frozen=True)
class Decision:
    """What the active rules say about one order."""

    rejects: list[RuleHit] = field(default_factory=list)
    holds: list[RuleHit] = field(default_factory=list)
    route: RuleHit | None = None
    alerts: list[RuleHit] = field(default_factory=list)
    no_merge: bool = False
    no_split: bool = False
    errors: list[RuleHit] = field(default_factory=list)

    @classmethod
    def of(cls, hits: Iterable[RuleHit]) -> Decision:
        """The decision of hits in rule order: the first route hit wins."""
        by: dict[RuleAction, list[RuleHit]] = {action: [] for action in RuleAction}
        errors: list[RuleHit] = []
        for hit in hits:
            (errors if hit.error is not None else by[hit.action]).append(hit)
        routes = by[RuleAction.ROUTE]
        return cls(
            rejects=by[RuleAction.REJECT],
            holds=by[RuleAction.HOLD],
            route=routes[0] if routes else None,
            alerts=by[RuleAction.ALERT],
            no_merge=bool(by[RuleAction.NO_MERGE]),
            no_split=bool(by[RuleAction.NO_SPLIT]),
            errors=errors,
        )

    def merge(self, later: Decision) -> Decision:
        """This decision followed by one of a later rule set; this one's route wins."""
        return Decision(
            rejects=self.rejects + later.rejects,
            holds=self.holds + later.holds,
            route=self.route or later.route,
            alerts=self.alerts + later.alerts,
            no_merge=self.no_merge or later.no_merge,
            no_split=self.no_split or later.no_split,
            errors=self.errors + later.errors,
        )

    @property
    def stops(self) -> bool:
        """True when the order must not go on by itself (rejected or held for review)."""
        return bool(self.rejects or self.holds)


def combine(decisions: Iterable[Decision]) -> Decision:
    """Decisions of several rule sets, given in name order, as one."""
    result = Decision()
    for decision in decisions:
        result = result.merge(decision)
    return result


class Facts:
    """One order's variables, made into a CEL activation once and shared by every rule."""

    __slots__ = ("_activation", "data")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self._activation: Any = None

    @property
    def activation(self) -> Any:
        if self._activation is None:
            self._activation = _env().Activation(dict(self.data))
        return self._activation


def _as_facts(facts: Mapping[str, Any] | Facts) -> Facts:
    return facts if isinstance(facts, Facts) else Facts(facts)


class CompiledRuleSet:
    """A rule set parsed once; evaluating it against an order costs microseconds per rule."""

    def __init__(self, name: str, rules: tuple[tuple[Rule, Any], ...]) -> None:
        self.name = name
        self.rules = rules

    def hits(self, facts: Mapping[str, Any] | Facts) -> list[RuleHit]:
        """Every enabled rule that matches, in rule order, and every one that errs."""
        activation = _as_facts(facts).activation
        found: list[RuleHit] = []
        for rule, expression in self.rules:
            try:
                result = expression.eval(activation)
                value = result.plain_value()
            except Exception as exc:  # a foreign error must never stop the pipeline
                found.append(rule.hit(self.name, error=_run_error(str(exc))))
                continue
            if isinstance(value, bool):
                if value:
                    found.append(rule.hit(self.name))
            elif result.type() == cel.Type.ERROR:
                found.append(rule.hit(self.name, error=_run_error(str(value))))
            else:
                found.append(
                    rule.hit(self.name, error=f"gave {value!r}, which is not true or false")
                )
        return found

    def evaluate(self, facts: Mapping[str, Any] | Facts) -> Decision:
        """What this rule set decides about the order the facts describe."""
        return Decision.of(self.hits(facts))


@dataclass(frozen=True)
class CompiledRules:
    """The seller's active rule sets, in name order, evaluated as one.

    `broken` are error hits for active sets that could not be compiled: they are reported
    with every decision (so staff hear of them) and the other sets still apply.
    """

    sets: tuple[CompiledRuleSet, ...] = ()
    broken: tuple[RuleHit, ...] = ()

    def evaluate(self, facts: Mapping[str, Any] | Facts) -> Decision:
        prepared = _as_facts(facts)
        decision = combine(s.evaluate(prepared) for s in self.sets)
        return decision.merge(Decision(errors=list(self.broken))) if self.broken else decision


def order_facts(
    order: Order,
    *,
    buyer_orders: int = 0,
    buyer: Mapping[str, Any] | None = None,
    now: datetime,
) -> dict[str, Any]:
    """The variables rules see for `order` (listed in this module's docstring)."""
    totals, receiver = order.totals, order.receiver
    return {
        "order": {
            "id": order.id,
            "shop": order.shop,
            "platform": order.platform,
            "channel_order_id": order.channel_order_id,
            "order_no": order.order_no,
            "status": order.status.value,
            "channel_status": order.channel_status.value,
            "placed_at": _iso(order.placed_at),
            "paid_at": _iso(order.paid_at),
            "ship_by": _iso(order.ship_by),
            "currency": order.currency,
            "totals": {
                "items": _number(totals.items),
                "shipping": _number(totals.shipping),
                "discount": _number(totals.discount),
                "tax": _number(totals.tax),
                "grand_total": _number(totals.grand_total),
            },
            "quantity": sum(line.quantity for line in order.lines),
            "node": order.node,
            "buyer": {
                "name": order.buyer.name,
                "email": order.buyer.email,
                "phone": order.buyer.phone,
            },
            "receiver": {
                "name": receiver.name,
                "phone": receiver.phone,
                "country": receiver.country,
                "province": receiver.province,
                "city": receiver.city,
                "district": receiver.district,
                "address1": receiver.address1,
                "address2": receiver.address2,
                "postcode": receiver.postcode,
            },
            "remarks": {"buyer": order.remarks.buyer, "seller": order.remarks.seller},
            "tags": list(order.tags),
            "lines": [
                {
                    "line_id": line.line_id,
                    "sku": line.sku,
                    "channel_sku": line.channel_sku,
                    "title": line.title,
                    "quantity": line.quantity,
                    "unit_price": _number(line.unit_price),
                    "node": line.node,
                }
                for line in order.lines
            ],
        },
        "buyer": {
            "previous_orders": buyer_orders,
            "orders": 0,
            "spend": 0.0,
            "returns": 0,
            "tags": [],
            **(buyer or {}),
        },
        "now": now,
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _number(amount: Decimal) -> float:
    return float(amount)


_compile_lock = threading.Lock()
_POSITION = re.compile(r"<input>:(\d+):(\d+): ")


@cache
def _env() -> Any:
    return cel.NewEnv(
        variables={"order": cel.Type.DYN, "buyer": cel.Type.DYN, "now": cel.Type.TIMESTAMP}
    )


def _compile(rule_set: str, rule: Rule) -> Any:
    with _compile_lock:
        env = _env()
        try:
            expression = env.compile(rule.when)
        except RuntimeError as exc:
            raise InvalidRuleSet(rule_set, rule.name, _cel_message(str(exc))) from exc
    answer = expression.return_type()
    if answer not in (cel.Type.BOOL, cel.Type.DYN):
        raise InvalidRuleSet(
            rule_set, rule.name, f"`when` gives {str(answer).lower()}, not true or false"
        )
    return expression


def _cel_message(text: str) -> str:
    """CEL's first error, as `line 1, column 27: Syntax error: ...`, without the picture."""
    first = text.strip().splitlines()[0] if text.strip() else text
    first = first.removeprefix("INVALID_ARGUMENT: ").removeprefix("ERROR: ")
    return _POSITION.sub(lambda m: f"line {m[1]}, column {m[2]}: ", first, count=1)


_STATUS = re.compile(r"^[A-Z_]+: ")
_MISSING = re.compile(r"^Key not found in map ?: ?")


def _run_error(text: str) -> str:
    """CEL's evaluation error in plain words: `no field "provnce"`, `divide by zero`."""
    message = _STATUS.sub("", " ".join(text.split()), count=1)
    return _MISSING.sub("no field ", message, count=1)
