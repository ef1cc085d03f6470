"""Previewing a mapping on raw payloads, without storing or sending anything.

The preview runs exactly the checks the pipeline runs (`pipeline.order_problems`): with
a database that knows the shop, against its listings and our catalogue, so an order the
preview passes is not held by the same checks on import. Without one, the checks that
need no catalogue run, and the preview says which were left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orderhub.connectors.registry import UnknownPlatform, order_mapping
from orderhub.domain.errors import InvalidOrder, NotFound, OrderhubError, Problem
from orderhub.domain.order import Order
from orderhub.domain.validation import check_order, check_phone
from orderhub.services.hub import Hub
from orderhub.services.pipeline import order_problems

__all__ = ["Preview", "preview_mapping", "preview_orders"]


@dataclass(frozen=True)
class Preview:
    """One payload's canonical order (when it maps) and every problem the pipeline would
    hold it for; `skipped` names checks that could not run here."""

    order: Order | None
    problems: list[Problem] = field(default_factory=list)
    skipped: str = ""

    @property
    def valid(self) -> bool:
        return self.order is not None and not any(p.severity == "error" for p in self.problems)


def preview_orders(
    hub: Hub | None, raws: Sequence[Any], *, shop: str, platform: str | None = None
) -> list[Preview]:
    """Map and check each raw order as the pipeline would, for the shop `shop`."""
    record = None
    if hub is not None:
        with hub.reader() as uow:
            try:
                record = uow.catalog.shop(shop)
            except NotFound:
                record = None
    if record is not None:
        mapping = hub.mapping(record) if hub is not None else None
        assert mapping is not None
    else:
        if platform is None:
            raise OrderhubError(f"shop {shop} is not configured here: name its --platform")
        try:
            mapping = order_mapping(platform)
        except UnknownPlatform as exc:
            raise OrderhubError(str(exc)) from exc
    results = []
    for raw in raws:
        try:
            order = mapping.map(raw, shop=shop)
        except InvalidOrder as exc:
            results.append(Preview(None, list(exc.problems)))
            continue
        if record is not None and hub is not None:
            with hub.reader() as uow:
                problems = order_problems(uow, order, record)
            results.append(Preview(order, problems))
        else:
            problems = check_order(order) + check_phone(order)
            skipped = f"SKUs were not checked: shop {shop} is not in this hub's database"
            results.append(Preview(order, problems, skipped))
    return results


def preview_mapping(platform: str, raw: Any, *, shop: str = "preview") -> Order:
    """One order without a database: the canonical order, or InvalidOrder with every
    problem the checks that need no catalogue find."""
    [result] = preview_orders(None, [raw], shop=shop, platform=platform)
    errors = [p for p in result.problems if p.severity == "error"]
    if result.order is None or errors:
        raise InvalidOrder(errors or result.problems)
    return result.order
