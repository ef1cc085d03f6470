"""The work queue in the console: a push the warehouse kept refusing is shown dead with
its error, and once the warehouse is back a person puts it back and the order arrives."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select

from browser import person, sign_in
from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.audit import list_entries
from orderhub.store import tables as t
from support import wait_until


def _dead_pushes(stack: Stack) -> list[int]:
    page = queries.job_list(stack.hub, status="dead", kind="node.push")
    return [job.id for job in page.items]


def _state(stack: Stack) -> str:
    """Every job and order, to say what the hub was doing when an order did not arrive."""
    jobs = queries.job_list(stack.hub, limit=100).items
    with stack.hub.db.engine.connect() as conn:
        orders = conn.execute(select(t.orders.c.id, t.orders.c.status)).all()
    return f"jobs {[(j.kind, j.status, j.attempts, j.idempotency_key) for j in jobs]}, " + (
        f"orders {[tuple(o) for o in orders]}"
    )


def test_a_dead_push_is_retried_from_the_jobs_page_and_reaches_the_warehouse(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    stack.qimen.faults.update({"error_rate": 1.0, "error_status": 503})
    stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: bool(_dead_pushes(stack)), what="the push to be dead-lettered")
    [job_id] = _dead_pushes(stack)
    assert stack.qimen.orders() == {}

    sign_in(page, stack, person(stack, "sun", "operator"))
    page.locator("[data-test='menu-/jobs']").click()
    jobs = page.locator("[data-test=jobs]")
    expect(jobs).to_contain_text("推送到仓库")
    expect(jobs).to_contain_text("已失败")
    expect(jobs).to_contain_text("503")
    shot("dead-job")

    stack.qimen.faults.update({"error_rate": 0.0})
    page.locator(f"[data-test=retry-{job_id}]").click()
    wait_until(
        lambda: len(stack.qimen.orders()) == 1,
        what=lambda: f"the order at the warehouse; {_state(stack)}",
    )
    expect(page.locator(f"[data-test=retry-{job_id}]")).to_have_count(0)
    [entry] = list_entries(stack.hub, action="POST /api/v1/jobs/{job_id}/retry")
    assert entry.actor == "sun"


def test_a_viewer_sees_the_queue_but_cannot_retry(
    make_stack: Callable[..., Stack], page: Page, shot: Callable[[str], None]
) -> None:
    stack = make_stack()
    stack.qimen.faults.update({"error_rate": 1.0, "error_status": 503})
    stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: bool(_dead_pushes(stack)), what="the push to be dead-lettered")

    sign_in(page, stack, person(stack, "qian", "viewer"))
    page.locator("[data-test='menu-/jobs']").click()
    expect(page.locator("[data-test=jobs]")).to_contain_text("推送到仓库")
    expect(page.locator("[data-test^=retry-]")).to_have_count(0)
    shot("viewer-jobs")
