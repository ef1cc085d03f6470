"""The background thread every emulator runs: wake on a tick or when poked, do one round
of its work (ship what is due, send callbacks that are owed), and stop cleanly."""

from __future__ import annotations

import logging
import threading

import httpx

__all__ = ["EmulatorLoop"]

log = logging.getLogger(__name__)


class EmulatorLoop:
    """Subclasses implement `step()`; `self._http` is the client it may send with."""

    name = "emulator"

    def __init__(self, *, tick: float, timeout: float) -> None:
        self._tick = tick
        self._timeout = timeout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None

    def step(self) -> None:
        """One round of work."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the thread unless it runs already; safe to call on every request."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._http = httpx.Client(timeout=self._timeout)
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close its HTTP client; pending callbacks stay in the log."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._wake.set()
            if thread is not None:
                thread.join(timeout=10)
            if self._http is not None:
                self._http.close()
                self._http = None

    def wake(self) -> None:
        """Look at the books now instead of at the next tick."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("the %s worker failed one round", self.name)
            self._wake.wait(self._tick)
            self._wake.clear()
