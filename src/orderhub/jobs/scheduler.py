"""Periodic work: incremental pulls from every shop, as a safety net under webhooks.

Each due pull is queued as a job whose key names its time slot, so however many workers
run, each shop is pulled once per interval.
"""

from __future__ import annotations

import threading
import time

from orderhub.observability import get_logger
from orderhub.services.hub import Hub
from orderhub.services.sync import JOB_PULL, schedule_pulls

__all__ = ["JOB_PULL", "Scheduler"]

log = get_logger(__name__)


class Scheduler:
    """Queues a pull of every shop once per `pull_interval`."""

    def __init__(self, hub: Hub, *, interval: float | None = None) -> None:
        self.hub = hub
        self.interval = interval or hub.settings.pull_interval
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
        while not self._stop.wait(self.interval - time.time() % self.interval):
            try:
                schedule_pulls(self.hub, slot=int(time.time() // self.interval))
            except Exception:
                log.exception("scheduling pulls failed")
