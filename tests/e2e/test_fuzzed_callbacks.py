"""Signed callbacks from warehouses and suppliers, fuzzed: none is lost, none stalls the hub.

A callback that carries a valid signature came from the node, however odd its body. Each
generated body is sent to a hub that has a real order at the warehouse and a real purchase
order at the supplier, so a body that names them reaches the shipment code too. Every body
must be stored, answered without a server error, and then either applied or held as an
open exception, never left pending and never retried as if the failure were passing,
while `/healthz` keeps answering.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from fuzzing import FUZZ, json_values, texts
from orderhub.connectors.supplier.sign import signed_headers
from orderhub.demo_stack import QIMEN_KEY, QIMEN_SECRET, SUPPLIER_ID, SUPPLIER_SECRET, Stack
from orderhub.sandbox.qimen.callbacks import qimen_sign
from orderhub.store import tables as t
from support import wait_until

CST = timezone(timedelta(hours=8))
STALLED = 10.0


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Iterator[Stack]:
    """A warehouse holding an order for SKU-001 and a supplier holding a PO for SKU-002."""
    s = make_stack(
        supplier=True,
        ship_delay=3600.0,
        supplier_ack_delay=3600.0,
        stock_by_node={"WH1": {"SKU-001": 100}},
    )
    s.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 2}]})
    s.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})
    assert s.supplier is not None
    supplier = s.supplier
    wait_until(lambda: len(s.qimen.orders()) == 1, what="the order at the warehouse")
    wait_until(lambda: len(supplier.purchase_orders()) == 1, what="the PO at the supplier")
    yield s


def _kept_before(stack: Stack, node: str, body: bytes) -> bool:
    """The hub keeps a callback once: a repeated body adds no row."""
    key = f"node:{node}:{hashlib.sha256(body).hexdigest()}"
    with stack.hub.db.engine.connect() as conn:
        found = conn.execute(select(t.inbox.c.id).where(t.inbox.c.dedup_key == key)).first()
    return found is not None


def _counts(stack: Stack) -> tuple[int, int]:
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(func.count()).select_from(t.inbox).where(t.inbox.c.source == "node")
        ).scalar_one()
        problems = conn.execute(select(func.count()).select_from(t.exceptions)).scalar_one()
    return rows, problems


def _settled(stack: Stack) -> bool:
    with stack.hub.db.engine.connect() as conn:
        pending = conn.execute(
            select(func.count()).select_from(t.inbox).where(t.inbox.c.status == "pending")
        ).scalar_one()
    return pending == 0


def _retried_or_dead(stack: Stack) -> list[Any]:
    with stack.hub.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(t.outbox_jobs.c.kind, t.outbox_jobs.c.status, t.outbox_jobs.c.last_error)
                .where(t.outbox_jobs.c.kind == "node.event")
                .where((t.outbox_jobs.c.attempts > 1) | (t.outbox_jobs.c.status == "dead"))
            )
        )


def _failed_rows(stack: Stack) -> int:
    with stack.hub.db.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(t.inbox)
                .where(t.inbox.c.source == "node", t.inbox.c.status == "failed")
            ).scalar_one()
        )


def _check(stack: Stack, node: str, body: bytes, send: Callable[[], httpx.Response]) -> None:
    """Send one signed body and assert it was kept, answered, and settled visibly."""
    repeat = _kept_before(stack, node, body)
    rows_before, problems_before = _counts(stack)
    failed_before = _failed_rows(stack)
    answer = send()
    assert answer.status_code < 500, answer.text
    # The hub still answers: a body that stalled it would time this out.
    health = httpx.get(f"{stack.api.url}/healthz", timeout=STALLED)
    assert health.status_code == 200
    rows_after, _ = _counts(stack)
    assert rows_after == rows_before + (0 if repeat else 1)
    wait_until(lambda: _settled(stack), what="the callback applied or held", timeout=30)
    assert _retried_or_dead(stack) == []
    if _failed_rows(stack) > failed_before:
        # A callback the hub could not use is an exception a person sees.
        assert _counts(stack)[1] > problems_before


# --- Qimen (奇门) warehouse callbacks -------------------------------------------------

QIMEN_FIELDS = [
    "deliveryOrderCode",
    "status",
    "confirmType",
    "orderConfirmTime",
    "outBizCode",
    "logisticsCode",
    "expressCode",
    "itemCode",
    "quantity",
    "orderLineNo",
    "actualQty",
]


def _confirm_xml(code: str, values: dict[str, str], encoding: str) -> bytes:
    v = {
        "deliveryOrderCode": code,
        "status": "DELIVERED",
        "confirmType": "0",
        "orderConfirmTime": datetime.now(CST).strftime("%Y-%m-%d %H:%M:%S"),
        "outBizCode": f"fuzz-{time.monotonic_ns()}",
        "logisticsCode": "SF",
        "expressCode": "SF1234567890",
        "itemCode": "SKU-001",
        "quantity": "1",
        "orderLineNo": "1",
        "actualQty": "1",
        **values,
    }
    e = {key: escape(value) for key, value in v.items()}
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        "<request><deliveryOrder>"
        f"<deliveryOrderCode>{e['deliveryOrderCode']}</deliveryOrderCode>"
        "<warehouseCode>WH1</warehouseCode><orderType>JYCK</orderType>"
        f"<status>{e['status']}</status><outBizCode>{e['outBizCode']}</outBizCode>"
        f"<confirmType>{e['confirmType']}</confirmType>"
        f"<orderConfirmTime>{e['orderConfirmTime']}</orderConfirmTime>"
        "</deliveryOrder><packages><package>"
        f"<logisticsCode>{e['logisticsCode']}</logisticsCode>"
        f"<expressCode>{e['expressCode']}</expressCode>"
        f"<items><item><itemCode>{e['itemCode']}</itemCode>"
        f"<quantity>{e['quantity']}</quantity></item></items>"
        "</package></packages><orderLines><orderLine>"
        f"<orderLineNo>{e['orderLineNo']}</orderLineNo><itemCode>{e['itemCode']}</itemCode>"
        f"<actualQty>{e['actualQty']}</actualQty>"
        "</orderLine></orderLines></request>"
    )
    # A lone surrogate cannot be encoded honestly: it goes out as the invalid bytes a
    # broken sender would write.
    return xml.encode("gb18030" if encoding == "GBK" else "utf-8", "surrogatepass")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><request><x>&d;&d;&d;</x></request>'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<request><deliveryOrder><deliveryOrderCode>&x;</deliveryOrderCode></deliveryOrder>"
    b"</request>"
)


QIMEN_METHODS = [
    "deliveryorder.confirm",
    "deliveryorder.confirm",
    "returnorder.confirm",
    "stockchange.report",
    "inventory.report",
    "",
]


@st.composite
def qimen_bodies(draw: st.DrawFn, code: str) -> bytes:
    """A confirmation of `code` with one field changed, or a body broken as a whole."""
    shape = draw(st.sampled_from(["field", "field", "field", "deep", "bytes", "hostile"]))
    if shape == "deep":
        depth = draw(st.integers(min_value=50, max_value=6000))
        return b"<request>" + b"<a>" * depth + b"x" + b"</a>" * depth + b"</request>"
    if shape == "bytes":
        return draw(st.binary(max_size=200))
    if shape == "hostile":
        return draw(
            st.sampled_from(
                [
                    BILLION_LAUGHS,
                    EXTERNAL_ENTITY,
                    b"<request><deliveryOrder>",
                    '<?xml version="1.0" encoding="GBK"?><request>顺丰</request>'.encode(),
                    b'<?xml version="1.0" encoding="x-unknown"?><request/>',
                    b"<response><flag>success</flag></response>",
                ]
            )
        )
    values = {draw(st.sampled_from(QIMEN_FIELDS)): draw(texts)}
    return _confirm_xml(code, values, draw(st.sampled_from(["UTF-8", "GBK"])))


def _post_qimen(stack: Stack, method: str, body: bytes) -> httpx.Response:
    params = {
        "method": f"taobao.qimen.{method}" if method else "",
        "app_key": QIMEN_KEY,
        "customerId": "demo-owner",
        "timestamp": datetime.now(UTC).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
        "format": "xml",
        "v": "2.0",
        "sign_method": "md5",
    }
    params["sign"] = qimen_sign(params, body, QIMEN_SECRET)
    return httpx.post(
        f"{stack.api.url}/callbacks/WH1",
        params=params,
        content=body,
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )


@FUZZ
@given(method=st.sampled_from(QIMEN_METHODS), data=st.data())
def test_fuzzed_warehouse_callbacks_are_all_kept_and_none_stalls_the_hub(
    stack: Stack, method: str, data: st.DataObject
) -> None:
    [code] = stack.qimen.orders()
    body = data.draw(qimen_bodies(code))
    _check(stack, "WH1", body, lambda: _post_qimen(stack, method, body))


# --- drop-ship supplier callbacks (our published JSON API) ---------------------------

SUPPLIER_FIELDS = [
    ("event",),
    ("po_number",),
    ("shipment_id",),
    ("carrier",),
    ("tracking_no",),
    ("shipped_at",),
    ("final",),
    ("lines",),
    ("lines", "sku"),
    ("lines", "quantity"),
    ("lines", "line_no"),
]


@st.composite
def supplier_bodies(draw: st.DrawFn, po_number: str) -> bytes:
    """A `shipped` or `acknowledged` event for `po_number` with one field changed."""
    shape = draw(st.sampled_from(["field", "field", "field", "deep", "bytes", "long"]))
    if shape == "deep":
        depth = draw(st.integers(min_value=50, max_value=12_000))
        return b'{"event":' + b"[" * depth + b"]" * depth + b"}"
    if shape == "bytes":
        return draw(st.binary(max_size=200))
    event: dict[str, Any] = {
        "event": draw(st.sampled_from(["shipped", "shipped", "acknowledged"])),
        "po_number": po_number,
        "shipment_id": f"fuzz-{time.monotonic_ns()}",
        "carrier": "SF",
        "tracking_no": "SF1234567890",
        "shipped_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "final": True,
        "lines": [{"sku": "SKU-002", "quantity": 1, "line_no": "1"}],
    }
    path = draw(st.sampled_from(SUPPLIER_FIELDS))
    value = draw(st.text(min_size=300, max_size=5000)) if shape == "long" else draw(json_values)
    target = event["lines"][0] if len(path) == 2 else event
    target[path[-1]] = value
    text = json.dumps(event, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


def _post_supplier(stack: Stack, body: bytes) -> httpx.Response:
    headers = signed_headers(supplier_id=SUPPLIER_ID, secret=SUPPLIER_SECRET, body=body)
    headers["Content-Type"] = "application/json"
    return httpx.post(f"{stack.api.url}/callbacks/SUP1", content=body, headers=headers, timeout=10)


@FUZZ
@given(data=st.data())
def test_fuzzed_supplier_callbacks_are_all_kept_and_none_stalls_the_hub(
    stack: Stack, data: st.DataObject
) -> None:
    assert stack.supplier is not None
    [po_number] = stack.supplier.purchase_orders()
    body = data.draw(supplier_bodies(po_number))
    _check(stack, "SUP1", body, lambda: _post_supplier(stack, body))
