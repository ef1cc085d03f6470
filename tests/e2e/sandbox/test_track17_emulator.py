"""The 17TRACK emulator over real HTTP: its key checked, numbers registered once, the
tracking information built from scans, pushes signed and tried again until taken."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.track17 import Track17Emulator

KEY = "test-17track-key"


@dataclass
class Receiver:
    """The hub's webhook endpoint, standing in: answers 500 to the first `failures`."""

    url: str = ""
    failures: int = 0
    seen: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            status = 500 if self.failures > 0 else 200
            self.failures -= 1
            self.seen.append((dict(request.headers), body, status))
        return JSONResponse({}, status_code=status)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hub = Receiver()
    server = serve_in_thread(Starlette(routes=[Route("/17track", hub.receive, methods=["POST"])]))
    hub.url = f"{server.url}/17track"
    yield hub
    server.stop()


@pytest.fixture
def account(receiver: Receiver) -> Iterator[tuple[Track17Emulator, RunningServer]]:
    emulator = Track17Emulator(KEY, webhook_url=receiver.url, retry_delays=(0.05, 0.05))
    server = serve_in_thread(emulator.app)
    yield emulator, server
    server.stop()
    emulator.close()


def call(server: RunningServer, name: str, items: list[dict[str, Any]], key: str = KEY) -> Any:
    reply = httpx.post(f"{server.url}/track/v2.2/{name}", json=items, headers={"17token": key})
    return reply.status_code, reply.json()


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_wrong_key_is_refused_in_17tracks_words_and_nothing_is_registered(
    account: tuple[Track17Emulator, RunningServer],
) -> None:
    emulator, server = account
    status, body = call(server, "register", [{"number": "SF1234567890123"}], key="wrong")
    assert status == 401
    assert body == {
        "code": -18010002,
        "data": {"errors": [{"code": -18010002, "message": "Invalid security key."}]},
    }
    assert emulator.parcels() == {}
    status, quota = call(server, "getquota", [], key="")
    assert status == 401 and quota["code"] == -18010002


def test_a_number_registered_twice_is_taken_once_and_the_second_is_rejected(
    account: tuple[Track17Emulator, RunningServer],
) -> None:
    emulator, server = account
    item = {"number": "SF1234567890123", "carrier": 100012, "tag": "SF", "param": "5678"}
    _, first = call(server, "register", [item])
    _, again = call(server, "register", [item, {"number": "x"}, {"number": "NOPATTERN1"}])
    assert first == {
        "code": 0,
        "data": {
            "accepted": [
                {"origin": 2, "number": "SF1234567890123", "carrier": 100012, "tag": "SF"}
            ],
            "rejected": [],
        },
    }
    assert again["data"]["accepted"] == []
    codes = [(r["number"], r["error"]["code"]) for r in again["data"]["rejected"]]
    assert codes == [("SF1234567890123", -18019901), ("x", -18010012), ("NOPATTERN1", -18019903)]
    assert "already registered" in again["data"]["rejected"][0]["error"]["message"]
    _, quota = call(server, "getquota", [])
    assert quota["data"]["quota_used"] == 1 and quota["data"]["quota_remain"] == 99
    assert emulator.parcels()["SF1234567890123"]["param"] == "5678"


def test_tracking_information_of_a_scanned_parcel_lists_its_events_newest_first(
    account: tuple[Track17Emulator, RunningServer],
) -> None:
    _, server = account
    call(server, "register", [{"number": "YT1234567890123"}])
    _, unknown = call(server, "gettrackinfo", [{"number": "YT9999999999999"}])
    assert unknown["data"]["rejected"][0]["error"]["code"] == -18019902
    _, empty = call(server, "gettrackinfo", [{"number": "YT1234567890123"}])
    assert empty["data"]["accepted"][0]["track_info"]["latest_status"]["status"] == "NotFound"

    control = f"{server.url}/_sandbox/parcels/YT1234567890123/scan"
    first = {"status": "InTransit", "sub_status": "InTransit_PickedUp", "location": "杭州"}
    first |= {"description": "已揽收", "time": "2026-12-04T09:00:00+08:00"}
    assert httpx.post(control, json=first).status_code == 201
    second = {
        "status": "OutForDelivery",
        "description": "派送中",
        "time": "2026-12-05T08:30:00+08:00",
    }
    assert httpx.post(control, json=second).status_code == 201
    assert httpx.post(control, json={"status": "Lost"}).status_code == 400

    _, answer = call(server, "gettrackinfo", [{"number": "YT1234567890123"}])
    [item] = answer["data"]["accepted"]
    info = item["track_info"]
    assert item["carrier"] == 190157
    assert info["latest_status"] == {
        "status": "OutForDelivery",
        "sub_status": "OutForDelivery_Other",
        "sub_status_descr": None,
    }
    events = info["tracking"]["providers"][0]["events"]
    assert [(e["description"], e["time_utc"]) for e in events] == [
        ("派送中", "2026-12-05T00:30:00Z"),
        ("已揽收", "2026-12-04T01:00:00Z"),
    ]
    assert events[1]["stage"] == "PickedUp" and events[1]["sub_status"] == "InTransit_PickedUp"
    assert info["latest_event"] == events[0]
    reached = {m["key_stage"]: m["time_iso"] for m in info["milestone"]}
    assert reached["PickedUp"] == "2026-12-04T09:00:00+08:00" and reached["Delivered"] is None


