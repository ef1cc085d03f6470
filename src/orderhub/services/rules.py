"""Seller rule sets: store a new version, activate it, decide about an order, and dry-run
a version over past orders before letting it touch new ones.

Rule sets are compiled once per (seller, name, version) and kept: versions never change
once stored, so the pipeline parses nothing per order.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from pydantic import ValidationError

from orderhub.domain.errors import InvalidRuleSet, NotFound, OrderhubError
from orderhub.domain.order import Order
from orderhub.domain.rules import (
    CompiledRules,
    CompiledRuleSet,
    Decision,
    Facts,
    RuleAction,
    RuleHit,
    RuleSet,
    order_facts,
)
from orderhub.services.hub import Hub
from orderhub.store.db import Database
from orderhub.store.rules import RuleSetVersion
from orderhub.store.uow import UnitOfWork

__all__ = [
    "BadWindow",
    "DryRunReport",
    "RuleReport",
    "RuleSetSummary",
    "activate_rule_set",
    "active_rules",
    "decide",
    "dry_run",
    "list_rule_sets",
    "parse_rule_set",
    "put_rule_set",
    "rule_versions",
    "show_rule_set",
    "window_start",
]

_PAGE = 500
_EXAMPLES = 5


class BadWindow(OrderhubError):
    """A time window given as text is neither `all`, `last-Nd`, `last-Nh` nor ISO-8601."""


@dataclass(frozen=True)
class RuleSetSummary:
    """One rule set as a list shows it: its newest version and the one in force."""

    name: str
    description: str
    versions: int
    latest: int
    latest_status: str
    active: int | None
    rules: int


@dataclass(frozen=True)
class RuleReport:
    """What one rule would have done to the orders of the dry run."""

    rule: str
    action: str
    node: str | None
    enabled: bool
    matched: int = 0
    changed: int | None = None  # route rules: orders it would send to another node
    examples: list[str] = field(default_factory=list)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DryRunReport:
    """A rule set version evaluated over stored orders; nothing was written."""

    name: str
    version: int
    status: str
    since: datetime
    until: datetime | None
    orders: int
    truncated: bool
    rules: list[RuleReport]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "since": self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "orders": self.orders,
            "truncated": self.truncated,
            "rules": [r.__dict__ for r in self.rules],
        }


def parse_rule_set(body: Mapping[str, Any] | RuleSet) -> RuleSet:
    """A rule set from its JSON or YAML form, compiled to prove every rule is usable.

    Anything wrong becomes InvalidRuleSet naming the rule (or the field) at fault.
    """
    if isinstance(body, RuleSet):
        rule_set = body
    else:
        try:
            rule_set = RuleSet.model_validate(body)
        except ValidationError as exc:
            raise _invalid(body, exc) from None
    rule_set.compile()
    return rule_set


def put_rule_set(hub: Hub, body: Mapping[str, Any] | RuleSet) -> int:
    """Store a new draft version of a rule set; the version number."""
    rule_set = parse_rule_set(body)
    with hub.uow() as uow:
        version = uow.rules.add_version(rule_set)
        uow.commit()
    return version


def _nodes_exist(uow: UnitOfWork, rule_set: RuleSet) -> None:
    """A rule that routes to a node the hub does not know is refused, naming both."""
    known = {node.code for node in uow.catalog.nodes()}
    for rule in rule_set.rules:
        if rule.node is not None and rule.node not in known:
            raise InvalidRuleSet(
                rule_set.name,
                rule.name,
                f"routes to node {rule.node!r}, which does not exist; "
                f"nodes: {', '.join(sorted(known)) or 'none yet'}",
            )


def activate_rule_set(hub: Hub, name: str, version: int | None = None) -> int:
    """Put a version (the newest when None) in force; the version active before retires."""
    with hub.uow() as uow:
        chosen = uow.rules.get(name, version)
        chosen.rule_set.compile()
        _nodes_exist(uow, chosen.rule_set)
        uow.rules.activate(name, chosen.version)
        uow.commit()
    return chosen.version


def rule_versions(hub: Hub, name: str) -> list[RuleSetVersion]:
    """Every stored version of a rule set, oldest first."""
    with hub.reader() as uow:
        found = uow.rules.versions(name)
    if not found:
        raise NotFound("rule set", name)
    return found


def show_rule_set(hub: Hub, name: str, version: int | None = None) -> RuleSetVersion:
    """One stored version (the newest when None)."""
    with hub.reader() as uow:
        return uow.rules.get(name, version)


def list_rule_sets(hub: Hub) -> list[RuleSetSummary]:
    """Every rule set of the seller, by name."""
    summaries: list[RuleSetSummary] = []
    with hub.reader() as uow:
        for name in uow.rules.names():
            versions = uow.rules.versions(name)
            latest = versions[-1]
            active = next((v.version for v in versions if v.status == "active"), None)
            summaries.append(
                RuleSetSummary(
                    name=name,
                    description=latest.rule_set.description,
                    versions=len(versions),
                    latest=latest.version,
                    latest_status=latest.status,
                    active=active,
                    rules=len(latest.rule_set.rules),
                )
            )
    return summaries


_cache: WeakKeyDictionary[Database, dict[tuple[str, str, int], CompiledRuleSet | RuleHit]] = (
    WeakKeyDictionary()
)
_cache_lock = threading.Lock()


def _compiled(uow: UnitOfWork, name: str, version: int) -> CompiledRuleSet | RuleHit:
    """The compiled version, from the cache or compiled now; a broken one as an error hit."""
    key = (uow.tenant, name, version)
    with _cache_lock:
        known = _cache.setdefault(uow.db, {}).get(key)
    if known is not None:
        return known
    compiled: CompiledRuleSet | RuleHit
    try:
        compiled = uow.rules.get(name, version).rule_set.compile()
    except InvalidRuleSet as exc:
        compiled = RuleHit(
            rule=exc.rule,
            action=RuleAction.ALERT,
            code=f"rule_set:{name}",
            reason=f"rule set {name} v{version} cannot be used",
            severity="error",
            rule_set=name,
            error=str(exc),
        )
    with _cache_lock:
        _cache.setdefault(uow.db, {})[key] = compiled
    return compiled


def active_rules(uow: UnitOfWork) -> CompiledRules:
    """The seller's active rule sets, compiled (once per version), in name order."""
    sets: list[CompiledRuleSet] = []
    broken: list[RuleHit] = []
    # Read for every order: kept a few seconds, like shops and nodes.
    versions = uow.config.get("rule_versions", uow.rules.active_versions)
    for name, version in versions:
        compiled = _compiled(uow, name, version)
        if isinstance(compiled, RuleHit):
            broken.append(compiled)
        else:
            sets.append(compiled)
    return CompiledRules(tuple(sets), broken=tuple(broken))


