"""The gateway: system parameters, signature, token, then one handler per method.

`POST /{a}/{b}` serves method `a.b` (`/order/searchList` → `order.searchList`), with
`app_key, method, access_token, timestamp, v=2, sign, sign_method` in the query and
param_json as the body. Every answer is HTTP 200 with the envelope (see `wire.py`);
only fault injection answers otherwise. Checks, in order, each with its base-table code:
method (40001 isv.parameter-missing; 40003 isv.parameter-invalid when it differs from
the path; 70000 isp.api-service-off when unknown), app_key (40001 isv.app-id-missing;
40003 isv.app-id-invalid when not 19 digits, else isv.access-token-invalid), v and
sign_method (40001 / 40003 isv.parameter-invalid), timestamp (40001; 40003
isv.timestamp-format-error), sign (40001 isv.signature-missing; 40003
isv.parameter-format-invalid for a body that is not a JSON object; 40003
isv.signature-invalid), the timestamp window (40003 isv.timestamp-invalid), access_token
(40001 isv.access-token-missing; 40003 isv.access-token-expired for a rotated one,
isv.access-token-no-existed otherwise). Business refusals are 40002 / 40004 (our
sub_codes isv.parameter-missing / isv.parameter-invalid) and 50002 isv.business-failed.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .wire import (
    API_OFF,
    INVALID_PARAM,
    MISSING_PARAM,
    DouyinFailure,
    canonical_param_json,
    parse_timestamp,
    sign,
)

__all__ = ["Credentials", "Gateway", "Handler"]

Handler = Callable[[dict[str, Any]], Any]
SIGN_METHODS = ("md5", "hmac-sha256")


def _missing(sub_code: str, message: str) -> DouyinFailure:
    return DouyinFailure(MISSING_PARAM, sub_code, message)


def _invalid(sub_code: str, message: str) -> DouyinFailure:
    return DouyinFailure(INVALID_PARAM, sub_code, message)


class Credentials:
    """The app's key and secret and the shop's access token (old ones count as expired)."""

    def __init__(self, app_key: str, app_secret: str, access_token: str) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.access_token = access_token
        self.expired: set[str] = set()


class Gateway:
    """Checks a call the way the open platform does and hands it to its method's handler."""

    def __init__(
        self,
        credentials: Credentials,
        handlers: Mapping[str, Handler],
        *,
        timestamp_window: float,
        sign_raw_body: bool,
        uppercase_sign_ok: bool,
    ) -> None:
        self.credentials = credentials
        self.handlers = dict(handlers)
        self.timestamp_window = timestamp_window
        self.sign_raw_body = sign_raw_body
        self.uppercase_sign_ok = uppercase_sign_ok
        self._lock = threading.Lock()
        self.calls: dict[str, int] = {}
        self.refused: dict[str, int] = {}

    def handle(self, path_method: str, params: Mapping[str, str], body: bytes) -> Any:
        """The handler's data, or DouyinFailure."""
        method = params.get("method", "")
        with self._lock:
            key = method or path_method
            self.calls[key] = self.calls.get(key, 0) + 1
        try:
            handler = self._check(path_method, params, body)
            try:
                payload = json.loads(body) if body.strip() else {}
            except ValueError as exc:
                raise _invalid("isv.parameter-format-invalid", "业务参数json解析失败") from exc
            return handler(payload)
        except DouyinFailure as exc:
            with self._lock:
                name = f"{key}:{exc.sub_code}"
                self.refused[name] = self.refused.get(name, 0) + 1
            raise

    def _check(self, path_method: str, params: Mapping[str, str], body: bytes) -> Handler:
        creds = self.credentials
        method = params.get("method", "")
        if not method:
            raise _missing("isv.parameter-missing", "缺少参数method")
        if method != path_method:
            raise _invalid("isv.parameter-invalid", "method与请求路径不一致")
        handler = self.handlers.get(method)
        if handler is None:
            raise DouyinFailure(API_OFF, "isp.api-service-off", "API不存在或API已下线")
        app_key = params.get("app_key", "")
        if not app_key:
            raise _missing("isv.app-id-missing", "认证失败，app_key不存在")
        if app_key != creds.app_key:
            if not (len(app_key) == 19 and app_key.isdigit()):
                raise _invalid("isv.app-id-invalid", "认证失败，app_key格式不正确，应为19位纯数字")
            raise _invalid("isv.access-token-invalid", "app_key和access_token不匹配，请仔细检查")
        version = params.get("v", "")
        if not version:
            raise _missing("isv.parameter-missing", "缺少参数v")
        if version != "2":
            raise _invalid("isv.parameter-invalid", "v参数不合法，请传2")
        sign_method = params.get("sign_method") or "md5"
        if sign_method not in SIGN_METHODS:
            raise _invalid("isv.parameter-invalid", "sign_method只支持md5或hmac-sha256")
        stamp = params.get("timestamp", "")
        if not stamp:
            raise _missing("isv.parameter-missing", "缺少参数timestamp")
        try:
            sent = parse_timestamp(stamp)
        except ValueError as exc:
            raise _invalid("isv.timestamp-format-error", "时间戳格式错误") from exc
        self._check_sign(params, body, method, stamp, sign_method)
        if self.timestamp_window > 0 and abs(time.time() - sent) > self.timestamp_window:
            raise _invalid("isv.timestamp-invalid", "时间戳不合法")
        token = params.get("access_token", "")
        if not token:
            raise _missing("isv.access-token-missing", "认证失败，access_token不能为空")
        if token != creds.access_token:
            if token in creds.expired:
                raise _invalid("isv.access-token-expired", "access_token已过期")
            raise _invalid(
                "isv.access-token-no-existed", "access_token不存在，请使用最新的access_token访问"
            )
        return handler

    def _check_sign(
        self, params: Mapping[str, str], body: bytes, method: str, stamp: str, sign_method: str
    ) -> None:
        given = params.get("sign", "")
        if not given:
            raise _missing("isv.signature-missing", "获取签名失败，请根据文档确保参数拼装正确")
        try:
            signed = [canonical_param_json(body)]
        except (ValueError, UnicodeDecodeError) as exc:
            raise _invalid(
                "isv.parameter-format-invalid", "业务参数json解析失败，param_json需为JSON对象"
            ) from exc
        if self.sign_raw_body:
            signed.append(body.decode("utf-8"))
        if self.uppercase_sign_ok:
            given = given.lower()
        creds = self.credentials
        for param_json in signed:
            expected = sign(creds.app_key, creds.app_secret, method, param_json, stamp, sign_method)
            if hmac.compare_digest(given.encode(), expected.encode()):
                return
        raise _invalid("isv.signature-invalid", "签名校验失败")

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": dict(self.calls), "refused": dict(self.refused)}