def test_every_scan_is_pushed_signed_with_the_key(
    account: tuple[Track17Emulator, RunningServer], receiver: Receiver
) -> None:
    emulator, server = account
    call(server, "register", [{"number": "SF1234567890123"}])
    emulator.scan("SF1234567890123", status="InfoReceived", description="已下单")
    emulator.scan("SF1234567890123", status="Delivered", description="已签收")
    wait_for(lambda: len(receiver.seen) == 2)
    for headers, body, _ in receiver.seen:
        assert headers["sign"] == hashlib.sha256(body + b"/" + KEY.encode()).hexdigest()
        assert headers["content-type"] == "application/json"
    pushes = [json.loads(body) for _, body, _ in receiver.seen]
    assert [p["event"] for p in pushes] == ["TRACKING_UPDATED", "TRACKING_UPDATED"]
    assert pushes[1]["data"]["number"] == "SF1234567890123"
    assert pushes[1]["data"]["track_info"]["latest_status"]["status"] == "Delivered"

    emulator.scan("SF1234567890123", status="InTransit")  # delivered: no longer followed
    time.sleep(0.1)
    assert len(receiver.seen) == 2
    assert emulator.parcels()["SF1234567890123"]["tracking_status"] == "Stopped"


def test_a_push_answered_500_is_sent_again_with_the_same_body_until_taken(
    account: tuple[Track17Emulator, RunningServer], receiver: Receiver
) -> None:
    emulator, server = account
    receiver.failures = 2
    call(server, "register", [{"number": "SF1234567890123"}])
    emulator.scan("SF1234567890123", status="InTransit")
    wait_for(lambda: len(receiver.seen) == 3)
    assert [status for _, _, status in receiver.seen] == [500, 500, 200]
    assert len({body for _, body, _ in receiver.seen}) == 1
    [push] = httpx.get(f"{server.url}/_sandbox/pushes").json()
    assert push["state"] == "delivered"
    assert [a["status"] for a in push["attempts"]] == [500, 500, 200]


def test_a_push_never_taken_is_dropped_after_the_last_retry(
    account: tuple[Track17Emulator, RunningServer], receiver: Receiver
) -> None:
    emulator, server = account
    receiver.failures = 99
    call(server, "register", [{"number": "SF1234567890123"}])
    emulator.scan("SF1234567890123", status="InTransit")
    wait_for(lambda: emulator.pushes()[0]["state"] == "dropped")
    assert len(receiver.seen) == 3  # the first try and the two retries


def test_stop_and_retrack_follow_17tracks_rules(
    account: tuple[Track17Emulator, RunningServer], receiver: Receiver
) -> None:
    emulator, server = account
    number = [{"number": "SF1234567890123"}]
    call(server, "register", number)
    _, stopped = call(server, "stoptrack", number)
    _, twice = call(server, "stoptrack", number)
    assert stopped["data"]["accepted"] == [{"number": "SF1234567890123", "carrier": 100012}]
    assert twice["data"]["rejected"][0]["error"]["code"] == -18019906
    emulator.scan("SF1234567890123", status="InTransit")
    time.sleep(0.1)
    assert receiver.seen == []  # a stopped number is not pushed
    _, back = call(server, "retrack", number)
    call(server, "stoptrack", number)
    _, again = call(server, "retrack", number)
    assert back["data"]["accepted"][0]["number"] == "SF1234567890123"
    assert again["data"]["rejected"][0]["error"]["code"] == -18019905


def test_faults_answer_in_17tracks_words_and_the_control_routes_are_spared(
    account: tuple[Track17Emulator, RunningServer],
) -> None:
    _, server = account
    httpx.put(f"{server.url}/_sandbox/faults", json={"rate_limit_rate": 1.0})
    status, body = call(server, "register", [{"number": "SF1234567890123"}])
    assert status == 429 and body["data"]["errors"][0]["message"] == "Too many requests."
    assert httpx.get(f"{server.url}/_sandbox/parcels").json() == {}
    httpx.put(f"{server.url}/_sandbox/faults", json={"rate_limit_rate": 0, "error_rate": 1.0})
    status, body = call(server, "register", [{"number": "SF1234567890123"}])
    assert status == 503 and body["code"] == -18010003
    httpx.delete(f"{server.url}/_sandbox/faults")
    status, body = call(server, "register", [{"number": "SF1234567890123"}] * 41)
    assert body["code"] == -18010014