def _buyer_orders(uow: UnitOfWork, order: Order) -> int:
    return uow.orders.count_by_buyer(
        order.shop, uow.orders.buyer_key(order), before=order.placed_at
    )


def decide(uow: UnitOfWork, order: Order, *, now: datetime) -> Decision:
    """What the seller's active rules say about `order`; errors come back in the decision."""
    rules = active_rules(uow)
    if not rules.sets and not rules.broken:
        return Decision()
    buyer = uow.buyers.of_order(order.id)
    facts = Facts(
        order_facts(
            order,
            buyer_orders=_buyer_orders(uow, order),
            buyer=buyer.facts if buyer is not None else None,
            now=now,
        )
    )
    return rules.evaluate(facts)


def dry_run(
    hub: Hub,
    name: str,
    *,
    version: int | None = None,
    since: datetime,
    until: datetime | None = None,
    limit: int = 10_000,
) -> DryRunReport:
    """Evaluate a version (draft or active) over the orders placed in [since, until).

    Each order is judged as it was when it arrived (`now` is its placed time). For route
    rules, `changed` counts orders the rule would send to a node other than the one they
    went to (an order that went nowhere yet counts). Nothing is written.
    """
    with hub.reader() as uow:
        stored = uow.rules.get(name, version)
        compiled = stored.rule_set.compile()
        reports = {
            rule.name: RuleReport(
                rule=rule.name, action=rule.action.value, node=rule.node, enabled=rule.enabled
            )
            for rule in stored.rule_set.rules
        }
        tally = {rule: _Tally() for rule in reports}
        seen, truncated = 0, False
        after: tuple[datetime, str] | None = None
        while True:
            want = min(_PAGE, limit - seen)
            if want <= 0:
                truncated = bool(uow.orders.placed_page(since, until, limit=1, after=after))
                break
            page = uow.orders.placed_page(since, until, limit=want, after=after)
            for order in page:
                facts = order_facts(
                    order, buyer_orders=_buyer_orders(uow, order), now=order.placed_at
                )
                _count(compiled, order, facts, tally)
            seen += len(page)
            if len(page) < want:
                break
            after = (page[-1].placed_at, page[-1].id)
    return DryRunReport(
        name=stored.name,
        version=stored.version,
        status=stored.status,
        since=since,
        until=until,
        orders=seen,
        truncated=truncated,
        rules=[tally[name].report(report) for name, report in reports.items()],
    )


