"""The 17TRACK connector against the emulator over loopback HTTP: parcels registered once,
statuses read into the hub's, pushes checked and read, unreadable ones named."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orderhub.connectors.base import RateLimited, Rejected
from orderhub.connectors.track17 import Track17Tracker, tracker_from_settings
from orderhub.connectors.tracking import ParcelStatus
from orderhub.sandbox.server import RunningServer, serve_in_thread
from orderhub.sandbox.track17 import Track17Emulator

KEY = "unit-17track-key"


@dataclass
class Inbox:
    """Where the emulator pushes: every push's headers and raw body."""

    url: str = ""
    pushes: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        with self.lock:
            self.pushes.append((dict(request.headers), await request.body()))
        return JSONResponse({})

    def wait(self, count: int) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + 5
        while len(self.pushes) < count:
            assert time.monotonic() < deadline, "no push came"
            time.sleep(0.01)
        return list(self.pushes)


@dataclass
class Sandbox:
    emulator: Track17Emulator
    server: RunningServer
    inbox: Inbox

    def tracker(self, **settings: object) -> Track17Tracker:
        return tracker_from_settings({"base_url": self.server.url, "api_key": KEY, **settings})


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    inbox = Inbox()
    receiver = serve_in_thread(Starlette(routes=[Route("/hook", inbox.receive, methods=["POST"])]))
    inbox.url = f"{receiver.url}/hook"
    emulator = Track17Emulator(KEY, webhook_url=inbox.url, retry_delays=(0.05,))
    server = serve_in_thread(emulator.app)
    yield Sandbox(emulator, server, inbox)
    server.stop()
    emulator.close()
    receiver.stop()


def subscribe(tracker: Track17Tracker, number: str, carrier: str = "SF") -> None:
    tracker.subscribe(
        tracking_no=number, carrier=carrier, callback_url="https://hub/cb", phone="138-0013-5678"
    )


def test_a_parcel_subscribed_twice_is_registered_once_with_its_carrier(sandbox: Sandbox) -> None:
    tracker = sandbox.tracker()
    subscribe(tracker, "SF1234567890123")
    subscribe(tracker, "SF1234567890123")
    parcel = sandbox.emulator.parcels()["SF1234567890123"]
    assert (parcel["carrier"], parcel["tag"], parcel["param"]) == (100012, "SF", "5678")
    assert sandbox.emulator.account.quota_used == 1
    subscribe(tracker, "RR123456789CN", carrier="OTHER")  # no key known: 17TRACK detects it
    detected = sandbox.emulator.parcels()["RR123456789CN"]
    assert (detected["carrier"], detected["origin"]) == (3011, 1)
    tracker.close()


def test_a_refusal_is_rejected_with_17tracks_code_and_words(sandbox: Sandbox) -> None:
    tracker = sandbox.tracker()
    with pytest.raises(Rejected) as undetected:
        subscribe(tracker, "ABC1234567", carrier="JD")
    assert undetected.value.code == "-18019903"
    assert "Carrier cannot be detected" in undetected.value.message
    wrong = sandbox.tracker(api_key="not-the-key")
    with pytest.raises(Rejected) as refused:
        subscribe(wrong, "SF1234567890123")
    assert refused.value.code == "-18010002" and refused.value.status_code == 401
    sandbox.emulator.faults.update({"rate_limit_rate": 1.0})
    with pytest.raises(RateLimited):
        subscribe(tracker, "SF1234567890123")
    tracker.close()
    wrong.close()


def test_track_reads_17track_statuses_into_the_hubs(sandbox: Sandbox) -> None:
    tracker, emulator = sandbox.tracker(), sandbox.emulator
    assert tracker.track(tracking_no="SF1111111111111", carrier="SF") is None  # never registered
    for number in ("SF1111111111111", "SF2222222222222", "SF3333333333333"):
        subscribe(tracker, number)
    waiting = tracker.track(tracking_no="SF1111111111111", carrier="SF")
    assert waiting is not None and waiting.status is ParcelStatus.PENDING and not waiting.events

    emulator.scan("SF1111111111111", status="InTransit", time="2026-12-04T09:00:00+08:00")
    emulator.scan("SF1111111111111", status="Exception", sub_status="Exception_Returning")
    emulator.scan("SF1111111111111", status="Exception", sub_status="Exception_Returned")
    returned = tracker.track(tracking_no="SF1111111111111", carrier="SF")
    assert returned is not None
    assert (returned.status, returned.finished) == (ParcelStatus.RETURNED, True)
    assert [e.code for e in returned.events] == [
        "InTransit_Other",
        "Exception_Returning",
        "Exception_Returned",
    ]
    assert returned.events[0].at == datetime(2026, 12, 4, 1, 0, tzinfo=UTC)

    emulator.scan("SF2222222222222", status="DeliveryFailure", sub_status="DeliveryFailure_NoBody")
    emulator.scan("SF2222222222222", status="Delivered", description="本人签收", location="上海")
    delivered = tracker.track(tracking_no="SF2222222222222", carrier="SF")
    assert delivered is not None
    assert (delivered.status, delivered.finished) == (ParcelStatus.DELIVERED, True)
    assert [e.status for e in delivered.events] == [
        ParcelStatus.FAILED_ATTEMPT,
        ParcelStatus.DELIVERED,
    ]
    assert (delivered.events[-1].description, delivered.events[-1].location) == ("本人签收", "上海")
    assert delivered.carrier == "100012" and delivered.tracking_no == "SF2222222222222"

    emulator.scan("SF3333333333333", status="Expired")
    expired = tracker.track(tracking_no="SF3333333333333", carrier="SF")
    assert expired is not None
    assert (expired.status, expired.finished) == (ParcelStatus.EXCEPTION, True)
    assert "expired" in expired.detail
    tracker.close()


