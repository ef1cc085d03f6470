"""ExecuteBillQuery: field keys, the filter string, ordering and paging over one form.

The ERP answers an array of arrays, one value per field key in the order asked. When a
key names an entry field (`FMaterialId.FNumber`, `FQty`) the answer has one row per
entry row, the header's values repeated. `FilterString` is the ERP's SQL-like condition:
comparisons (`=`, `<>`, `!=`, `>`, `>=`, `<`, `<=`), `LIKE`, `IN (…)`, `AND`, `OR` and
parentheses, with values in single quotes. A key the form does not have is refused with
"元数据中标识为 X 的字段不存在", as the ERP does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .forms import Form, custom_field
from .state import Bill, ErpError, Ledger, Refused, ref_number

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "run_query"]

DEFAULT_LIMIT, MAX_LIMIT = 2000, 10000
_DATES = {"fdate", "fcreatedate", "fmodifydate", "fapprovedate", "fdeliverydate"}
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><>|!=|>=|<=|=|>|<)"
    r"|(?P<paren>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)

Row = tuple[Bill, dict[str, Any] | None, int]
Condition = Callable[[Row], bool]


def _missing(key: str) -> Refused:
    return Refused([ErpError(f"元数据中标识为{key}的字段不存在", None, 0)])


class _Fields:
    """How to read a key of one form from a bill (and an entry row)."""

    def __init__(self, form: Form, ledger: Ledger) -> None:
        self.form, self.ledger = form, ledger

    def is_entry(self, key: str) -> bool:
        head = key.split(".")[0].lower()
        entry = (self.form.entry_key or "").lower()
        return head in self.form.entry or (bool(entry) and head.startswith(entry + "_"))

    def check(self, key: str) -> None:
        head = key.split(".")[0]
        lower = head.lower()
        if lower in self.form.header or lower in self.form.entry or custom_field(head):
            return
        entry = (self.form.entry_key or "").lower()
        if entry and lower == f"{entry}_fentryid":
            return
        raise _missing(key)

    def value(self, key: str, row: Row) -> Any:
        bill, entry, n = row
        head, _, part = key.partition(".")
        lower = head.lower()
        if lower == "fid":
            return bill.id
        if lower == "fdocumentstatus":
            return bill.status
        if lower == "fcancelstatus":
            return "B" if bill.cancelled else "A"
        if lower in ("fcreatedate", "fmodifydate", "fapprovedate"):
            moment = {"fcreatedate": bill.created, "fmodifydate": bill.modified}.get(
                lower, bill.approved
            )
            return _stamp(moment)
        if lower.endswith("fentryid") and self.is_entry(head):
            return bill.entry_ids[n] if entry is not None and n < len(bill.entry_ids) else 0
        source = entry if entry is not None and lower in self.form.entry else bill.model
        raw = next((v for k, v in (source or {}).items() if k.lower() == lower), None)
        if isinstance(raw, dict):
            code = ref_number(raw)
            if part.lower() == "fnumber":
                return code
            refs = {**self.form.header_refs, **self.form.entry_refs}
            found = self.ledger.base(refs[lower], code) if lower in refs and code else None
            if part.lower() == "fname":
                return found.value("FName") if found else None
            return found.id if found else 0
        if lower in _DATES and isinstance(raw, str):
            return raw if "T" in raw else f"{raw[:10]}T00:00:00"
        return raw


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class _Parser:
    """Recursive descent over the filter string's tokens."""

    def __init__(self, text: str, fields: _Fields) -> None:
        self.tokens = self._tokens(text)
        self.at = 0
        self.fields = fields

    @staticmethod
    def _tokens(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise Refused([ErpError(f"过滤条件有语法错误：{text[pos : pos + 20]}", None, 0)])
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise Refused([ErpError("过滤条件不完整", None, 0)])
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].upper() == word:
            self.at += 1
            return True
        return False

    def parse(self) -> Condition:
        if not self.tokens:
            return lambda _: True
        condition = self.disjunction()
        if self.peek() is not None:
            raise Refused([ErpError(f"过滤条件有语法错误：{self.peek()}", None, 0)])
        return condition

    def disjunction(self) -> Condition:
        parts = [self.conjunction()]
        while self.keyword("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else lambda row: any(p(row) for p in parts)

    def conjunction(self) -> Condition:
        parts = [self.factor()]
        while self.keyword("AND"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else lambda row: all(p(row) for p in parts)

    def factor(self) -> Condition:
        token = self.take()
        if token == ("paren", "("):
            inner = self.disjunction()
            if self.take() != ("paren", ")"):
                raise Refused([ErpError("过滤条件的括号不成对", None, 0)])
            return inner
        if token[0] != "word":
            raise Refused([ErpError(f"过滤条件有语法错误：{token[1]}", None, 0)])
        key = token[1]
        self.fields.check(key)
        negate = self.keyword("NOT")
        if self.keyword("IN"):
            values = self.values()
            return lambda row: (_text(self.fields.value(key, row)) in values) != negate
        if self.keyword("LIKE"):
            pattern = _like(self.literal())
            return lambda row: bool(pattern.match(_text(self.fields.value(key, row)))) != negate
        kind, op = self.take()
        if kind != "op":
            raise Refused([ErpError(f"过滤条件有语法错误：{op}", None, 0)])
        literal = self.literal()
        return lambda row: _compare(self.fields.value(key, row), op, literal)

    def literal(self) -> str:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return text
        raise Refused([ErpError(f"过滤条件有语法错误：{text}", None, 0)])

    def values(self) -> set[str]:
        if self.take() != ("paren", "("):
            raise Refused([ErpError("IN 后面要有括号", None, 0)])
        values = {self.literal()}
        while self.peek() == ("paren", ","):
            self.at += 1
            values.add(self.literal())
        if self.take() != ("paren", ")"):
            raise Refused([ErpError("过滤条件的括号不成对", None, 0)])
        return values


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _like(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(p) for p in pattern.split("%"))
    return re.compile(".*".join(parts).replace("_", "."), re.S)


def _compare(value: Any, op: str, literal: str) -> bool:
    left: Any = value
    right: Any = literal
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            right = float(literal)
        except ValueError:
            left = _text(value)
    else:
        left = _text(value)
        if _looks_like_time(left) and _looks_like_time(literal):
            left, right = _time_key(left), _time_key(literal)
    if op == "=":
        return bool(left == right)
    if op in ("<>", "!="):
        return bool(left != right)
    if value is None:
        return False
    outcome: bool = {
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
    }[op]
    return outcome


def _looks_like_time(text: str) -> bool:
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}", text))


def _time_key(text: str) -> str:
    """Times compare as text once they share one layout: `2026-12-04T08:00:00.000`."""
    text = text.replace(" ", "T")
    if len(text) == 10:
        text += "T00:00:00"
    if len(text) == 19:
        text += ".000"
    return text[:23]


def run_query(ledger: Ledger, form: Form, spec: dict[str, Any]) -> list[list[Any]]:
    """The rows the query asks for; Refused on a bad key, filter or page."""
    raw_keys = spec.get("FieldKeys") or spec.get("fieldkeys") or ""
    keys = raw_keys if isinstance(raw_keys, list) else str(raw_keys).split(",")
    keys = [str(k).strip() for k in keys if str(k).strip()]
    if not keys:
        raise Refused([ErpError("FieldKeys 不能为空", "FieldKeys", 0)])
    fields = _Fields(form, ledger)
    for key in keys:
        fields.check(key)
    condition = _Parser(str(spec.get("FilterString") or ""), fields).parse()
    by_entry = any(fields.is_entry(k) for k in keys)
    rows: list[Row] = []
    for bill in ledger.all(form):
        if by_entry:
            rows += [(bill, entry, n) for n, entry in enumerate(bill.rows())]
        else:
            rows.append((bill, None, 0))
    rows = [row for row in rows if condition(row)]
    for part in reversed(str(spec.get("OrderString") or "").split(",")):
        words = part.split()
        if not words:
            continue
        fields.check(words[0])
        descending = len(words) > 1 and words[1].upper() == "DESC"
        key = words[0]
        rows.sort(key=lambda row: _sort_key(fields.value(key, row)), reverse=descending)
    start = _whole(spec.get("StartRow"), 0)
    limit = _whole(spec.get("Limit"), 0) or DEFAULT_LIMIT
    top = _whole(spec.get("TopRowCount"), 0)
    if limit > MAX_LIMIT:
        raise Refused([ErpError(f"Limit 不能大于{MAX_LIMIT}", "Limit", 0)])
    if top:
        rows = rows[:top]
    return [[fields.value(k, row) for k in keys] for row in rows[start : start + limit]]


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, int | float):
        return (1, value)
    return (2, _time_key(value) if _looks_like_time(str(value)) else str(value))


def _whole(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(number, 0)
