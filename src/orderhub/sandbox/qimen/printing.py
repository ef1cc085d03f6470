"""The waybill printer: a receiver the marketplace sealed is opened through its own decrypt call.

Marketplaces give the seller a masked receiver: Taobao an OAID (`receiverInfo.oaid`),
Pinduoduo, Douyin and JD a ciphertext in each of name, phone and address. A warehouse
prints the label through the platform, with the seller's authorisation; this emulator
does it with the platform's decrypt call over HTTP (`top.oaid.decrypt`,
`pdd.open.decrypt.batch`, Douyin `order.batchDecrypt`, JD's OAID decrypt), so a sealed
receiver is proven to reach a parcel. A printer is set per Qimen `sourcePlatformCode`;
an order from a platform with no printer, or with a clear receiver, prints as given.

Signatures are computed with each platform emulator's own signing function: the rule is
the platform's, and the emulators are its one written statement here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from orderhub.sandbox.douyin.wire import canonical_param_json
from orderhub.sandbox.douyin.wire import sign as douyin_sign
from orderhub.sandbox.jd.wire import jd_sign
from orderhub.sandbox.pdd.app import pdd_sign
from orderhub.sandbox.taobao.app import top_sign

__all__ = ["Label", "PrintFailed", "Printer", "WaybillReceiver", "print_label"]

_BEIJING = timezone(timedelta(hours=8))
_CLEAR_PHONE = frozenset("0123456789+-() *")


class PrintFailed(Exception):
    """The platform would not open the receiver; the parcel cannot be labelled."""


@dataclass(frozen=True)
class Printer:
    """Where and as whom to call one platform's decrypt: `platform` is taobao, pdd, douyin
    or jd, `credentials` the seller's, in the platform's own parameter names."""

    platform: str
    url: str
    credentials: Mapping[str, str]

    @classmethod
    def parse(cls, value: Mapping[str, Any]) -> Printer:
        platform = str(value.get("platform", ""))
        if platform not in _CALLS:
            raise ValueError(f"printer platform must be one of {sorted(_CALLS)}")
        url = str(value.get("url", "")).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError("printer url must be an http(s) address")
        creds = value.get("credentials")
        if not isinstance(creds, Mapping):
            raise ValueError("printer credentials must be an object")
        return cls(platform, url, {str(k): str(v) for k, v in creds.items()})

    def view(self) -> dict[str, Any]:
        return {"platform": self.platform, "url": self.url}


@dataclass(frozen=True)
class WaybillReceiver:
    """What the delivery order said about the receiver, and which order it belongs to."""

    platform_order_id: str
    name: str
    phone: str
    address: str
    oaid: str


@dataclass(frozen=True)
class Label:
    """What went on the parcel, and through which call it was opened ("" when clear)."""

    name: str
    phone: str
    address: str
    via: str = ""

    def view(self) -> dict[str, str]:
        return {"name": self.name, "phone": self.phone, "address": self.address, "via": self.via}


def print_label(http: httpx.Client, printer: Printer | None, r: WaybillReceiver) -> Label:
    """The label for one parcel: opened through the platform when it is sealed."""
    if printer is None or not _sealed(printer.platform, r):
        return Label(r.name, r.phone, r.address)
    return _CALLS[printer.platform](http, printer, r)


def _sealed(platform: str, r: WaybillReceiver) -> bool:
    if platform == "taobao":
        return bool(r.oaid)
    return bool(r.oaid) or not set(r.phone) <= _CLEAR_PHONE


def _post(http: httpx.Client, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        reply = http.post(url, **kwargs)
        body = reply.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise PrintFailed(f"the platform did not answer: {exc}") from exc
    if reply.status_code >= 400 or not isinstance(body, dict):
        raise PrintFailed(f"the platform answered HTTP {reply.status_code}")
    return body


def _refused(body: Mapping[str, Any]) -> None:
    error = body.get("error_response")
    if isinstance(error, dict):
        raise PrintFailed(
            str(error.get("sub_msg") or error.get("msg") or error.get("en_desc") or error)
        )


def _beijing_now() -> str:
    return datetime.now(UTC).astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _taobao(http: httpx.Client, p: Printer, r: WaybillReceiver) -> Label:
    c = p.credentials
    params = {
        "method": "top.oaid.decrypt",
        "app_key": c["app_key"],
        "session": c["session"],
        "timestamp": _beijing_now(),
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
        "query_list": json.dumps([{"tid": r.platform_order_id, "oaid": r.oaid}]),
    }
    params["sign"] = top_sign(params, c["app_secret"], "md5")
    body = _post(http, p.url + "/router/rest", data=params)
    _refused(body)
    found = body.get("top_oaid_decrypt_response", {}).get("receiver_list", {}).get("receiver")
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        raise PrintFailed("top.oaid.decrypt returned no receiver")
    one = found[0]
    parts = ("state", "city", "district", "town", "address_detail")
    return Label(
        str(one.get("name", "")),
        str(one.get("mobile", "")),
        "".join(str(one.get(k, "")) for k in parts),
        "top.oaid.decrypt",
    )


def _pdd(http: httpx.Client, p: Printer, r: WaybillReceiver) -> Label:
    c = p.credentials
    ciphers = [r.name, r.phone, r.address]
    params = {
        "type": "pdd.open.decrypt.batch",
        "client_id": c["client_id"],
        "access_token": c["access_token"],
        "timestamp": str(int(time.time())),
        "data_type": "JSON",
        "version": "V1",
        "data_list": json.dumps(
            [{"data_tag": r.platform_order_id, "encrypted_data": x} for x in ciphers]
        ),
    }
    params["sign"] = pdd_sign(params, c["client_secret"])
    body = _post(http, p.url + "/api/router", data=params)
    _refused(body)
    found = body.get("open_decrypt_batch_response", {}).get("data_decrypt_list")
    clear = {str(x.get("encrypted_data")): str(x.get("decrypted_data", "")) for x in found or []}
    if not all(x in clear for x in ciphers):
        raise PrintFailed("pdd.open.decrypt.batch left a field sealed")
    return Label(clear[r.name], clear[r.phone], clear[r.address], "pdd.open.decrypt.batch")


def _douyin(http: httpx.Client, p: Printer, r: WaybillReceiver) -> Label:
    c = p.credentials
    ciphers = [r.name, r.phone, r.address]
    infos = [{"auth_id": r.platform_order_id, "cipher_text": x} for x in ciphers]
    body_text = json.dumps({"cipher_infos": infos}, ensure_ascii=False, separators=(",", ":"))
    stamp = str(int(time.time()))
    method = "order.batchDecrypt"
    param_json = canonical_param_json(body_text.encode())
    params = {
        "app_key": c["app_key"],
        "method": method,
        "access_token": c["access_token"],
        "timestamp": stamp,
        "v": "2",
        "sign_method": "hmac-sha256",
    }
    params["sign"] = douyin_sign(
        c["app_key"], c["app_secret"], method, param_json, stamp, "hmac-sha256"
    )
    body = _post(
        http,
        p.url + "/order/batchDecrypt",
        params=params,
        content=body_text.encode(),
        headers={"Content-Type": "application/json"},
    )
    if body.get("code") != 10000:
        raise PrintFailed(str(body.get("sub_msg") or body.get("msg") or body))
    found = (body.get("data") or {}).get("decrypt_infos") or []
    clear = {
        str(x.get("cipher_text")): str(x.get("decrypt_text"))
        for x in found
        if isinstance(x, dict) and not x.get("err_no")
    }
    if not all(x in clear for x in ciphers):
        raise PrintFailed("order.batchDecrypt left a field sealed")
    return Label(clear[r.name], clear[r.phone], clear[r.address], method)


def _jd(http: httpx.Client, p: Printer, r: WaybillReceiver) -> Label:
    c = p.credentials
    method = c.get("decrypt_method") or "jingdong.jos.order.oaid.decrypt"
    token = r.oaid or r.phone
    business = {
        "getReceiverInfoListReqVO": {
            "orderInfos": [{"orderId": int(r.platform_order_id), "oaid": token}],
        }
    }
    params = {
        "method": method,
        "app_key": c["app_key"],
        "access_token": c["access_token"],
        "timestamp": _beijing_now(),
        "v": "2.0",
        "format": "json",
        "360buy_param_json": json.dumps(business, separators=(",", ":")),
    }
    params["sign"] = jd_sign(params, c["app_secret"])
    body = _post(http, p.url + "/routerjson", data=params)
    _refused(body)
    key = method.replace(".", "_") + "_responce"
    result = (body.get(key) or {}).get("returnType") or {}
    found = result.get("data")
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        raise PrintFailed(f"{method} returned no receiver: {result.get('message', '')}")
    one = found[0]
    return Label(
        str(one.get("customerName", "")),
        str(one.get("consMobilePhone", "")),
        str(one.get("address", "")),
        method,
    )


_CALLS: dict[str, Callable[[httpx.Client, Printer, WaybillReceiver], Label]] = {
    "taobao": _taobao,
    "pdd": _pdd,
    "douyin": _douyin,
    "jd": _jd,
}
