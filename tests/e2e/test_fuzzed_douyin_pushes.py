"""Signed Douyin (抖店) pushes, fuzzed: none is lost, none stalls the hub.

A push that carries a valid `event-sign` came from Douyin, however odd its body. Each
generated body is a message array with one thing broken, sent over HTTP to a hub whose
Douyin shop is the emulator holding one real order, so a body naming that order makes
the hub fetch it for real. Every signed body must be stored, answered without a server
error, and then either processed or held as an open exception naming what is wrong,
never left pending and never retried as if the failure were passing, while `/healthz`
keeps answering. A body signed wrongly, or not at all, is refused and never stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from fuzzing import FUZZ, json_values, texts
from orderhub.demo_stack import Stack
from orderhub.sandbox.douyin import DouyinEmulator
from orderhub.sandbox.douyin.push import event_sign
from orderhub.services.ingest import JOB_INBOX
from orderhub.services.messages import JOB_FETCH
from orderhub.store import tables as t
from support import wait_until

STALLED = 10.0
KINDS = (JOB_INBOX, JOB_FETCH)


@dataclass
class Shop:
    """The hub with a Douyin shop, the real order there, and the push's key and secret."""

    stack: Stack
    emulator: DouyinEmulator
    order_id: str
    app_key: str
    app_secret: str


@pytest.fixture
def shop(make_stack: Callable[..., Stack]) -> Iterator[Shop]:
    stack = make_stack(shops=0, marketplaces=("douyin",), ship_delay=3600.0)
    emulator: DouyinEmulator = stack.marketplaces["DY1"]
    order_id = emulator.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: len(stack.qimen.orders()) == 1, what="the order at the warehouse")
    emulator.configure(push_url=None)  # from here on, only the fuzzed bodies arrive
    wait_until(lambda: _settled(stack), what="the real order's messages processed")
    [config] = [x for x in stack.hub_config.shops if x.code == "DY1"]
    yield Shop(
        stack,
        emulator,
        order_id,
        str(config.settings["app_key"]),
        str(config.secrets["app_secret"]),
    )


# --- what the hub holds --------------------------------------------------------------


def _scalar(stack: Stack, query: Any) -> int:
    with stack.hub.db.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _webhook_rows(stack: Stack) -> int:
    return _scalar(
        stack, select(func.count()).select_from(t.inbox).where(t.inbox.c.source == "webhook")
    )


def _kept_before(stack: Stack, sign: str) -> bool:
    """A message is named by its signature: the identical body again adds no row."""
    key = f"webhook:DY1:msg:{sign}"
    return (
        _scalar(stack, select(func.count()).select_from(t.inbox).where(t.inbox.c.dedup_key == key))
        > 0
    )


def _all_rows_and_jobs(stack: Stack) -> tuple[int, int]:
    rows = _scalar(stack, select(func.count()).select_from(t.inbox))
    jobs = _scalar(
        stack,
        select(func.count()).select_from(t.outbox_jobs).where(t.outbox_jobs.c.kind.in_(KINDS)),
    )
    return rows, jobs


def _settled(stack: Stack) -> bool:
    """No row pending, and no job of a message waiting for its first run or running."""
    pending = _scalar(
        stack, select(func.count()).select_from(t.inbox).where(t.inbox.c.status == "pending")
    )
    waiting = _scalar(
        stack,
        select(func.count())
        .select_from(t.outbox_jobs)
        .where(t.outbox_jobs.c.kind.in_(KINDS))
        .where(
            ((t.outbox_jobs.c.status == "pending") & (t.outbox_jobs.c.attempts == 0))
            | (t.outbox_jobs.c.status == "running")
        ),
    )
    return pending == 0 and waiting == 0


def _retried(stack: Stack) -> list[Any]:
    """Jobs tried more than once or waiting for another try: none should be."""
    with stack.hub.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(t.outbox_jobs.c.kind, t.outbox_jobs.c.attempts, t.outbox_jobs.c.last_error)
                .where(t.outbox_jobs.c.kind.in_(KINDS))
                .where(
                    (t.outbox_jobs.c.attempts > 1)
                    | ((t.outbox_jobs.c.status == "pending") & (t.outbox_jobs.c.attempts > 0))
                )
            )
        )


