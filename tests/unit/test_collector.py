"""The garbage collector of a started hub process (`orderhub.collector`)."""

from __future__ import annotations

import json
import subprocess
import sys

SETTLED = """
import gc, json, weakref
from orderhub.collector import YOUNG, settle_collector
from orderhub.api.app import create_app

class Node:
    pass

held = [Node() for _ in range(1000)]
walked_before = len(gc.get_objects())
settle_collector()
walked_after = len(gc.get_objects())

later = Node()
later.itself = later
freed = weakref.ref(later)
del later
gc.collect()
print(json.dumps({
    "walked_before": walked_before,
    "walked_after": walked_after,
    "held_alive": all(isinstance(node, Node) for node in held),
    "later_cycle_freed": freed() is None,
    "young": gc.get_threshold()[0],
    "expected_young": YOUNG,
}))
"""


def test_a_started_process_stops_walking_what_it_holds_and_still_frees_later_cycles() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SETTLED], capture_output=True, text=True, check=True, timeout=60
    )
    seen = json.loads(done.stdout)
    # The app's modules and objects held at the start are no longer walked by collections.
    assert seen["walked_before"] > 10_000
    assert seen["walked_after"] < 100
    assert seen["held_alive"]
    # A cycle made afterwards is still found and freed.
    assert seen["later_cycle_freed"]
    assert seen["young"] == seen["expected_young"] > 700
