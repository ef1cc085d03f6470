"""Python's garbage collector in a long-running hub process.

Left as Python sets it, the collector looks for reference cycles after every 700 new
objects, and every so often walks every object the process holds, with every thread
stopped. A hub process holds a couple of hundred thousand objects from its start
(modules, classes, the app, the worker) that live as long as it does. So once a process
has started:

- what it holds then is frozen (`gc.freeze`): later collections never walk it again;
- the youngest objects are looked at after every `YOUNG` new ones instead of 700: most
  of an order's objects are gone by then, so fewer live on into the older generations
  whose collections take longest.

Cycles made later are still collected; objects frozen at the start are never freed,
which costs nothing for objects that live as long as the process anyway.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG", "settle_collector"]

YOUNG = 20_000
"""New objects between two collections of the youngest generation."""


def settle_collector() -> None:
    """Freeze what the started process holds, and collect the young less often."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, oldest)
