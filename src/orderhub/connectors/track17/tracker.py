"""17TRACK (API v2.2) as the hub's parcel tracker: registrations, pushes, queries.

The hub registers each parcel once (`register`; a number registered already counts as
done). 17TRACK then pushes the parcel's whole tracking information, as `gettrackinfo`
answers it, to the one webhook address set in the account's dashboard: there is no
address per parcel, so `subscribe`'s `callback_url` is not sent anywhere.

A push is `{"event": "TRACKING_UPDATED" | "TRACKING_STOPPED", "data": {...}}` with the
header `sign`. UNCONFIRMED: 17TRACK's public pages do not spell out the signature;
client code agrees on the lower-hex SHA-256 of the raw body + "/" + the API key, which
is the default of the setting `sign_scheme` ("sha256_body_slash_key"); the other
choice, "hmac_sha256", is the hex HMAC-SHA256 of the body keyed with the API key.
UNCONFIRMED too: what 17TRACK waits for in answer; it retries a push answered with
anything but HTTP 200, so the hub answers 200 with an empty JSON object.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..base import Rejected, Unavailable
from ..kit import bounded_json
from ..kit.http import Transport
from ..kit.settings import required, setting
from ..tracking import TrackingUpdate
from .client import Track17Client
from .consts import ALREADY_REGISTERED, CARRIERS, DEFAULT_BASE_URL, NOTHING_KNOWN, SIGN_HEADER
from .track_info import read_item

__all__ = ["SIGN_SCHEMES", "Track17Settings", "Track17Tracker"]

P = "17TRACK"
EVENTS = frozenset({"TRACKING_UPDATED", "TRACKING_STOPPED"})


def _sha256_body_slash_key(body: bytes, key: str) -> str:
    return hashlib.sha256(body + b"/" + key.encode()).hexdigest()


def _hmac_sha256(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


SIGN_SCHEMES: dict[str, Callable[[bytes, str], str]] = {
    "sha256_body_slash_key": _sha256_body_slash_key,
    "hmac_sha256": _hmac_sha256,
}


def _carriers(value: Any) -> dict[str, int]:
    """The carrier table with the setting's changes; an empty value drops a carrier."""
    if value in (None, ""):
        return dict(CARRIERS)
    if not isinstance(value, Mapping):
        raise ValueError(f"{P} setting 'carriers' maps the hub's carrier codes to 17TRACK keys.")
    table = dict(CARRIERS)
    for code, key in value.items():
        name = str(code).strip().upper()
        if key in (None, "", 0, "0"):
            table.pop(name, None)
            continue
        try:
            table[name] = int(key)
        except (TypeError, ValueError):
            raise ValueError(
                f"{P} setting 'carriers' has {key!r} for {name}, not a 17TRACK carrier key."
            ) from None
    return table


@dataclass(frozen=True)
class Track17Settings:
    base_url: str
    api_key: str = field(repr=False)
    carriers: Mapping[str, int] = field(default_factory=lambda: dict(CARRIERS))
    sign_scheme: str = "sha256_body_slash_key"
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> Track17Settings:
        scheme = str(settings.get("sign_scheme") or "sha256_body_slash_key")
        if scheme not in SIGN_SCHEMES:
            raise ValueError(
                f"{P} setting 'sign_scheme' is one of {', '.join(SIGN_SCHEMES)}, not {scheme!r}."
            )
        return cls(
            base_url=str(settings.get("base_url") or DEFAULT_BASE_URL),
            api_key=required(settings, "api_key", platform=P),
            carriers=_carriers(settings.get("carriers")),
            sign_scheme=scheme,
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )


class Track17Tracker:
    """One 17TRACK account."""

    platform = "17track"

    def __init__(self, settings: Mapping[str, Any], client: httpx.Client | None = None) -> None:
        self.settings = s = Track17Settings.parse(settings)
        self.api = Track17Client(
            base_url=s.base_url,
            api_key=s.api_key,
            transport=Transport(P, timeout=s.timeout, max_retries=s.max_retries, client=client),
        )

    def __repr__(self) -> str:
        return f"Track17Tracker(base_url={self.settings.base_url!r})"

    def carrier_key(self, carrier: str) -> int | None:
        """17TRACK's key for the hub's carrier code; None lets 17TRACK detect it."""
        return self.settings.carriers.get(carrier.strip().upper())

    def subscribe(
        self,
        *,
        tracking_no: str,
        carrier: str,
        callback_url: str,
        phone: str = "",
        destination_country: str = "",
    ) -> None:
        """Register the number. Some carriers (SF) answer only with the last four digits
        of the receiver's phone, sent as `param`. The destination country has no field
        of its own at 17TRACK and is not sent."""
        item = self._item(tracking_no, carrier)
        if carrier.strip():
            item["tag"] = carrier.strip().upper()[:100]
        digits = "".join(ch for ch in phone if ch.isdigit())
        if digits:
            item["param"] = digits[-4:]
        batch = self.api.register([item])
        for refusal in batch.rejected:
            if refusal.code != ALREADY_REGISTERED:
                raise refusal.error("the registration")
        if not batch.accepted and not batch.rejected:
            raise Unavailable(f"{P} answered register with neither accepted nor rejected")

    def verify_callback(
        self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> bool:
        given = next((v for k, v in headers.items() if k.lower() == SIGN_HEADER), "")
        if not given:
            return False
        expected = SIGN_SCHEMES[self.settings.sign_scheme](body, self.settings.api_key)
        return hmac.compare_digest(
            expected.encode(), given.strip().lower().encode(errors="replace")
        )

    def parse_callback(
        self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> list[TrackingUpdate]:
        try:
            push = bounded_json.loads(body)
        except ValueError as exc:
            raise ValueError(f"body: {exc}") from exc
        if not isinstance(push, dict):
            raise ValueError("body: the push is not a JSON object")
        event = push.get("event")
        if event not in EVENTS:
            raise ValueError(f"event: {event!r} is not a push the hub reads")
        data = push.get("data")
        stopped = event == "TRACKING_STOPPED"
        if isinstance(data, list):
            return [read_item(d, f"data[{i}]", stopped=stopped) for i, d in enumerate(data)]
        return [read_item(data, "data", stopped=stopped)]

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        """17TRACK reads the HTTP status only (UNCONFIRMED); the body is for people."""
        answer: dict[str, str] = {} if ok else {"error": message or "not accepted"}
        return json.dumps(answer, ensure_ascii=False).encode(), "application/json"

    def track(self, *, tracking_no: str, carrier: str) -> TrackingUpdate | None:
        batch = self.api.track_info([self._item(tracking_no, carrier)])
        for refusal in batch.rejected:
            if refusal.code in NOTHING_KNOWN:
                return None
            raise refusal.error("the query")
        number = tracking_no.strip()
        found = next((a for a in batch.accepted if a.get("number") == number), None)
        if found is None or found.get("track_info") is None:
            return None
        try:
            return read_item(found, "data.accepted[0]")
        except ValueError as exc:
            raise Rejected(f"{P} answered gettrackinfo unreadably: {exc}") from exc

    def close(self) -> None:
        self.api.close()

    def _item(self, tracking_no: str, carrier: str) -> dict[str, Any]:
        item: dict[str, Any] = {"number": tracking_no.strip()}
        key = self.carrier_key(carrier)
        if key is not None:
            item["carrier"] = key
        return item
