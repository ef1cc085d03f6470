"""The 快递100 emulator over real HTTP: subscriptions refused in 快递100's codes, a
duplicate one answered 501, the real-time query signed with key and customer, and a
callback signed MD5(param + salt) sent again until it is acknowledged exactly."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.kuaidi100 import Kuaidi100Emulator
from orderhub.sandbox.server import RunningServer, serve_in_thread
from support import wait_until

from .test_ready_lines import emulator as ready_emulator


class Receiver:
    """The subscriber's end: answers `acks` in turn (the last one from then on)."""

    def __init__(self, acks: list[Any]) -> None:
        self.acks, self.got = acks, []
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/kd", self.take, methods=["POST"])])

    async def take(self, request: Request) -> Response:
        form = await request.form()
        with self._lock:
            self.got.append({"param": str(form["param"]), "sign": str(form["sign"])})
            answer = self.acks[min(len(self.got), len(self.acks)) - 1]
        return JSONResponse(answer)


@pytest.fixture
def account() -> Iterator[tuple[Kuaidi100Emulator, RunningServer]]:
    emulator = Kuaidi100Emulator("k-1", "CUST-1", retry_interval=0.05)
    server = serve_in_thread(emulator.app)
    yield emulator, server
    emulator.stop()
    server.stop()


def subscribe(server: RunningServer, key: str = "k-1", **param: Any) -> dict[str, Any]:
    body = {"company": "shunfeng", "number": "SF100", "key": key, **param}
    reply = httpx.post(f"{server.url}/poll", data={"schema": "json", "param": json.dumps(body)})
    assert reply.status_code == 200
    answer: dict[str, Any] = reply.json()
    return answer


def test_subscriptions_are_refused_in_kuaidi100s_codes(
    account: tuple[Kuaidi100Emulator, RunningServer],
) -> None:
    _, server = account
    options = {"parameters": {"callbackurl": "http://127.0.0.1:9/kd", "salt": "s"}}
    assert subscribe(server, key="wrong", **options)["returnCode"] == "600"
    assert subscribe(server, company="nosuchcarrier", **options)["returnCode"] == "700"
    assert subscribe(server)["returnCode"] == "400"  # no callback address
    first = subscribe(server, **options)
    again = subscribe(server, **options)
    assert first == {"result": True, "returnCode": "200", "message": "提交成功"}
    assert again["returnCode"] == "501" and again["result"] is False


def test_a_callback_is_signed_and_sent_again_until_acknowledged_exactly(
    account: tuple[Kuaidi100Emulator, RunningServer],
) -> None:
    emulator, server = account
    ack = {"result": True, "returnCode": "200", "message": "成功"}
    receiver = Receiver([{"result": True, "returnCode": "200", "message": "ok"}, ack])
    hub = serve_in_thread(receiver.app)
    try:
        options = {"callbackurl": f"{hub.url}/kd?orderId=7", "salt": "pepper"}
        assert subscribe(server, parameters=options)["result"] is True
        emulator.scan("SF100", "1", "已揽收", area="杭州市")
        wait_until(lambda: len(emulator.callbacks()) == 2, what="a second try")
        first, second = receiver.got
        assert first == second
        assert (
            first["sign"] == hashlib.md5((first["param"] + "pepper").encode()).hexdigest().upper()
        )
        pushed = json.loads(first["param"])
        assert pushed["status"] == "polling"
        assert pushed["lastResult"]["state"] == "1" and pushed["lastResult"]["nu"] == "SF100"
        assert pushed["lastResult"]["data"][0]["context"] == "已揽收"
        assert [a["acknowledged"] for a in emulator.callbacks()] == [False, True]
    finally:
        hub.stop()


def test_the_real_time_query_is_signed_with_key_and_customer(
    account: tuple[Kuaidi100Emulator, RunningServer],
) -> None:
    emulator, server = account
    subscribe(server, parameters={"callbackurl": "http://127.0.0.1:9/kd", "salt": "s"})
    emulator.scan("SF100", "5", "派件中")
    param = json.dumps({"com": "shunfeng", "num": "SF100"})
    good = hashlib.md5((param + "k-1" + "CUST-1").encode()).hexdigest().upper()
    answer = httpx.post(
        f"{server.url}/poll/query.do", data={"customer": "CUST-1", "param": param, "sign": good}
    ).json()
    forged = httpx.post(
        f"{server.url}/poll/query.do", data={"customer": "CUST-1", "param": param, "sign": "0"}
    ).json()
    assert answer["state"] == "5" and answer["data"][0]["status"] == "派件"
    assert forged["result"] is False


def test_the_ready_line_names_the_key_and_customer() -> None:
    with ready_emulator("kuaidi100") as ready:
        creds = ready["credentials"]
        body = {"company": "ems", "number": "E1", "key": creds["key"]}
        body["parameters"] = {"callbackurl": "http://127.0.0.1:9/", "salt": "x"}
        reply = httpx.post(
            f"{ready['url']}/poll", data={"schema": "json", "param": json.dumps(body)}
        )
    assert ready["platform"] == "kuaidi100" and creds["customer"]
    assert reply.json()["result"] is True
