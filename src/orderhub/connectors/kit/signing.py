"""Signatures over sorted parameters, the scheme TOP, Qimen, Pinduoduo and JD share.

    md5:          upper(hex(md5(secret + k1v1k2v2… + body + secret)))
    hmac:         upper(hex(hmac_md5(secret, k1v1k2v2… + body)))
    hmac-sha256:  upper(hex(hmac_sha256(secret, k1v1k2v2… + body)))

Keys are ASCII-sorted; `sign` itself and empty values are left out. `body` is empty for
all but Qimen, which signs its XML body byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["concatenated", "sorted_sign", "verify_sorted"]


def concatenated(params: Mapping[str, str], *, skip: frozenset[str] = frozenset({"sign"})) -> str:
    """`k1v1k2v2…` over the ASCII-sorted keys, skipping `skip` and empty values."""
    return "".join(
        f"{key}{params[key]}" for key in sorted(params) if key not in skip and params[key]
    )


def sorted_sign(
    params: Mapping[str, str], secret: str, *, method: str = "md5", body: bytes = b""
) -> str:
    """The upper-case hex `sign` of these parameters under `method`."""
    text = concatenated(params).encode("utf-8") + body
    key = secret.encode("utf-8")
    if method == "md5":
        return hashlib.md5(key + text + key).hexdigest().upper()
    if method == "hmac":
        return hmac.new(key, text, hashlib.md5).hexdigest().upper()
    if method == "hmac-sha256":
        return hmac.new(key, text, hashlib.sha256).hexdigest().upper()
    raise ValueError(f"unknown sign method {method!r}")


def verify_sorted(
    params: Mapping[str, str], secret: str, *, method: str = "md5", body: bytes = b""
) -> bool:
    """True when `params["sign"]` matches, compared in constant time."""
    given = params.get("sign", "")
    if not given:
        return False
    try:
        expected = sorted_sign(params, secret, method=method, body=body)
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode(), given.upper().encode())