def _dead_unseen(stack: Stack) -> list[Any]:
    """Dead jobs of messages with no open exception a person sees, or whose stored
    message was left other than failed."""
    with stack.hub.db.engine.connect() as conn:
        dead = list(
            conn.execute(
                select(t.outbox_jobs.c.id, t.outbox_jobs.c.kind, t.outbox_jobs.c.payload)
                .where(t.outbox_jobs.c.kind.in_(KINDS))
                .where(t.outbox_jobs.c.status == "dead")
            )
        )
        unseen = []
        for job in dead:
            shown = conn.execute(
                select(func.count())
                .select_from(t.exceptions)
                .where(t.exceptions.c.job_id == job.id, t.exceptions.c.status == "open")
            ).scalar_one()
            if not shown:
                unseen.append(job)
            if job.kind == JOB_INBOX:
                inbox_id = json.loads(job.payload)["inbox_id"]
                status = conn.execute(
                    select(t.inbox.c.status).where(t.inbox.c.id == inbox_id)
                ).scalar_one()
                if status != "failed":
                    unseen.append((job, status))
        return unseen


def _failed_rows(stack: Stack) -> dict[str, str]:
    with stack.hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(t.inbox.c.id, t.inbox.c.error).where(
                t.inbox.c.source == "webhook", t.inbox.c.status == "failed"
            )
        )
        return {row.id: row.error or "" for row in rows}


def _exceptions_of(stack: Stack, inbox_id: str) -> list[Any]:
    with stack.hub.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(t.exceptions.c.field, t.exceptions.c.message).where(
                    t.exceptions.c.inbox_id == inbox_id, t.exceptions.c.status == "open"
                )
            )
        )


# --- what is sent --------------------------------------------------------------------


@dataclass(frozen=True)
class Push:
    """One body, how it is signed, and the field it damages ("" when the body as a whole
    is broken)."""

    body: bytes
    signing: str = "right"
    field: str = ""


def _message(order_id: str, **data_changes: Any) -> dict[str, Any]:
    data = {
        "biz": 2,
        "order_status": 2,
        "order_type": 0,
        "p_id": int(order_id),
        "s_ids": [int(order_id) + 1],
        "shop_id": 1,
        "update_time": int(time.time()),
        **data_changes,
    }
    return {"tag": "101", "msg_id": f"fuzz-{time.monotonic_ns()}", "data": json.dumps(data)}


def _encoded(value: Any, ascii_only: bool) -> bytes:
    # A lone surrogate goes out as the invalid bytes a broken sender would write.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


OUTER_FIELDS = ["tag", "msg_id", "data"]
DATA_FIELDS = ["p_id", "s_ids", "shop_id", "update_time", "order_status", "biz"]
RAW_NUMBERS = ["1e300000", "-1e300000", "Infinity", "-Infinity", "NaN", "9" * 500, "-0", "1E400"]


def absurd_ids(order_id: str) -> st.SearchStrategy[Any]:
    """Order ids no shop has, and the real one written every which way."""
    return st.one_of(
        st.sampled_from(
            [
                -1,
                0,
                -int(order_id),
                int(order_id) + 7,
                2**63,
                "9" * 500,
                "-" + "9" * 19,
                "abc",
                " ",
                "0x1F",
                "1e5",
                "６９１８",
                "\x00",
                order_id + "\x00",
                "\ud800",
                order_id,
                int(order_id),
                f" {order_id} ",
                [int(order_id)],
                {"id": order_id},
                True,
                float(int(order_id)),
            ]
        ),
        st.text(min_size=3000, max_size=3000, alphabet="0123456789"),
        texts,
        json_values,
    )


