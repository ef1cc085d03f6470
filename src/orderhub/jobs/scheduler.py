"""Periodic work: incremental pulls from every shop (a safety net under webhooks),
reconciliation with every warehouse, polls of warehouses that call nothing back
(京东云仓), the daily low-stock check, the ship-by SLA scan,
the daily purge of personal data past retention and the scan for parcels gone quiet.

Each due task is queued as a job whose key names its time slot, so however many workers
run, each happens once per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from orderhub.observability import get_logger
from orderhub.services.hub import Hub
from orderhub.services.inventory import check_low_stock, schedule_reconciliation
from orderhub.services.keeping import schedule_retention
from orderhub.services.node_polls import schedule_node_polls
from orderhub.services.sla import schedule_sla_scan
from orderhub.services.sync import JOB_PULL, schedule_pulls
from orderhub.services.tracking import schedule_tracking_scan

__all__ = ["JOB_PULL", "Scheduler"]

log = get_logger(__name__)


class Scheduler:
    """Queues pulls, reconciliations, the low-stock check and the SLA scan at their intervals."""

    def __init__(self, hub: Hub, *, interval: float | None = None) -> None:
        self.hub = hub
        self.interval = interval or hub.settings.pull_interval
        self.tasks: list[tuple[float, Callable[[int], None]]] = [
            (self.interval, lambda slot: schedule_pulls(hub, slot=slot, pushing=True)),
            (
                hub.settings.poll_interval,
                lambda slot: schedule_pulls(hub, slot=slot, pushing=False),
            ),
            (hub.settings.reconcile_interval, lambda slot: schedule_reconciliation(hub, slot=slot)),
            (hub.settings.node_poll_interval, lambda slot: schedule_node_polls(hub, slot=slot)),
            (86400.0, lambda slot: _low_stock(hub)),
            (hub.settings.sla_scan_interval, lambda slot: schedule_sla_scan(hub, slot=slot)),
            (86400.0, lambda slot: schedule_retention(hub, slot=slot)),
            (
                hub.settings.tracking_scan_interval,
                lambda slot: schedule_tracking_scan(hub, slot=slot),
            ),
        ]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def _loop(self) -> None:
        last = {i: int(time.time() // every) for i, (every, _) in enumerate(self.tasks)}
        while not self._stop.wait(1.0):
            for i, (every, task) in enumerate(self.tasks):
                slot = int(time.time() // every)
                if slot != last[i]:
                    last[i] = slot
                    try:
                        task(slot)
                    except Exception:
                        log.exception("scheduling periodic work failed")


def _low_stock(hub: Hub) -> None:
    check_low_stock(hub)