@dataclass
class _Tally:
    matched: int = 0
    changed: int = 0
    examples: list[str] = field(default_factory=list)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)

    def report(self, base: RuleReport) -> RuleReport:
        is_route = base.action == RuleAction.ROUTE.value
        return RuleReport(
            rule=base.rule,
            action=base.action,
            node=base.node,
            enabled=base.enabled,
            matched=self.matched,
            changed=self.changed if is_route else None,
            examples=self.examples,
            errors=self.errors,
            error_examples=self.error_examples,
        )


def _count(
    compiled: CompiledRuleSet, order: Order, facts: dict[str, Any], tally: dict[str, _Tally]
) -> None:
    label = order.order_no or order.channel_order_id
    hits = compiled.hits(facts)
    first_route = next((h for h in hits if h.error is None and h.action is RuleAction.ROUTE), None)
    for hit in hits:
        t = tally[hit.rule]
        if hit.error is not None:
            t.errors += 1
            if len(t.error_examples) < _EXAMPLES:
                t.error_examples.append(f"{label}: {hit.error}")
            continue
        t.matched += 1
        if len(t.examples) < _EXAMPLES:
            t.examples.append(label)
        if hit is first_route and hit.node != order.node:
            t.changed += 1


_WINDOW = re.compile(r"^last-(\d+)([dh])$")


def window_start(text: str, *, now: datetime) -> datetime:
    """`last-7d` → seven days before `now`; `last-12h`; `all`; or an ISO-8601 time."""
    spec = text.strip().lower()
    if spec == "all":
        return datetime(1970, 1, 1, tzinfo=UTC)
    match = _WINDOW.match(spec)
    if match:
        amount = int(match[1])
        return now - (timedelta(days=amount) if match[2] == "d" else timedelta(hours=amount))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadWindow(
            f"{text!r} is not a window: use last-7d, last-12h, all or an ISO-8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _invalid(body: Mapping[str, Any], exc: ValidationError) -> InvalidRuleSet:
    """The first pydantic complaint, said about the rule it concerns."""
    first = exc.errors()[0]
    loc = list(first["loc"])
    name = body.get("name")
    rule_set = name if isinstance(name, str) else "?"
    rule, where = "", ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = body.get("rules")
        found = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
        given = found.get("name") if isinstance(found, Mapping) else None
        rule = given if isinstance(given, str) and given else f"#{loc[1] + 1}"
        where = ".".join(str(p) for p in loc[2:])
    message = first["msg"].removeprefix("Value error, ")
    return InvalidRuleSet(rule_set, rule, f"{where}: {message}" if where else message)
