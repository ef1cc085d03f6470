"""快递100 as the hub's parcel tracker: subscriptions, signed callbacks, queries.

The hub subscribes each parcel with its callback address and a salt of its own; 快递100
posts the parcel's whole history back (`param`, newest scan first) signed
`MD5(param + salt)`, and takes the exact acknowledgement as received. `status` shutdown
means signed for, abort that 快递100 stopped following it ("3天查询无记录").
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import httpx

from ..kit.http import Transport
from ..kit.settings import required, setting
from ..tracking import ParcelStatus, TrackingEvent, TrackingUpdate
from .client import Kuaidi100Client, md5_upper
from .consts import ACK, CARRIERS, STATES

__all__ = ["Kuaidi100Settings", "Kuaidi100Tracker"]

P = "快递100"
BEIJING = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Kuaidi100Settings:
    base_url: str
    key: str = field(repr=False)
    customer: str
    salt: str = field(repr=False)
    carriers: Mapping[str, str] = field(default_factory=lambda: dict(CARRIERS))
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> Kuaidi100Settings:
        extra = settings.get("carriers") or {}
        if not isinstance(extra, Mapping):
            raise ValueError(
                "快递100 setting 'carriers' maps the hub's carrier codes to 快递100's."
            )
        return cls(
            base_url=str(settings.get("base_url") or "https://poll.kuaidi100.com"),
            key=required(settings, "key", platform=P),
            customer=str(settings.get("customer") or ""),
            salt=required(settings, "salt", platform=P),
            carriers={**CARRIERS, **{str(k).upper(): str(v) for k, v in extra.items()}},
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )


class Kuaidi100Tracker:
    platform = "kuaidi100"

    def __init__(self, settings: Mapping[str, Any], client: httpx.Client | None = None) -> None:
        self.settings = s = Kuaidi100Settings.parse(settings)
        self.api = Kuaidi100Client(
            base_url=s.base_url,
            key=s.key,
            customer=s.customer,
            transport=Transport(P, timeout=s.timeout, max_retries=s.max_retries, client=client),
        )

    def __repr__(self) -> str:
        return f"Kuaidi100Tracker(customer={self.settings.customer!r})"

    def company(self, carrier: str) -> str:
        code = carrier.strip().upper()
        return self.settings.carriers.get(code, carrier.strip().lower())

    def subscribe(
        self,
        *,
        tracking_no: str,
        carrier: str,
        callback_url: str,
        phone: str = "",
        destination_country: str = "",
    ) -> None:
        """SF and others only answer with the receiver's phone (its last four digits)."""
        options: dict[str, Any] = {
            "callbackurl": callback_url,
            "salt": self.settings.salt,
            "resultv2": "1",
        }
        if phone:
            options["phone"] = phone[-4:]
        if destination_country:
            options["destinationCountry"] = destination_country
        self.api.subscribe(
            {"company": self.company(carrier), "number": tracking_no, "parameters": options}
        )

    def verify_callback(
        self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> bool:
        form = _form(body)
        param, sign = form.get("param", ""), form.get("sign", "")
        if not param or not sign:
            return False
        return hmac.compare_digest(md5_upper(param + self.settings.salt), sign.upper())

    def parse_callback(
        self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> list[TrackingUpdate]:
        try:
            push = json.loads(_form(body).get("param", ""))
        except ValueError as exc:
            raise ValueError("param: the callback's param is not JSON") from exc
        if not isinstance(push, dict) or not isinstance(push.get("lastResult"), dict):
            raise ValueError("param.lastResult: the callback carries no result")
        update = _update(push["lastResult"])
        status = str(push.get("status") or "")
        if status in ("shutdown", "abort"):
            detail = str(push.get("message") or "") if status == "abort" else ""
            return [
                TrackingUpdate(
                    update.tracking_no,
                    update.carrier,
                    update.status,
                    update.events,
                    finished=True,
                    detail=detail,
                )
            ]
        return [update]

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        answer = ACK if ok else {"result": False, "returnCode": "500", "message": message}
        return json.dumps(answer, ensure_ascii=False).encode(), "application/json"

    def track(self, *, tracking_no: str, carrier: str) -> TrackingUpdate | None:
        found = self.api.query({"com": self.company(carrier), "num": tracking_no, "resultv2": "1"})
        return None if found is None else _update(found)

    def close(self) -> None:
        self.api.close()


def _form(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items() if v}


def _update(result: Mapping[str, Any]) -> TrackingUpdate:
    number = str(result.get("nu") or "")
    if not number:
        raise ValueError("param.lastResult.nu: the result names no tracking number")
    scans = result.get("data")
    if not isinstance(scans, list):
        raise ValueError("param.lastResult.data: the scans are not a list")
    events = [_event(scan, i) for i, scan in enumerate(scans)]
    events.sort(key=lambda e: e.at)
    state = str(result.get("state") or "")
    status = STATES.get(state, ParcelStatus.IN_TRANSIT if events else ParcelStatus.PENDING)
    return TrackingUpdate(number, str(result.get("com") or ""), status, events)


def _event(scan: Any, index: int) -> TrackingEvent:
    if not isinstance(scan, dict):
        raise ValueError(f"param.lastResult.data[{index}]: a scan is not an object")
    text = str(scan.get("ftime") or scan.get("time") or "")
    try:
        at = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise ValueError(f"param.lastResult.data[{index}].time: {text!r} is not a time") from exc
    words = str(scan.get("status") or "")
    return TrackingEvent(
        at=at,
        status=_status_of_words(words),
        description=str(scan.get("context") or "")[:500],
        location=str(scan.get("areaName") or scan.get("location") or "")[:200],
        code=words[:40],
    )


_WORDS = {
    "在途": ParcelStatus.IN_TRANSIT,
    "揽收": ParcelStatus.IN_TRANSIT,
    "疑难": ParcelStatus.EXCEPTION,
    "签收": ParcelStatus.DELIVERED,
    "退签": ParcelStatus.RETURNED,
    "派件": ParcelStatus.OUT_FOR_DELIVERY,
    "退回": ParcelStatus.RETURNED,
    "转投": ParcelStatus.IN_TRANSIT,
    "清关": ParcelStatus.IN_TRANSIT,
    "拒签": ParcelStatus.EXCEPTION,
}


def _status_of_words(words: str) -> ParcelStatus:
    """A scan's `status` is the state's name (在途, 签收…); sub-states start with it."""
    for name, status in _WORDS.items():
        if words.startswith(name):
            return status
    return ParcelStatus.IN_TRANSIT
