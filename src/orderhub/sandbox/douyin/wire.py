"""Douyin Shop's wire: the canonical param_json, the request signature, the envelope, codes.

Written from platform-apis.md §6.1/§11, not from any client, so a hub's signer is checked
against the rule rather than against a copy of itself.

The string a request signs is
`app_secret + "app_key" + app_key + "method" + method + "param_json" + param_json +
"timestamp" + timestamp + "v" + "2" + app_secret`, signed as lower-hex HMAC-SHA256 keyed
with the app secret (`sign_method=hmac-sha256`) or lower-hex MD5 (`md5`, the default).
`param_json` is the body re-serialised the way the platform's SDKs serialise it: keys
sorted at every depth, no spaces, UTF-8 left unescaped, no HTML escaping, numbers kept
as written (and U+2028/U+2029 escaped, as Go's encoder does). A client that sends sorted
compact JSON and signs the bytes it sends therefore passes; one that signs unsorted text
does not.

Error codes are the platform's base table (平台基础错误码汇总, op.jinritemai.com
guide-docs/212/1427) as three independent SDKs copy it; the live page was not read, so
the numbers are UNCONFIRMED and kept as constants here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

__all__ = [
    "API_OFF",
    "BUSINESS_FAILED",
    "CHINA",
    "INVALID_BIZ_PARAM",
    "INVALID_PARAM",
    "MISSING_BIZ_PARAM",
    "MISSING_PARAM",
    "SERVICE_UNAVAILABLE",
    "SUCCESS",
    "TRAFFIC_LIMITED",
    "DouyinFailure",
    "canonical_param_json",
    "dump",
    "envelope",
    "failure_envelope",
    "log_id",
    "parse_timestamp",
    "sign",
    "sign_string",
]

CHINA = timezone(timedelta(hours=8))

SUCCESS = 10000
SERVICE_UNAVAILABLE = 20000
PERMISSION_DENIED = 30001
MISSING_PARAM = 40001
MISSING_BIZ_PARAM = 40002
INVALID_PARAM = 40003
INVALID_BIZ_PARAM = 40004
BUSINESS_FAILED = 50002
TRAFFIC_LIMITED = 60000
API_OFF = 70000

MESSAGES: Mapping[int, str] = {
    SUCCESS: "success",
    SERVICE_UNAVAILABLE: "服务不可用",
    PERMISSION_DENIED: "操作权限不足",
    MISSING_PARAM: "缺少必选参数（平台校验）",
    MISSING_BIZ_PARAM: "缺少必选参数（业务校验）",
    INVALID_PARAM: "非法的参数（平台校验）",
    INVALID_BIZ_PARAM: "非法的参数（业务校验）",
    BUSINESS_FAILED: "业务处理失败",
    TRAFFIC_LIMITED: "触发限流，请稍后重试",
    API_OFF: "接口服务已下线",
}


class DouyinFailure(Exception):
    """A refusal in the platform's words: `code` from the base table, `sub_code`, `sub_msg`."""

    def __init__(self, code: int, sub_code: str, sub_msg: str) -> None:
        super().__init__(sub_msg)
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg


class _Number(str):
    """A JSON number kept as the text it was written with."""


def _string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    return encoded.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _emit(value: Any) -> str:
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ",".join(_emit(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value)
        return "{" + ",".join(_string(k) + ":" + _emit(value[k]) for k in keys) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def canonical_param_json(body: bytes) -> str:
    """The param_json a request's body signs as; ValueError when the body is not a JSON object.

    An empty body is the empty object, as the SDKs send for methods without parameters.
    """
    text = body.decode("utf-8").strip() if body.strip() else "{}"
    value = json.loads(text, parse_int=_Number, parse_float=_Number, parse_constant=_no_constant)
    if not isinstance(value, dict):
        raise ValueError("param_json must be a JSON object")
    return _emit(value)


def sign_string(app_key: str, app_secret: str, method: str, param_json: str, ts: str) -> str:
    """The text between the two copies of the secret, with them."""
    inner = f"app_key{app_key}method{method}param_json{param_json}timestamp{ts}v2"
    return app_secret + inner + app_secret


def sign(
    app_key: str, app_secret: str, method: str, param_json: str, ts: str, sign_method: str
) -> str:
    """Lower-hex HMAC-SHA256 (key: the secret) or MD5 of the sign string."""
    text = sign_string(app_key, app_secret, method, param_json, ts).encode("utf-8")
    if sign_method == "hmac-sha256":
        return hmac.new(app_secret.encode("utf-8"), text, hashlib.sha256).hexdigest()
    return hashlib.md5(text).hexdigest()


def parse_timestamp(value: str) -> float:
    """UNIX seconds from `yyyy-MM-dd HH:mm:ss` (GMT+8, as documented) or digits (as the Go
    SDK sends); ValueError otherwise."""
    if value.isdigit():
        return float(int(value))
    moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    return moment.timestamp()


def log_id() -> str:
    """A request id shaped like the platform's: the GMT+8 time, then 20 upper-hex digits."""
    stamp = datetime.now(UTC).astimezone(CHINA).strftime("%Y%m%d%H%M%S")
    return stamp + secrets.token_hex(10).upper()


def dump(payload: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def envelope(data: Any) -> dict[str, Any]:
    """The success envelope around `data`."""
    return {
        "code": SUCCESS,
        "msg": MESSAGES[SUCCESS],
        "sub_code": "",
        "sub_msg": "",
        "data": data,
        "log_id": log_id(),
    }


def failure_envelope(code: int, sub_code: str, sub_msg: str) -> dict[str, Any]:
    """The same envelope for a refusal; `data` is an empty object."""
    return {
        "code": code,
        "msg": MESSAGES.get(code, "其他异常"),
        "sub_code": sub_code,
        "sub_msg": sub_msg,
        "data": {},
        "log_id": log_id(),
    }
