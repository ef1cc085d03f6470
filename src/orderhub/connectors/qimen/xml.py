"""Qimen XML bodies and wire times, to and from plain dicts.

A request is `<request>` with nested elements; a reply is `<response><flag/><code/>
<message/>…</response>`. Lists travel as a plural wrapper around singular items
(`<orderLines><orderLine>…`), so the wrapper names are listed here. Bodies from outside
are untrusted: they are parsed by defusedxml (no DTDs, no entities, no external
references), nesting is bounded before the tree is walked, and the encodings warehouses
send are read: UTF-8, and GBK/GB2312/GB18030 when declared or when the bytes are not
UTF-8.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .consts import FLAG_FAILURE, FLAG_SUCCESS, TIME_FORMAT

__all__ = [
    "LIST_ITEMS",
    "Reply",
    "XmlError",
    "build",
    "build_response",
    "format_time",
    "parse",
    "parse_offset",
    "parse_response",
    "parse_time",
    "to_dict",
]

LIST_ITEMS: Mapping[str, str] = {
    "orderLines": "orderLine",
    "packages": "package",
    "items": "item",
    "criteriaList": "criteria",
    "deliveryOrders": "deliveryOrder",
    "subSourceOrders": "subSourceOrder",
    "relatedOrders": "relatedOrder",
    "invoices": "invoice",
    "batchs": "batch",
    "snList": "sn",
    "packageMaterialList": "packageMaterial",
    "orders": "order",
}
"""Plural wrapper → singular item tag, for every list the Qimen methods we use carry."""

_FORBIDDEN = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9_.-]+)[\"']", re.IGNORECASE)
_CHINESE = frozenset({"gbk", "gb2312", "gb18030", "cp936"})
MAX_DEPTH = 32
"""Deeper than any Qimen message; a deeper body is refused before it is walked."""
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_CENT = Decimal("0.01")


class XmlError(ValueError):
    """A body is not Qimen XML we are willing to read."""


@dataclass(frozen=True)
class Reply:
    """A parsed `<response>`: the flag, code and message, and every other field."""

    flag: str
    code: str
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the other side says it did what was asked."""
        return self.flag == FLAG_SUCCESS


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Decimal):
        return format(value.quantize(_CENT), "f")
    if isinstance(value, str | int):
        return str(value)
    raise TypeError(f"cannot put a {type(value).__name__} into Qimen XML")


_PLAIN = (str, int, Decimal)


def _leaf(parts: list[str], tag: str, text: str) -> None:
    parts.append(f"<{tag}>{escape(text)}</{tag}>" if text else f"<{tag} />")


def _element(parts: list[str], tag: str, content: Mapping[str, Any]) -> None:
    """`<tag>` with `content` as child elements, written straight to text: a delivery
    order goes out for every order, and a tree built only to be serialised costs several
    times more."""
    opened = len(parts)
    parts.append(f"<{tag}>")
    _children(parts, content)
    _close(parts, opened, tag)


def _children(parts: list[str], content: Mapping[str, Any]) -> None:
    for key, value in content.items():
        if value is None or value == "":
            continue
        # Most values are text with nothing to escape, written here without a call;
        # the others plain too, told apart before the abstract types, whose checks cost
        # several times more.
        if type(value) is str and "&" not in value and "<" not in value and ">" not in value:
            parts.append(f"<{key}>{value}</{key}>")
        elif isinstance(value, _PLAIN) or not isinstance(value, Mapping | Sequence):
            _leaf(parts, key, _text(value))
        elif isinstance(value, Mapping):
            _element(parts, key, value)
        else:
            item_tag = LIST_ITEMS.get(key)
            if item_tag is None:
                raise ValueError(f"no item tag is known for the list {key!r}")
            wrapper = len(parts)
            parts.append(f"<{key}>")
            for item in value:
                if isinstance(item, Mapping):
                    _element(parts, item_tag, item)
                else:
                    _leaf(parts, item_tag, _text(item))
            _close(parts, wrapper, key)


def _close(parts: list[str], opened: int, tag: str) -> None:
    if len(parts) == opened + 1:
        parts[opened] = f"<{tag} />"  # nothing inside
    else:
        parts.append(f"</{tag}>")


_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"


def build(content: Mapping[str, Any], *, root: str = "request") -> bytes:
    """UTF-8 XML for `content`; None and "" are left out, Decimals get two places."""
    parts = [_DECLARATION]
    _element(parts, root, content)
    return "".join(parts).encode()


