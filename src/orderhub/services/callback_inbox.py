"""A signed callback kept before anything can fail: read once, stored, queued or held.

Warehouses, suppliers and parcel trackers all call back the same way: once the
signature is checked, the body is read to know whether it can be used, stored (once,
however often it is sent), and either queued for its job or held as an exception a
person sees. The sender is then told whether it was accepted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from orderhub.domain.errors import NotFound
from orderhub.observability import metrics
from orderhub.services.hub import Hub
from orderhub.store.uow import UnitOfWork

__all__ = ["keep_callback", "replay_callback"]


def keep_callback(
    hub: Hub,
    *,
    source: str,
    code: str,
    topic: str,
    body: bytes,
    headers: Mapping[str, str],
    read: Callable[[], object],
    job_kind: str,
) -> str:
    """Store the callback from `code` and queue `job_kind` for it; the reason it cannot
    be read ("" when it can), in which case it is kept as failed with an exception."""
    try:
        read()
        problem = ""
    except (ValueError, RecursionError) as exc:
        problem = f"callback from {code} is unreadable: {exc}"[:1000]
    arrived: dict[str, Any] = {
        "shop": code,
        "source": source,
        "topic": topic[:100],
        "dedup_key": f"{source}:{code}:{hashlib.sha256(body).hexdigest()}",
        "body": body,
        "headers": headers,
    }
    if problem:
        with hub.uow() as uow:
            inbox_id, new = uow.inbox.add(**arrived, status="failed", error=problem)
            if new:
                uow.exceptions.open(
                    stage="parse", code="malformed_callback", message=problem, inbox_id=inbox_id
                )
            uow.commit()
    else:
        _, new = hub.grouped_writes.run(
            lambda uow: uow.inbox.add_and_queue(uow.outbox, kind=job_kind, **arrived)
        )
    metrics.inbound.labels(
        source, "malformed" if problem else "stored" if new else "duplicate"
    ).inc()
    return problem


Apply = Callable[[Hub, UnitOfWork, str, "int | None"], None]
"""Applies one stored callback within a unit of work (inbox id, job id)."""


def replay_callback(hub: Hub, inbox_id: str, apply: Apply) -> str | None:
    """Apply a held callback again, whole, once its cause was fixed (a SKU added, a
    tracker's settings corrected); the order it was about, when it names one."""
    with hub.uow() as uow:
        if uow.inbox.get(inbox_id).status != "failed":
            raise NotFound("failed inbox item", inbox_id)
        uow.exceptions.resolve_for_inbox(inbox_id)
        uow.inbox.mark(inbox_id, "pending")
        apply(hub, uow, inbox_id, None)
        order_id = uow.inbox.get(inbox_id).order_id
        uow.commit()
    return order_id
