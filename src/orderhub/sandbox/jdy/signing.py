"""The `X-Api-*` gateway signature of api.kingdee.com, as the emulator checks it.

base64(hex(HMAC-SHA256(client secret, METHOD + "\\n" + url-encoded path + "\\n" +
url-encoded sorted query + "\\n" + "x-api-nonce:" + nonce + "\\n" + "x-api-timestamp:" + ts
+ "\\n"))). UNCONFIRMED: how the query string is encoded into the message (sorted
`key=value` pairs, each part percent-encoded once) and the five-minute window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

__all__ = ["hex64", "sign_message"]


def hex64(key: str, message: str) -> str:
    """base64 of the hex HMAC-SHA256, the form of every Kingdee gateway signature."""
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def sign_message(
    method: str, path: str, query: Mapping[str, str], *, nonce: str, stamp: str
) -> str:
    """The text that is signed for one request."""
    wire_path = quote(path, safe="", encoding="utf-8")
    pairs = "&".join(
        f"{quote(k, safe='')}={quote(str(v), safe='')}" for k, v in sorted(query.items())
    )
    return f"{method.upper()}\n{wire_path}\n{pairs}\nx-api-nonce:{nonce}\nx-api-timestamp:{stamp}\n"
