"""Previewing a mapping on a raw payload, without storing or sending anything."""

from __future__ import annotations

from typing import Any

from orderhub.connectors.registry import UnknownPlatform, order_mapping
from orderhub.domain.errors import InvalidOrder, OrderhubError
from orderhub.domain.order import Order
from orderhub.domain.validation import check_order

__all__ = ["preview_mapping"]


def preview_mapping(platform: str, raw: Any, *, shop: str = "preview") -> Order:
    """The canonical order, or InvalidOrder listing every mapping and validation problem."""
    try:
        mapping = order_mapping(platform)
    except UnknownPlatform as exc:
        raise OrderhubError(str(exc)) from exc
    order = mapping.map(raw, shop=shop)
    problems = [p for p in check_order(order) if p.severity == "error"]
    if problems:
        raise InvalidOrder(problems)
    return order
