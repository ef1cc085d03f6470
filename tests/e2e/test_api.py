"""The hub's HTTP API over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from orderhub.connectors.registry import CHANNEL_PLATFORMS
from orderhub.demo_stack import Stack
from support import CHINESE_RECEIVER, api_token, bearer, wait_until

Json = dict[str, Any]


def place_chinese_order(stack: Stack, **spec: Any) -> Json:
    return stack.shops["SHOP1"].place_order(
        {
            "lines": [{"sku": "SKU-001", "quantity": 2}],
            "customer": {"name": "张三", "phone": "13812348000"},
            "shipping_address": CHINESE_RECEIVER,
            **spec,
        }
    )


def wait_for_status(stack: Stack, placed: Json, status: str) -> str:
    """Wait until the shop's order has `status` in the hub; its hub id."""

    def order() -> Any:
        with stack.hub.uow() as uow:
            return uow.orders.by_channel_ref("SHOP1", str(placed["id"]))

    wait_until(
        lambda: (o := order()) is not None and o.status == status,
        what=f"the order to be {status}",
    )
    return str(order().id)


def samples(metrics_text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric, keyed by their sorted labels."""
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(metrics_text)
        for s in family.samples
        if s.name == name
    }


def test_an_order_is_listed_shown_masked_with_its_trace_and_counted_in_metrics(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    before = httpx.get(f"{stack.api.url}/metrics").text
    placed = place_chinese_order(stack)
    order_id = wait_for_status(stack, placed, "completed")
    wait_until(stack.settled, what="the hub to settle")

    with httpx.Client(base_url=stack.api.url, headers=bearer(api_token(stack.hub))) as api:
        listed = api.get("/api/v1/orders")
        shown = api.get(f"/api/v1/orders/{order_id}")
        reveal = api.get(
            f"/api/v1/orders/{order_id}",
            params={"reveal": "true"},
            headers=bearer(api_token(stack.hub, "viewer")),
        )
        metrics = api.get("/metrics")

    assert listed.status_code == 200
    [row] = listed.json()
    assert (row["id"], row["channel_order_id"], row["status"]) == (
        order_id,
        str(placed["id"]),
        "completed",
    )
    assert shown.status_code == 200
    order = shown.json()
    assert order["channel_order_id"] == str(placed["id"]) and order["status"] == "completed"
    assert Decimal(order["totals"]["grand_total"]) == Decimal(placed["total_price"])
    assert [(x["sku"], x["quantity"], x["node"]) for x in order["lines"]] == [("SKU-001", 2, "WH1")]
    assert (order["receiver"]["name"], order["receiver"]["phone"]) == ("张*", "138****8000")
    assert order["receiver"]["address1"].endswith("****")
    assert "13812348000" not in shown.text and "张三" not in shown.text
    trace = {t["stage"]: t for t in order["trace"] if t["status"] == "ok"}
    assert {"receive", "allocate", "reserve", "push", "confirm"} <= set(trace)
    assert trace["push"]["latency_ms"] > 0 and trace["confirm"]["latency_ms"] > 0
    # A viewer may never see personal data in clear.
    assert reveal.status_code == 403
    assert "may not see personal data" in reveal.json()["detail"]
    assert metrics.status_code == 200
    completed = (("stage", "completed"),)
    assert samples(metrics.text, "orderhub_orders_total")[completed] == 1 + samples(
        before, "orderhub_orders_total"
    ).get(completed, 0)
    # The queue is empty once the order completed; the jobs it took are counted as done.
    depth = samples(metrics.text, "orderhub_queue_depth")
    assert not [labels for labels, v in depth.items() if v and ("status", "pending") in labels]
    assert not [labels for labels in depth if ("status", "done") in labels]

    def done(text: str) -> float:
        ran = samples(text, "orderhub_jobs_total")
        return sum(v for labels, v in ran.items() if ("outcome", "done") in labels)

    assert done(metrics.text) >= done(before) + 2
    # What each kind of thread has spent, the worker's lanes among them.
    cpu = samples(metrics.text, "orderhub_thread_cpu_seconds_total")
    assert {"worker-batch", "worker-push", "worker-stock"} <= {dict(k)["thread"] for k in cpu}


def test_only_roles_that_may_reveal_see_personal_data_and_each_reveal_is_audited(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    order_id = wait_for_status(stack, place_chinese_order(stack), "completed")
    path = f"/api/v1/orders/{order_id}?reveal=true"
    viewer, operator = api_token(stack.hub, "viewer"), api_token(stack.hub, "operator")

    with httpx.Client(base_url=stack.api.url) as api:
        anonymous = api.get(path)
        wrong = api.get(path, headers=bearer("oh_guess"))
        masked = api.get(path, headers=bearer(viewer))
        clear = api.get(path, headers=bearer(operator))
        audit = api.get("/api/v1/audit", params={"action": "pii."}, headers=bearer(operator))
        owner_audit = api.get(
            "/api/v1/audit", params={"action": "pii."}, headers=bearer(api_token(stack.hub))
        )

    assert (anonymous.status_code, wrong.status_code, masked.status_code) == (401, 401, 403)
    assert "13812348000" not in masked.text
    assert clear.status_code == 200
    receiver = clear.json()["receiver"]
    assert (receiver["name"], receiver["phone"]) == ("张三", "13812348000")
    assert receiver["address1"] == "西湖区文三路100号"
    assert audit.status_code == 403  # operators act; reading the audit log is for admins
    [reveal] = owner_audit.json()
    assert reveal["target"] == f"order:{order_id}" and reveal["actor"].startswith("operator-")


def test_without_any_setting_the_api_is_closed_but_health_and_webhooks_are_open(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    # The order completes: the shop's webhooks and the warehouse's callbacks need no token.
    order_id = wait_for_status(stack, place_chinese_order(stack), "completed")

    with httpx.Client(base_url=stack.api.url) as api:
        anonymous = api.get("/api/v1/orders")
        wrong = api.get("/api/v1/orders", headers=bearer("nope"))
        user = api.get("/api/v1/orders", headers=bearer(api_token(stack.hub, "viewer")))
        health = api.get("/healthz")

    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert anonymous.json()["detail"] == "sign in or send a personal API token"
    assert user.status_code == 200 and [r["id"] for r in user.json()] == [order_id]
    assert health.status_code == 200


def test_the_deprecated_shared_tokens_still_act_as_an_owner_for_one_release(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(settings={"api_token": "t0ken", "admin_token": "s3cret"})
    order_id = wait_for_status(stack, place_chinese_order(stack), "completed")
    with httpx.Client(base_url=stack.api.url) as api:
        shared = api.get(f"/api/v1/orders/{order_id}?reveal=true", headers=bearer("t0ken"))
        me = api.get("/api/v1/me", headers=bearer("s3cret"))
    assert shared.status_code == 200 and shared.json()["receiver"]["phone"] == "13812348000"
    assert me.json()["role"] == "owner" and me.json()["via"] == "setting:admin_token"


def test_an_unknown_sku_is_listed_as_an_exception_a_person_can_act_on(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    placed = stack.shops["SHOP1"].place_order(
        {"lines": [{"sku": "NOT-OURS", "quantity": 1, "title": "Mystery"}]}
    )
    order_id = wait_for_status(stack, placed, "held")

    with httpx.Client(base_url=stack.api.url, headers=bearer(api_token(stack.hub))) as api:
        exceptions = api.get("/api/v1/exceptions")
        order = api.get(f"/api/v1/orders/{order_id}")

    assert exceptions.status_code == 200
    assert exceptions.json()["total"] == 1
    [exception] = exceptions.json()["items"]
    assert (exception["code"], exception["order_id"], exception["status"]) == (
        "unknown_sku",
        order_id,
        "open",
    )
    assert "NOT-OURS" in exception["message"]
    assert [e["code"] for e in order.json()["exceptions"]] == ["unknown_sku"]


def test_health_and_docs_are_served_and_mistakes_are_answered_in_plain_words(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(start_worker=False)
    shop = {"code": "SHOP9", "platform": "tiktok", "nodes": ["WH1"]}

    with httpx.Client(base_url=stack.api.url, headers=bearer(api_token(stack.hub))) as api:
        health = api.get("/healthz")
        ready = api.get("/readyz")
        docs = api.get("/docs")
        openapi = api.get("/openapi.json")
        refused = api.put("/api/v1/shops/SHOP9", json=shop)
        mismatched = api.put("/api/v1/shops/SHOP8", json=shop)
        missing = api.get("/api/v1/orders/does-not-exist")
        script = api.get("/docs-assets/swagger-ui-bundle.js")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # Everything the page loads comes from the hub itself: no CDN, which China often blocks.
    assert "http://" not in docs.text and "https://" not in docs.text
    assert script.status_code == 200 and len(script.content) > 100_000
    assert openapi.status_code == 200
    assert {"/api/v1/orders", "/api/v1/orders/{order_id}", "/webhooks/{shop}"} <= set(
        openapi.json()["paths"]
    )

    assert refused.status_code == 400
    known = ", ".join(sorted(CHANNEL_PLATFORMS))
    assert (
        refused.json()["message"]
        == f"shop SHOP9: unknown platform 'tiktok'; orderhub knows {known}"
    )
    with stack.hub.uow() as uow:
        assert [s.code for s in uow.catalog.shops()] == ["SHOP1"]
    assert mismatched.status_code == 400
    assert mismatched.json()["detail"] == "the code in the path and the body differ"
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/json")
    assert missing.json() == {"error": "NotFound", "message": "no order 'does-not-exist'"}
