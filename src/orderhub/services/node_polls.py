"""Warehouses that call nothing back (京东云仓) are asked instead, now and then.

For each node whose connector is a `PolledNode`, the hub lists the dispatches it holds
(pushed, not shipped or stopped) and asks what became of them. Each event is stored raw
in the inbox first, as a callback is, keyed by what it says (a shipment by its confirm
id, a cancellation by the order), then applied by the same `node.event` job that applies
callbacks. However often an order is polled, its shipment is stored and applied once.

A node switched off is still polled: it ships the orders it already holds, as a
warehouse switched off still calls back with theirs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from orderhub.connectors.base import NodeEvent
from orderhub.connectors.capabilities import is_polled
from orderhub.domain.errors import ConfigurationError
from orderhub.observability import get_logger, metrics
from orderhub.services.hub import Hub
from orderhub.services.node_callbacks import JOB_NODE_EVENT
from orderhub.store.outbox import Job

__all__ = ["JOB_NODE_POLL", "PollResult", "poll_job", "poll_node", "schedule_node_polls"]

JOB_NODE_POLL = "node.poll"

log = get_logger(__name__)


@dataclass(frozen=True)
class PollResult:
    """Orders asked about, events the node reported, and how many of them were new."""

    asked: int
    events: int
    stored: int


def _identity(node: str, event: NodeEvent, body: bytes) -> str:
    """The inbox key of a polled event: what it says, not when it was asked."""
    if event.shipment is not None:
        what = f"ship:{event.shipment.confirm_id}"
    elif event.cancelled is not None:
        what = f"cancel:{event.cancelled}"
    else:
        what = hashlib.sha256(body).hexdigest()
    return f"node:{node}:poll:{what}"


def poll_node(hub: Hub, node_code: str) -> PollResult:
    """Ask a polled node about the orders it holds; store and queue what it reports."""
    with hub.reader() as uow:
        node = uow.catalog.node(node_code)
        held = uow.dispatches.open_at(node_code)
    connector = hub.node(node)
    if not is_polled(connector) or not held:
        return PollResult(0, 0, 0)
    events = connector.poll_events({code: external or code for code, external in held})
    stored = 0
    with hub.uow() as uow:
        for event in events:
            body = json.dumps(event.raw, ensure_ascii=False, sort_keys=True).encode()
            inbox_id, new = uow.inbox.add(
                shop=node_code,
                source="node",
                topic=event.method[:100],
                dedup_key=_identity(node_code, event, body),
                body=body,
                headers={"query": json.dumps({"method": event.method})},
            )
            if new:
                uow.outbox.add(JOB_NODE_EVENT, {"inbox_id": inbox_id}, key=f"inbox:{inbox_id}")
                stored += 1
        uow.commit()
    metrics.inbound.labels("node", "polled").inc(stored)
    return PollResult(len(held), len(events), stored)


def poll_job(hub: Hub, job: Job) -> None:
    poll_node(hub, str(job.payload["node"]))


def schedule_node_polls(hub: Hub, *, slot: int) -> None:
    """Queue one poll per polled node for this time slot (a second worker's copy is
    dropped); a node whose set-up cannot be read is skipped and logged."""
    with hub.reader() as uow:
        nodes = uow.catalog.nodes()
    polled = []
    for node in nodes:
        try:
            if is_polled(hub.node(node)):
                polled.append(node.code)
        except ConfigurationError as exc:
            log.warning("node not polled", node=node.code, error=str(exc))
    if not polled:
        return
    with hub.uow() as uow:
        for code in polled:
            uow.outbox.add(JOB_NODE_POLL, {"node": code}, key=f"poll:{code}:{slot}")
        uow.commit()
