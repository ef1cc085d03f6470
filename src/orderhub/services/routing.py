"""A shop's routing, built once from its configuration, and supplier scores from the
purchase orders of the last weeks."""

from __future__ import annotations

import json
from functools import lru_cache

from pydantic import ValidationError

from orderhub.domain.allocation import RoutingConfig, build_strategies
from orderhub.domain.errors import ConfigurationError
from orderhub.domain.routing import RoutingStrategy
from orderhub.domain.suppliers import SupplierPerformance, supplier_score
from orderhub.store.catalog import ShopRecord
from orderhub.store.uow import UnitOfWork

__all__ = ["routing_config", "strategies_for", "supplier_performance", "supplier_scores"]

SCORE_DAYS = 30.0


@lru_cache(maxsize=256)
def _parsed(shop_code: str, text: str) -> tuple[RoutingConfig, tuple[RoutingStrategy, ...]]:
    try:
        config = RoutingConfig.model_validate(json.loads(text))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigurationError(f"shop {shop_code}: routing.{where}: {first['msg']}") from exc
    return config, build_strategies(config)


def _key(shop: ShopRecord) -> tuple[str, str]:
    return shop.code, json.dumps(dict(shop.routing), sort_keys=True, ensure_ascii=False)


def routing_config(shop: ShopRecord) -> RoutingConfig:
    """The shop's routing settings (defaults when it has none)."""
    return _parsed(*_key(shop))[0]


def strategies_for(shop: ShopRecord) -> tuple[RoutingStrategy, ...]:
    """The shop's strategies in order, compiled once per distinct configuration."""
    return _parsed(*_key(shop))[1]


def supplier_performance(uow: UnitOfWork, *, days: float = SCORE_DAYS) -> list[SupplierPerformance]:
    """Each supplier's purchase orders of the last `days`: counts and average latencies."""
    return [
        SupplierPerformance(
            node=r.node,
            pushed=r.pushed,
            acknowledged=r.acknowledged,
            shipped=r.shipped,
            failed=r.failed,
            ack_seconds=r.ack_seconds,
            ship_seconds=r.ship_seconds,
        )
        for r in uow.dispatches.supplier_records(days=days)
    ]


def supplier_scores(uow: UnitOfWork) -> dict[str, float]:
    """Score per supplier with enough history, kept for a minute per seller."""

    def load() -> dict[str, float]:
        scores = {}
        for performance in supplier_performance(uow):
            score = supplier_score(performance)
            if score is not None:
                scores[performance.node] = score
        return scores

    return uow.db.score_cache.get(("supplier_scores", uow.tenant), load)