def build_response(
    *, ok: bool, code: str, message: str, extra: Mapping[str, Any] | None = None
) -> bytes:
    """A `<response>` with flag, code and message first, as every Qimen reply has them."""
    parts = [_DECLARATION, "<response>"]
    _leaf(parts, "flag", FLAG_SUCCESS if ok else FLAG_FAILURE)
    _leaf(parts, "code", code)
    _leaf(parts, "message", message)
    _children(parts, extra or {})
    parts.append("</response>")
    return "".join(parts).encode()


def _decode(body: bytes) -> str:
    declared = _DECLARED.match(body)
    encoding = declared.group(1).decode().lower() if declared else "utf-8"
    if encoding in _CHINESE:
        encoding = "gb18030"  # a superset of GBK and GB2312
    try:
        return body.decode("utf-8-sig" if encoding in ("utf-8", "utf8") else encoding)
    except LookupError as exc:
        raise XmlError(f"the body declares an unknown encoding {encoding!r}") from exc
    except UnicodeDecodeError:
        if declared and encoding not in ("utf-8", "utf8"):
            raise XmlError(f"the body is not valid {encoding} text") from None
    try:
        return body.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise XmlError("the body is neither UTF-8 nor GBK text") from exc


def _depth(root: ET.Element) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in element)
    return deepest


def parse(body: bytes) -> ET.Element:
    """The root element of an untrusted body; XmlError for anything unsafe or broken."""
    if not body.strip():
        raise XmlError("the body is empty")
    if b"\x00" in body:
        raise XmlError("the body is not XML text")
    text = _decode(body)
    if _FORBIDDEN.search(text):
        raise XmlError("the body declares a DOCTYPE or entity, which is refused")
    # The text is already decoded: its declaration must not make the parser decode again.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    try:
        root: ET.Element = SafeET.fromstring(text)
    except DefusedXmlException as exc:
        raise XmlError(f"the body uses an XML feature that is refused ({exc})") from exc
    except ET.ParseError as exc:
        raise XmlError(f"the body is not well-formed XML ({exc})") from exc
    # Every element opens with a "<": a body with few of them cannot nest deep.
    if text.count("<") > MAX_DEPTH and _depth(root) > MAX_DEPTH:
        raise XmlError(f"the body is nested deeper than {MAX_DEPTH} levels")
    return root


def _value(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return [] if element.tag in LIST_ITEMS else (element.text or "").strip()
    item_tag = LIST_ITEMS.get(element.tag)
    if item_tag is not None and all(child.tag == item_tag for child in children):
        return [_value(child) for child in children]
    return to_dict(element)


def to_dict(element: ET.Element) -> dict[str, Any]:
    """Children of `element` as a dict; wrappers become lists, repeated tags too."""
    result: dict[str, Any] = {}
    repeated: set[str] = set()
    for child in element:
        value = _value(child)
        previous = result.get(child.tag)
        if child.tag not in result:
            result[child.tag] = value
        elif isinstance(previous, list) and isinstance(value, list) and child.tag in LIST_ITEMS:
            previous.extend(value)
        elif child.tag in repeated and isinstance(previous, list):
            previous.append(value)
        else:
            result[child.tag] = [previous, value]
            repeated.add(child.tag)
    return result


def parse_response(body: bytes) -> Reply:
    """A reply body as a Reply; TOP's `<error_response>` becomes a failure with its sub-code."""
    root = parse(body)
    data = to_dict(root)
    if root.tag == "error_response":
        code = str(data.get("sub_code") or data.get("code") or "")
        message = str(data.get("sub_msg") or data.get("msg") or "")
        return Reply(FLAG_FAILURE, code, message, data)
    if root.tag != "response":
        raise XmlError(f"the reply root is <{root.tag}>, not <response>")
    flag = str(data.pop("flag", "")).lower()
    if flag not in (FLAG_SUCCESS, FLAG_FAILURE):
        raise XmlError("the reply has no success/failure flag")
    code = str(data.pop("code", ""))
    message = str(data.pop("message", ""))
    return Reply(flag, code, message, data)


def parse_offset(text: str) -> timezone:
    """'+08:00' → the fixed zone Qimen times are written in (Beijing by default)."""
    if text.strip().upper() in ("Z", "UTC"):
        return UTC
    match = _OFFSET.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a UTC offset like +08:00")
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


def format_time(moment: datetime, zone: tzinfo) -> str:
    """An aware time as Qimen writes it, 'YYYY-MM-DD HH:MM:SS' in `zone`; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime(TIME_FORMAT)


def parse_time(text: str, zone: tzinfo) -> datetime:
    """A Qimen 'YYYY-MM-DD HH:MM:SS' written in `zone`, as an aware UTC datetime."""
    try:
        local = datetime.strptime(text.strip().replace("T", " ")[:19], TIME_FORMAT)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a time like 2024-05-01 13:45:00") from exc
    return local.replace(tzinfo=zone).astimezone(UTC)