def test_a_push_is_verified_by_its_signature_and_read_oldest_scan_first(sandbox: Sandbox) -> None:
    tracker, emulator = sandbox.tracker(), sandbox.emulator
    subscribe(tracker, "SF1234567890123")
    emulator.scan("SF1234567890123", status="InfoReceived", time="2026-12-04T08:00:00+08:00")
    emulator.scan("SF1234567890123", status="InTransit", sub_status="InTransit_Departure")
    emulator.scan("SF1234567890123", status="OutForDelivery", location="上海")
    headers, body = sandbox.inbox.wait(3)[-1]

    assert tracker.verify_callback({}, headers, body)
    assert not tracker.verify_callback({}, headers, body.replace(b"OutForDelivery", b"Delivered"))
    assert not tracker.verify_callback({}, {}, body)
    assert not tracker.verify_callback({}, {"Sign": "é" * 64}, body)
    other = sandbox.tracker(sign_scheme="hmac_sha256")
    assert not other.verify_callback({}, headers, body)

    [update] = tracker.parse_callback({}, headers, body)
    assert update.tracking_no == "SF1234567890123"
    assert update.status is ParcelStatus.OUT_FOR_DELIVERY and not update.finished
    assert [e.status for e in update.events] == [
        ParcelStatus.INFO_RECEIVED,
        ParcelStatus.IN_TRANSIT,
        ParcelStatus.OUT_FOR_DELIVERY,
    ]
    assert [e.at for e in update.events] == sorted(e.at for e in update.events)
    assert tracker.callback_reply(ok=True) == (b"{}", "application/json")
    tracker.close()
    other.close()


def test_a_stop_push_finishes_the_parcel_even_without_tracking_information() -> None:
    tracker = tracker_from_settings({"api_key": KEY})
    push = {"event": "TRACKING_STOPPED", "data": {"number": "SF1", "carrier": 100012}}
    [update] = tracker.parse_callback({}, {}, json.dumps(push).encode())
    assert update.finished and update.detail == "17TRACK stopped following it"
    assert update.status is ParcelStatus.PENDING and not update.events
    tracker.close()


@pytest.mark.parametrize(
    ("body", "field_named"),
    [
        (b"<html>", "body"),
        (b"[1, 2]", "body"),
        (b'{"event": "SOMETHING", "data": {}}', "event"),
        (b'{"event": "TRACKING_UPDATED", "data": {"track_info": {}}}', "data.number"),
        (b'{"event": "TRACKING_UPDATED", "data": {"number": "SF1"}}', "data.track_info"),
        (
            b'{"event": "TRACKING_UPDATED", "data": {"number": "SF1", "track_info": '
            b'{"tracking": {"providers": [{"events": [{"time_iso": "yesterday"}]}]}}}}',
            "data.track_info.tracking.providers[0].events[0].time_iso",
        ),
        (
            b'{"event": "TRACKING_UPDATED", "data": {"number": "SF1", "track_info": '
            b'{"latest_status": "Delivered"}}}',
            "data.track_info.latest_status",
        ),
    ],
)
def test_an_unreadable_push_names_the_field(body: bytes, field_named: str) -> None:
    tracker = tracker_from_settings({"api_key": KEY})
    with pytest.raises(ValueError) as unreadable:
        tracker.parse_callback({}, {}, body)
    assert str(unreadable.value).startswith(field_named + ":")
    tracker.close()


def test_settings_are_read_by_17tracks_names_and_the_carrier_table_can_be_changed() -> None:
    tracker = tracker_from_settings({"api_key": KEY, "carriers": {"jd": "191121", "SF": ""}})
    assert tracker.settings.base_url == "https://api.17track.net"
    assert tracker.carrier_key("JD") == 191121
    assert tracker.carrier_key("SF") is None and tracker.carrier_key("yto") == 190157
    assert KEY not in repr(tracker) and KEY not in repr(tracker.settings)
    tracker.close()
    with pytest.raises(ValueError, match="'api_key' is missing"):
        tracker_from_settings({})
    with pytest.raises(ValueError, match="sign_scheme"):
        tracker_from_settings({"api_key": KEY, "sign_scheme": "md5"})
    with pytest.raises(ValueError, match="carriers"):
        tracker_from_settings({"api_key": KEY, "carriers": {"SF": "sf-express"}})
