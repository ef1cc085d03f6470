"""Signed 快递100 callbacks, fuzzed: none is lost, none stalls the hub.

A callback that carries a valid `MD5(param + salt)` came from the tracker, however odd
its `param`. Each generated body names the real parcel of a shipped order or not, so a
body that names it reaches the timeline code too. Every body must be answered without a
server error, kept (a readable one applied, an unreadable one held as an exception a
person sees), never left pending and never retried, while `/healthz` keeps answering.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fuzzing import json_values, texts
from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.store import tables as t
from support import order_status, wait_until

SALT = "demo-salt-0f3c"  # the salt the demo stack gives its 快递100 tracker
FEW = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def shipped(make_stack: Callable[..., Stack]) -> Iterator[tuple[Stack, str]]:
    """A hub following one shipped parcel with 快递100."""
    stack = make_stack(tracking=True, ship_delay=0.05)
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: order_status(stack, placed["id"]) == "completed", what="shipped")
    [fulfillment] = queries.order_view(stack.hub, str(placed["id"])).fulfillments
    tracker = stack.tracker
    assert tracker is not None
    wait_until(lambda: fulfillment.tracking_no in tracker.parcels, what="subscribed")
    yield stack, fulfillment.tracking_no


def _count(stack: Stack, *where: Any, table: Any = t.inbox) -> int:
    with stack.hub.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


@st.composite
def params(draw: st.DrawFn, number: str) -> str:
    """A 快递100 push as a broken or hostile sender might write it."""
    scan = {
        "context": draw(texts),
        "time": draw(st.sampled_from(["2026-12-04 10:00:00", "", "yesterday"]) | texts),
        "ftime": draw(st.sampled_from(["2026-12-04 10:00:01"]) | texts),
        "areaName": draw(texts),
        "status": draw(st.sampled_from(["在途", "签收", "退回", "疑难", ""]) | texts),
    }
    result: dict[str, Any] = {
        "state": draw(st.sampled_from(["0", "3", "6", "14", "99"]) | texts),
        "nu": draw(st.sampled_from([number, "", "SF000000000000"]) | texts),
        "com": draw(st.sampled_from(["shunfeng"]) | texts),
        "data": draw(st.lists(st.just(scan) | json_values, max_size=3) | json_values),
    }
    push: dict[str, Any] = {
        "status": draw(st.sampled_from(["polling", "shutdown", "abort"]) | texts),
        "message": draw(texts),
        "lastResult": draw(st.just(result) | json_values),
    }
    for key in draw(st.lists(st.sampled_from(sorted(push)), max_size=1)):
        push[key] = draw(json_values)
    return json.dumps(push, ensure_ascii=draw(st.booleans()))


@FEW
@given(data=st.data())
def test_fuzzed_tracking_callbacks_are_all_kept_and_none_stalls_the_hub(
    shipped: tuple[Stack, str], data: st.DataObject
) -> None:
    stack, number = shipped
    param = data.draw(params(number))
    # A lone surrogate cannot be encoded honestly: it goes out as the invalid bytes a
    # broken sender would write, signed as sent.
    raw = param.encode("utf-8", "surrogatepass")
    sign = hashlib.md5(raw + SALT.encode()).hexdigest().upper()
    body = f"param={quote_from_bytes(raw)}&sign={sign}"
    problems_before = _count(stack, t.exceptions.c.status == "open", table=t.exceptions)
    failed_before = _count(stack, t.inbox.c.source == "tracker", t.inbox.c.status == "failed")
    answer = httpx.post(
        f"{stack.api.url}/tracking/KD100",
        content=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert answer.status_code < 500, answer.text
    assert httpx.get(f"{stack.api.url}/healthz", timeout=10).status_code == 200
    wait_until(
        lambda: _count(stack, t.inbox.c.status == "pending") == 0,
        what="the callback applied or held",
        timeout=30,
    )
    retried = _count(
        stack,
        t.outbox_jobs.c.kind == "tracking.event",
        (t.outbox_jobs.c.attempts > 1) | (t.outbox_jobs.c.status == "dead"),
        table=t.outbox_jobs,
    )
    assert retried == 0
    if _count(stack, t.inbox.c.source == "tracker", t.inbox.c.status == "failed") > failed_before:
        # A callback the hub could not read is an exception a person sees.
        assert _count(stack, t.exceptions.c.status == "open", table=t.exceptions) > problems_before
