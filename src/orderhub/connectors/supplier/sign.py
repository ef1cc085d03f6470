"""Signing of supplier API requests and callbacks: HMAC-SHA256 over timestamp and body.

    X-Orderhub-Timestamp: 1718000000            (unix seconds)
    X-Orderhub-Signature: base64(hmac_sha256(secret, "1718000000" + "." + raw body))

The body is signed byte for byte as sent (an empty body for GET), and the timestamp is
inside the MAC so a captured request cannot be replayed once it is older than the
allowed skew. Both directions (hub → supplier, supplier → hub) use the same scheme.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from .consts import HEADER_SIGNATURE, HEADER_SUPPLIER, HEADER_TIMESTAMP, MAX_SKEW_SECONDS

__all__ = ["sign", "signed_headers", "signing_payload", "verify"]


def signing_payload(timestamp: str, body: bytes) -> bytes:
    """The exact bytes that get MAC'd, exposed so a mismatch can be debugged."""
    return timestamp.encode("ascii") + b"." + body


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Orderhub-Signature` value for this timestamp and body."""
    mac = hmac.new(secret.encode("utf-8"), signing_payload(timestamp, body), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def signed_headers(
    *, supplier_id: str, secret: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """The three authentication headers for a request or callback sent at `now`."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        HEADER_SUPPLIER: supplier_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_SIGNATURE: sign(secret, timestamp, body),
    }


def verify(
    secret: str,
    *,
    timestamp: str,
    signature: str,
    body: bytes,
    now: float | None = None,
    max_skew: float = MAX_SKEW_SECONDS,
) -> bool:
    """True when the signature matches and the timestamp is within `max_skew` of `now`.

    A timestamp that is not a whole number of seconds fails; comparison is constant-time.
    """
    if not signature or not timestamp.isdigit():
        return False
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > max_skew:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(
        expected.encode("ascii"), signature.strip().encode("ascii", "replace")
    )
