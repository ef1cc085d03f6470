"""Booking into Kingdee K/3 Cloud over real HTTP: a sale, its shipment, its return, a
cancellation, an unknown material, a lapsed session, and a worker killed mid-booking.

What the ERP holds is read back through the emulator's own WebAPI (ExecuteBillQuery),
as an accountant's report would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx

from orderhub.connectors.k3cloud import client_from_settings
from orderhub.demo_stack import Stack
from orderhub.domain.errors import NotFound
from orderhub.services import queries
from orderhub.services.exceptions import replay_exception
from orderhub.services.sync import pull_orders
from support import TEST_KEYS, api_token, bearer, wait_until

KEY = "F_OH_OrderNo"


def erp_rows(stack: Stack, form: str, keys: str, where: str = "") -> list[list[Any]]:
    """Rows of the ERP's own query, through a client of our connector's kind."""
    assert stack.hub_config.erp is not None
    erp = stack.hub_config.erp
    client = client_from_settings({**erp.settings, **erp.secrets})
    try:
        return client.query({"FormId": form, "FieldKeys": keys, "FilterString": where})
    finally:
        client.transport.close()


def audited(stack: Stack, form: str) -> bool:
    """One document of the form, and it is audited (a document is saved, then submitted,
    then audited: three calls)."""
    return erp_rows(stack, form, "FDocumentStatus") == [["C"]]


def order_of(stack: Stack, placed: dict[str, Any]) -> Any:
    return queries.order_view(stack.hub, queries.find_order_id(stack.hub, str(placed["id"])))


def status_of(stack: Stack, placed: dict[str, Any]) -> str | None:
    try:
        return str(order_of(stack, placed).status)
    except NotFound:
        return None


def test_a_sale_its_shipment_and_its_return_are_booked_once_each(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(erp=True)
    stack.qimen.configure(return_delay=0.05)
    shop = stack.shops["SHOP1"]
    placed = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 2, "price": "19.90"}]})
    wait_until(lambda: status_of(stack, placed) == "completed", what="the order to complete")
    order = order_of(stack, placed)
    wait_until(
        lambda: audited(stack, "SAL_OUTSTOCK"),
        what="the shipment booked (saved, submitted, audited) in the ERP",
    )
    [sale] = erp_rows(
        stack,
        "SAL_SaleOrder",
        f"FBillNo,FDocumentStatus,FCustId.FNumber,FMaterialId.FNumber,FQty,FTaxPrice,{KEY}",
    )
    assert sale[1:] == ["C", "SHOP1", "SKU-001", 2, 19.9, order.id]
    tracking = order.fulfillments[0].tracking_no
    [outbound] = erp_rows(
        stack,
        "SAL_OUTSTOCK",
        "FDocumentStatus,FCustomerID.FNumber,FCarriageNO,FMaterialID.FNumber,FRealQty,FSoorDerno"
        ",FBillNo",
    )
    assert outbound[:6] == ["C", "SHOP1", tracking, "SKU-001", 2, sale[0]]
    outbound_no = outbound[6]

    shop.refund_order(placed["id"], lines=[("SKU-001", 1)], restock_type="return", note="too big")
    wait_until(
        lambda: audited(stack, "SAL_RETURNSTOCK"),
        what="the return booked (saved, submitted, audited) in the ERP",
    )
    [returned] = erp_rows(
        stack,
        "SAL_RETURNSTOCK",
        "FDocumentStatus,FRetcustId.FNumber,FMaterialId.FNumber,FRealQty,FSrcBillNo,FBillNo",
    )
    assert returned[:5] == ["C", "SHOP1", "SKU-001", 1, outbound_no]
    return_no = returned[5]
    # Nothing was booked twice; the order's page tells what was booked.
    assert len(erp_rows(stack, "SAL_SaleOrder", "FBillNo")) == 1
    assert len(erp_rows(stack, "SAL_OUTSTOCK", "FBillNo")) == 1
    books = httpx.get(
        f"{stack.api.url}/api/v1/orders/{order.id}/books",
        headers=bearer(api_token(stack.hub, "viewer")),
    ).json()
    assert [(b["kind"], b["bill_no"], b["status"]) for b in books] == [
        ("sale_order", sale[0], "booked"),
        ("outbound", outbound_no, "booked"),
        ("return", return_no, "booked"),
    ]
    trace = [t.message for t in order_of(stack, placed).trace if t.stage == "erp"]
    assert any(m.startswith(f"SAL_SaleOrder {sale[0]}: saved, submitted, audited") for m in trace)


def test_a_cancellation_books_nothing_before_booking_and_voids_after(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(erp=True, ship_delay=3600)
    shop = stack.shops["SHOP1"]
    assert stack.erp is not None
    stack.erp.held.add("Save")  # the sale cannot be booked yet
    early = shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})
    wait_until(lambda: stack.erp is not None and stack.erp.waiting["Save"] == 1, what="Save held")
    late = shop.place_order({"lines": [{"sku": "SKU-003", "quantity": 1}]})
    shop.refund_order(early["id"], restock_type="cancel", note="changed my mind")
    wait_until(lambda: status_of(stack, early) == "cancelled", what="the early order cancelled")
    stack.erp.held.clear()
    wait_until(
        lambda: len(erp_rows(stack, "SAL_SaleOrder", "FBillNo")) == 2,
        what="both sales reached the ERP",
    )
    late_id = order_of(stack, late).id
    early_id = order_of(stack, early).id
    wait_until(
        lambda: (
            erp_rows(stack, "SAL_SaleOrder", "FCancelStatus", f"{KEY} = '{early_id}'") == [["B"]]
        ),
        what="the early sale voided, as it was cancelled while being booked",
    )
    shop.refund_order(late["id"], restock_type="cancel", note="found it cheaper")
    wait_until(lambda: status_of(stack, late) == "cancelled", what="the late order cancelled")
    wait_until(
        lambda: (
            erp_rows(
                stack, "SAL_SaleOrder", "FDocumentStatus,FCancelStatus", f"{KEY} = '{late_id}'"
            )
            == [["D", "B"]]
        ),
        what=lambda: (
            f"the audited late sale un-audited and voided: "
            f"{erp_rows(stack, 'SAL_SaleOrder', f'FDocumentStatus,FCancelStatus,{KEY}')} "
            f"{[(t.stage, t.status, t.message) for t in order_of(stack, late).trace]}"
        ),
    )
    # A third order cancelled before the hub ever booked it leaves no document.
    stack.erp.held.add("Save")
    third = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: stack.erp is not None and stack.erp.waiting["Save"] == 1, what="held")
    stack.erp.held.clear()
    wait_until(lambda: len(erp_rows(stack, "SAL_SaleOrder", "FBillNo")) == 3, what="third booked")
    assert status_of(stack, third) == "pushed"


def test_an_unknown_material_is_an_exception_naming_the_sku_then_replayed(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(erp=True, ship_delay=3600, skus=4)
    assert stack.erp is not None
    with stack.erp.ledger.lock:
        material = stack.erp.ledger.base("BD_MATERIAL", "SKU-004")
        assert material is not None
        del stack.erp.ledger.of(material.form)[material.id]
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-004", "quantity": 1}]})
    wait_until(
        lambda: any(e.code == "job_failed" for e in queries.exception_list(stack.hub)),
        what="the refused booking to become an exception",
    )
    [problem] = [e for e in queries.exception_list(stack.hub) if e.code == "job_failed"]
    assert "SKU-004" in problem.message and "FMaterialId" in problem.message
    assert erp_rows(stack, "SAL_SaleOrder", "FBillNo") == []
    # The order itself goes on.
    wait_until(lambda: status_of(stack, placed) == "pushed", what="the order pushed")

    stack.erp.seed_base("BD_MATERIAL", "SKU-004", "Demo item SKU-004")
    replay_exception(stack.hub, problem.id, by="finance")
    wait_until(
        lambda: len(erp_rows(stack, "SAL_SaleOrder", "FBillNo")) == 1,
        what="the sale booked after the material was created",
    )


def test_a_lapsed_session_is_opened_again_once(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(erp=True, ship_delay=3600)
    assert stack.erp is not None
    shop = stack.shops["SHOP1"]
    shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: len(stack.erp.bills("SAL_SaleOrder")) == 1, what="the first sale booked")
    logins = stack.erp.calls["LoginByAppSecret"]
    assert stack.erp.sessions.expire_all() >= 1
    shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 1}]})
    # Saved, then submitted and audited: each is a call of its own, so wait for all three.
    wait_until(
        lambda: [b["DocumentStatus"] for b in stack.erp.bills("SAL_SaleOrder")] == ["C", "C"],
        what="the second sale booked and audited",
    )
    assert stack.erp.calls["LoginByAppSecret"] == logins + 1


WORKER = [sys.executable, "-c", "from orderhub.cli import main; main()", "worker"]


def _worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ORDERHUB_DATABASE_URL": database_url,
        "ORDERHUB_ENCRYPTION_KEYS": TEST_KEYS,
        "ORDERHUB_JOB_LEASE": "3",
        "ORDERHUB_BACKOFF_BASE": "0.05",
        "ORDERHUB_BACKOFF_CAP": "0.5",
        "ORDERHUB_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(WORKER, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_worker_killed_between_save_and_submit_leaves_exactly_one_document(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack(erp=True, ship_delay=3600, start_worker=False)
    assert stack.erp is not None
    erp_url = stack.hub_config.erp.settings["base_url"] if stack.hub_config.erp else ""
    httpx.post(erp_url.replace("/k3cloud/", "/_sandbox/hold"), json={"operation": "Submit"})
    stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    first = _worker(database_url)
    try:
        wait_until(
            lambda: stack.erp is not None and stack.erp.waiting["Submit"] == 1,
            timeout=60,
            what="the booking stopped between Save and Submit",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    [saved] = stack.erp.bills("SAL_SaleOrder")
    assert saved["DocumentStatus"] == "A"
    stack.erp.held.clear()
    second = _worker(database_url)
    try:
        wait_until(
            lambda: (
                [b["DocumentStatus"] for b in stack.erp.bills("SAL_SaleOrder")] == ["C"]
                if stack.erp
                else False
            ),
            timeout=60,
            what="the same document submitted and audited after the restart",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert [b["Number"] for b in stack.erp.bills("SAL_SaleOrder")] == [saved["Number"]]
    assert stack.erp.calls["Save"] == 1


def test_a_sales_order_keyed_in_the_erp_reaches_the_supplier_and_its_tracking_comes_back(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(erp=True, erp_shop=True, supplier=True)
    assert stack.erp is not None and stack.supplier is not None
    erp = stack.hub_config.erp
    assert erp is not None
    client = client_from_settings({**erp.settings, **erp.secrets})
    saved = client.operation(
        "Save",
        "SAL_SaleOrder",
        {
            "Model": {
                "FBillTypeID": {"FNumber": "XSDD01_SYS"},
                "FDate": "2026-12-04",
                "FSaleOrgId": {"FNumber": "100"},
                "FCustId": {"FNumber": "SHOP1"},
                "FReceiveAddress": "浙江省杭州市西湖区文三路 90 号",
                "FLinkMan": "王芳",
                "FLinkPhone": "13800138000",
                "FSaleOrderEntry": [
                    {"FMaterialId": {"FNumber": "SKU-002"}, "FQty": 3, "FTaxPrice": 25},
                ],
            }
        },
    )
    bill_no = str(saved["Number"])
    for step in ("Submit", "Audit"):
        client.operation(step, "SAL_SaleOrder", {"Numbers": [bill_no]})
    client.transport.close()

    pull_orders(stack.hub, "ERP1")
    wait_until(
        lambda: audited(stack, "SAL_OUTSTOCK"),
        what=lambda: (
            f"the supplier's tracking back in the ERP: {stack.supplier.stats()}"
            if stack.supplier
            else ""
        ),
    )
    order = queries.order_view(stack.hub, queries.find_order_id(stack.hub, bill_no))
    assert order.shop == "ERP1" and [f.node for f in order.fulfillments] == ["SUP1"]
    tracking = order.fulfillments[0].tracking_no
    [outbound] = erp_rows(
        stack,
        "SAL_OUTSTOCK",
        "FDocumentStatus,FCarriageNO,FSoorDerno,FMaterialID.FNumber,FRealQty",
    )
    assert outbound == ["C", tracking, bill_no, "SKU-002", 3]
    wait_until(
        lambda: len(erp_rows(stack, "PUR_PurchaseOrder", "FBillNo")) == 1,
        what="the purchase order in the ERP",
    )
    [purchase] = erp_rows(
        stack,
        "PUR_PurchaseOrder",
        "FDocumentStatus,FSupplierId.FNumber,FMaterialId.FNumber,FQty,FSrcBillNo",
    )
    assert purchase == ["C", "SUP1", "SKU-002", 3, bill_no]
    # The hub booked no second sales order for it, and pulling again changes nothing.
    assert len(erp_rows(stack, "SAL_SaleOrder", "FBillNo")) == 1
    pull_orders(stack.hub, "ERP1")
    assert len(queries.order_list(stack.hub, shop="ERP1")) == 1


def test_a_configuration_that_changes_only_the_erp_is_applied(
    make_stack: Callable[..., Stack],
) -> None:
    from orderhub.services.setup import apply_config

    stack = make_stack(erp=True, ship_delay=3600)
    assert stack.hub_config.erp is not None
    erp = stack.hub_config.erp
    changed = stack.hub_config.model_copy(
        update={"erp": erp.model_copy(update={"settings": {**erp.settings, "tax_rate": 9}})}
    )
    first = apply_config(stack.hub, changed)
    again = apply_config(stack.hub, changed)
    assert (first.erps, first.changed, again.changed) == (1, True, False)
    with stack.hub.reader() as uow:
        [stored] = uow.books.erps()
    assert stored.settings["tax_rate"] == 9
