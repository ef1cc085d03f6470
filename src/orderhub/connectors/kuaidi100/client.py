"""The only module that talks HTTP to 快递100: form posts, signatures, answers.

Subscribing is a form `schema=json` + `param`; the real-time query is signed
`MD5(param + key + customer)` upper-case. Answers carry `returnCode`: 200 done, 501 a
subscription already in place (done too), anything else refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..base import Rejected, Unavailable
from ..kit.http import Transport
from .consts import DUPLICATE, QUERY_PATH, SUBSCRIBE_PATH

__all__ = ["Kuaidi100Client", "md5_upper"]

P = "快递100"


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()


class Kuaidi100Client:
    def __init__(self, *, base_url: str, key: str, customer: str, transport: Transport) -> None:
        self._base = base_url.rstrip("/")
        self._key, self._customer = key, customer
        self._transport = transport

    def subscribe(self, param: dict[str, Any]) -> None:
        """Follow a parcel; a subscription already in place is not an error."""
        form = {"schema": "json", "param": json.dumps({**param, "key": self._key})}

        def once() -> None:
            reply = self._transport.send(
                "POST", self._base + SUBSCRIBE_PATH, what="poll", data=form
            )
            body = _json(reply.text, reply.status_code)
            code = str(body.get("returnCode") or "")
            if body.get("result") is True or code == DUPLICATE:
                return
            if code == "500":
                raise Unavailable(f"{P} could not subscribe: {body.get('message')}")
            raise Rejected(f"{P} refused the subscription: {body.get('message')}", code=code)

        self._transport.call(once, what="poll")

    def query(self, param: dict[str, Any]) -> dict[str, Any] | None:
        """The parcel as 快递100 knows it now; None when it knows nothing yet."""
        text = json.dumps(param)
        form = {
            "customer": self._customer,
            "param": text,
            "sign": md5_upper(text + self._key + self._customer),
        }

        def once() -> dict[str, Any] | None:
            reply = self._transport.send(
                "POST", self._base + QUERY_PATH, what="poll/query.do", data=form
            )
            body = _json(reply.text, reply.status_code)
            if body.get("result") is False:
                if str(body.get("returnCode")) == "500":
                    return None  # 查询无结果: nothing scanned yet
                raise Rejected(f"{P} refused the query: {body.get('message')}")
            return body

        return self._transport.call(once, what="poll/query.do")

    def close(self) -> None:
        self._transport.close()


def _json(text: str, status: int) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise Unavailable(f"{P} answered HTTP {status} with no JSON") from exc
    if not isinstance(body, dict):
        raise Unavailable(f"{P} answered HTTP {status} with {type(body).__name__}")
    return body
