"""A shop's field mapping changed without code: read it, preview a change on the shop's
stored payloads, save it as the next version, replay the payloads it failed to map.

A preview changes nothing: each payload is mapped with the mapping in force and with the
proposed one, and what a person needs to judge the change is shown side by side, with
the receiver masked. Saving keeps the configuration file in step and writes the audit
entry (before and after) that is the version's record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from orderhub.connectors import registry
from orderhub.connectors.kit import bounded_json
from orderhub.connectors.mapping import CONVERTERS, OrderMapping
from orderhub.domain.access import Principal
from orderhub.domain.errors import InvalidOrder, NotFound, OrderhubError
from orderhub.domain.masking import mask_name, mask_phone
from orderhub.domain.order import Order
from orderhub.services.audit import list_entries, record
from orderhub.services.config_file import write_shop
from orderhub.services.hub import Hub
from orderhub.services.ingest import replay_inbox
from orderhub.services.returns import REFUND_TOPICS

__all__ = [
    "MappingPreview",
    "PayloadPreview",
    "mapping_view",
    "preview_mapping",
    "replay_unmapped",
    "save_mapping",
]

PREVIEW_MOST = 50
_PARTS = ("fields", "lines")


@dataclass(frozen=True)
class PayloadPreview:
    """One stored payload mapped before and after the change."""

    inbox_id: str
    received_at: str
    status: str
    before: dict[str, Any]
    after: dict[str, Any]
    changed: bool


@dataclass(frozen=True)
class MappingPreview:
    payloads: list[PayloadPreview] = field(default_factory=list)
    failing_before: int = 0
    failing_after: int = 0
    changed: int = 0


def _rows(spec: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    rows = []
    for target, rule in spec.items():
        rule = {"path": rule} if isinstance(rule, str) else dict(rule)
        rows.append(
            {
                "field": prefix + target,
                "path": str(rule.get("path", "")),
                "type": str(rule.get("type", "str")),
            }
        )
    return rows


def mapping_view(hub: Hub, code: str) -> dict[str, Any]:
    """The platform's fields (path and type), the shop's overrides, the version in force
    and who saved each version."""
    with hub.reader() as uow:
        shop = uow.catalog.shop(code)
    base = registry.order_mapping(shop.platform).spec
    history = [
        {"at": e.at.isoformat(), "by": e.actor, "version": (e.after or {}).get("version")}
        for e in list_entries(hub, action="mapping.save", target=code)
    ]
    return {
        "shop": code,
        "platform": shop.platform,
        "fields": _rows(base.get("fields", {}), "")
        + _rows(dict(base.get("lines", {})).get("fields", {}), "lines."),
        "types": sorted(CONVERTERS),
        "overrides": shop.settings.get("mapping") or {},
        "version": int(shop.settings.get("mapping_version", 0)),
        "history": history,
    }


def _compiled(platform: str, overrides: Mapping[str, Any]) -> OrderMapping:
    """The platform's mapping with the overrides; an error names the field at fault."""
    unknown = sorted(set(overrides) - set(_PARTS))
    if unknown:
        raise OrderhubError(f"{unknown[0]}: overrides hold only {' and '.join(_PARTS)}")
    try:
        return registry.order_mapping(platform, overrides)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise OrderhubError(str(exc)) from exc


def _shown(order: Order) -> dict[str, Any]:
    """What a person checks in a mapped order; the receiver masked."""
    r = order.receiver
    return {
        "ok": True,
        "channel_order_id": order.channel_order_id,
        "order_no": order.order_no,
        "placed_at": order.placed_at.isoformat(),
        "channel_status": order.channel_status.value,
        "receiver": {
            "name": mask_name(r.name),
            "phone": mask_phone(r.phone),
            "country": r.country,
            "province": r.province,
            "city": r.city,
        },
        "lines": [[line.channel_sku, line.quantity] for line in order.lines],
        "grand_total": str(order.totals.grand_total),
        "currency": order.currency,
    }


def _mapped(mapping: OrderMapping, raw: Any, shop: str) -> dict[str, Any]:
    try:
        return _shown(mapping.map(raw, shop=shop))
    except InvalidOrder as exc:
        return {
            "ok": False,
            "problems": [{"field": p.field, "message": p.message} for p in exc.problems],
        }


def preview_mapping(
    hub: Hub, code: str, overrides: Mapping[str, Any], *, limit: int = 20
) -> MappingPreview:
    """The shop's latest stored payloads mapped as now and as proposed; nothing changes."""
    with hub.reader() as uow:
        shop = uow.catalog.shop(code)
        ids = uow.inbox.recent(code, limit=min(limit, PREVIEW_MOST), skip_topics=REFUND_TOPICS)
        items = [uow.inbox.get(i) for i in ids]
    proposed = _compiled(shop.platform, overrides)
    current = hub.mapping(shop)
    shown = []
    for item in items:
        try:
            raw = bounded_json.loads(item.body)
        except bounded_json.UnreadableJson:
            continue
        before, after = _mapped(current, raw, code), _mapped(proposed, raw, code)
        shown.append(
            PayloadPreview(
                item.id, item.received_at.isoformat(), item.status, before, after, before != after
            )
        )
    return MappingPreview(
        shown,
        failing_before=sum(not p.before["ok"] for p in shown),
        failing_after=sum(not p.after["ok"] for p in shown),
        changed=sum(p.changed for p in shown),
    )


def save_mapping(hub: Hub, code: str, overrides: Mapping[str, Any], *, who: Principal) -> int:
    """Put the overrides in force as the shop's next mapping version; that version."""
    clean = json.loads(json.dumps(dict(overrides)))
    with hub.uow() as uow:
        shop = uow.catalog.shop(code)
        _compiled(shop.platform, clean)
        version = int(shop.settings.get("mapping_version", 0)) + 1
        settings = {**shop.settings, "mapping": clean, "mapping_version": version}
        changed = replace(shop, settings=settings)
        uow.catalog.put_shop(changed)
        write_shop(hub, changed)
        record(
            uow,
            who,
            "mapping.save",
            code,
            before={"mapping": shop.settings.get("mapping") or {}},
            after={"mapping": clean, "version": version},
        )
        uow.commit()
    return version


def replay_unmapped(hub: Hub, code: str, *, limit: int = 1000) -> dict[str, int]:
    """Map again every payload of the shop that failed to map; how many now became orders
    and how many still fail."""
    with hub.reader() as uow:
        uow.catalog.shop(code)
        ids = uow.inbox.recent(code, limit=limit, failed_only=True, skip_topics=REFUND_TOPICS)
    orders = failing = 0
    for inbox_id in reversed(ids):  # oldest first, as they arrived
        try:
            order_id = replay_inbox(hub, inbox_id)
        except NotFound:
            continue
        if order_id:
            orders += 1
        else:
            failing += 1
    return {"replayed": orders + failing, "orders": orders, "still_failing": failing}