@st.composite
def douyin_pushes(draw: st.DrawFn, order_id: str) -> Push:
    """A message array for the real order with one thing broken."""
    shape = draw(
        st.sampled_from(
            ["outer", "data", "order_id", "order_id", "data_shape", "raw", "deep", "top", "bytes"]
        )
    )
    ascii_only = draw(st.booleans())
    signing = draw(st.sampled_from(["right"] * 24 + ["none", "zeros", "other_body", "swapped"]))
    messages = [_message(order_id)]
    if draw(st.integers(0, 4)) == 0:
        messages.append(_message(order_id))  # the broken one need not come first
    target = messages[0]
    if shape == "outer":
        name = draw(st.sampled_from(OUTER_FIELDS))
        target[name] = draw(st.one_of(json_values, texts))
        return Push(_encoded(messages, ascii_only), signing, name)
    if shape in ("data", "order_id"):
        name = "p_id" if shape == "order_id" else draw(st.sampled_from(DATA_FIELDS))
        value = draw(absurd_ids(order_id) if name == "p_id" else st.one_of(json_values, texts))
        data = json.loads(target["data"])
        if draw(st.booleans()):
            data[name] = value
        else:
            del data[name]
        target["data"] = json.dumps(data, ensure_ascii=draw(st.booleans()))
        if any(0xD800 <= ord(c) <= 0xDFFF for c in target["data"]):
            # Written unescaped, the surrogate breaks the text of `data` itself: that is
            # the field a reader can name before the inner document is read at all.
            name = "data"
        return Push(_encoded(messages, ascii_only), signing, name)
    if shape == "data_shape":
        # `data` JSON of the wrong shape, or text that is no JSON at all.
        inner = draw(st.one_of(json_values, st.lists(json_values, max_size=3)))
        target["data"] = draw(st.sampled_from([json.dumps(inner), str(inner)]))
        return Push(_encoded(messages, ascii_only), signing, "data")
    if shape == "raw":
        token = draw(st.sampled_from(RAW_NUMBERS))
        name = draw(st.sampled_from(["p_id", "update_time", "data"]))
        if name == "data":
            body = _encoded(messages, ascii_only).replace(
                json.dumps(target["data"], ensure_ascii=ascii_only).encode(), token.encode(), 1
            )
        else:
            data = json.loads(target["data"])
            data[name] = "@@"
            target["data"] = json.dumps(data).replace('"@@"', token)
            body = _encoded(messages, ascii_only)
        return Push(body, signing, name)
    if shape == "deep":
        depth = draw(st.integers(min_value=50, max_value=6000))
        nested = "[" * depth + "]" * depth
        if draw(st.booleans()):
            target["data"] = json.dumps({"p_id": int(order_id), "x": "@@"}).replace('"@@"', nested)
            return Push(_encoded(messages, ascii_only), signing, "data")
        # Nested past what the parser walks, the body as a whole is what is wrong.
        return Push(b'[{"tag": "101", "data": ' + nested.encode() + b"}]", signing)
    if shape == "top":
        top = draw(
            st.one_of(
                st.just(messages[0]),
                st.just(messages[0]["data"]),
                json_values.filter(lambda v: not isinstance(v, list)),
            )
        )
        return Push(_encoded(top, ascii_only), signing)
    return Push(draw(st.binary(max_size=300)), signing)


def _headers(shop: Shop, push: Push) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if push.signing == "right":
        headers["event-sign"] = event_sign(shop.app_key, push.body, shop.app_secret)
    elif push.signing == "zeros":
        headers["event-sign"] = "0" * 32
    elif push.signing == "other_body":
        headers["event-sign"] = event_sign(shop.app_key, push.body + b" ", shop.app_secret)
    elif push.signing == "swapped":
        headers["event-sign"] = event_sign(shop.app_secret, push.body, shop.app_key)
    return headers


def _check(shop: Shop, push: Push) -> None:
    """Send one body and assert it was kept (or refused unsigned), answered, and settled
    visibly."""
    stack = shop.stack
    headers = _headers(shop, push)
    signed = push.signing == "right"
    repeat = signed and _kept_before(stack, headers["event-sign"])
    rows_before = _webhook_rows(stack)
    everything_before = _all_rows_and_jobs(stack)
    failed_before = _failed_rows(stack)
    answer = httpx.post(
        f"{stack.api.url}/webhooks/DY1", content=push.body, headers=headers, timeout=10
    )
    assert answer.status_code < 500, answer.text
    # The hub still answers: a body that stalled it would time this out.
    assert httpx.get(f"{stack.api.url}/healthz", timeout=STALLED).status_code == 200
    if not signed:
        assert answer.status_code in (401, 403), answer.text
        assert _all_rows_and_jobs(stack) == everything_before  # neither kept nor processed
        return
    assert answer.status_code in (200, 400), answer.text
    assert _webhook_rows(stack) == rows_before + (0 if repeat else 1)
    wait_until(lambda: _settled(stack), what="the message processed or held", timeout=30)
    assert _retried(stack) == []
    assert _dead_unseen(stack) == []
    for inbox_id in _failed_rows(stack).keys() - failed_before.keys():
        # A message the hub could not use is an exception a person sees, naming the field.
        problems = _exceptions_of(stack, inbox_id)
        assert problems, f"failed message {inbox_id} shows no exception"
        if push.field:
            said = " ".join(f"{p.field} {p.message}" for p in problems)
            assert push.field in said, said


@FUZZ
@given(data=st.data())
def test_fuzzed_douyin_pushes_are_all_kept_and_none_stalls_the_hub(
    shop: Shop, data: st.DataObject
) -> None:
    push = data.draw(douyin_pushes(shop.order_id))
    _check(shop, push)
