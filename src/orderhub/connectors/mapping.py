"""Declarative mapping from a platform's raw order to the canonical order.

A mapping is data: a YAML file per platform, where every canonical field names a JMESPath
expression over the raw payload, a type, and optionally a default and a value table.
A seller can override single fields per shop without code, and re-run the mapping on
stored raw payloads. Expressions are compiled once when the mapping is loaded.

    fields:
      receiver.country: {path: shipping_address.country_code, upper: true}
      channel_status: {path: financial_status, map: {paid: paid, pending: unpaid}}
    lines:
      path: line_items
      fields:
        quantity: {path: quantity, type: int}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import jmespath
import jmespath.exceptions
import yaml
from pydantic import ValidationError

from orderhub.domain.errors import InvalidOrder, Problem
from orderhub.domain.order import Order

from .expressions import Expression, compile_expression
from .kit import fields

__all__ = [
    "FieldRule",
    "OrderMapping",
    "load_mapping",
    "merge_specs",
    "put_dotted",
]


def _to_str(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_int(value: Any) -> int:
    return fields.whole_number(value)


def _to_decimal(value: Any) -> Decimal:
    return fields.amount(value)


def _to_datetime(value: Any) -> datetime:
    text = str(value).strip().replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date and time") from exc
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment


CHINA = timezone(timedelta(hours=8))


def _to_china_time(value: Any) -> datetime:
    """ "2026-11-23 18:00:00" as Chinese platforms write it: Beijing time, no offset."""
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date and time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA)


def _to_gmt(value: Any) -> datetime:
    """ "2017-03-22T19:28:08" as WooCommerce writes its `*_gmt` fields: UTC, no offset."""
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date and time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _to_decimal_sum(value: Any) -> Decimal:
    """A list of amounts added exactly (JMESPath's own sum works in floats)."""
    items = value if isinstance(value, list) else [value]
    return sum((fields.amount(item) for item in items if item not in (None, "")), Decimal("0"))


def _to_per_unit(value: Any) -> Decimal:
    """[amount, quantity] as the price of one unit, to 4 places: WooCommerce sends a line's
    subtotal, and its own `price` is after discounts and a float."""
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{value!r} is not [amount, quantity]")
    amount, quantity = fields.amount(value[0]), fields.whole_number(value[1])
    if quantity <= 0:
        return amount
    places = amount.as_tuple().exponent
    exact = (amount / quantity).quantize(Decimal(1).scaleb(min(int(places), 0)))
    if exact * quantity == amount:
        return exact  # 6.00 / 2 → 3.00, in the amount's own places
    return (amount / quantity).quantize(Decimal("0.0001"))


def _to_unix_time(value: Any) -> datetime:
    """Seconds since 1970 (Douyin, Pinduoduo's searches)."""
    seconds = fields.whole_number(value)
    if not 0 <= seconds < 2**37:
        raise ValueError(f"{value!r} is not a time in seconds since 1970")
    return datetime.fromtimestamp(seconds, UTC)


def _to_fen(value: Any) -> Decimal:
    """Whole fen (分), as Douyin sends amounts, in yuan."""
    return Decimal(fields.whole_number(value)) / 100


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y"}
    return bool(value)


def _to_list(value: Any) -> list[str]:
    """Tags: a list as is, or a comma-separated string ("vip, 高风险") split and trimmed."""
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": _to_str,
    "int": _to_int,
    "decimal": _to_decimal,
    "datetime": _to_datetime,
    "china_time": _to_china_time,
    "gmt": _to_gmt,
    "decimal_sum": _to_decimal_sum,
    "per_unit": _to_per_unit,
    "unix_time": _to_unix_time,
    "fen": _to_fen,
    "bool": _to_bool,
    "list": _to_list,
}


@dataclass(frozen=True)
class FieldRule:
    """How one canonical field is read from the raw payload."""

    target: str
    expression: str
    compiled: Expression
    type: str = "str"
    default: Any = None
    table: Mapping[str, Any] | None = None
    upper: bool = False

    @classmethod
    def parse(cls, target: str, spec: Mapping[str, Any] | str) -> FieldRule:
        if isinstance(spec, str):
            spec = {"path": spec}
        kind = str(spec.get("type", "str"))
        if kind not in CONVERTERS:
            raise ValueError(f"mapping field {target}: unknown type {kind!r}")
        expression = str(spec["path"])
        try:
            compiled = compile_expression(expression)
        except jmespath.exceptions.JMESPathError as exc:
            raise ValueError(f"mapping field {target}: bad expression {expression!r}") from exc
        return cls(
            target=target,
            expression=expression,
            compiled=compiled,
            type=kind,
            default=spec.get("default"),
            table=spec.get("map"),
            upper=bool(spec.get("upper", False)),
        )

    def read(self, raw: Any) -> Any:
        """The converted value, or the default when the payload has nothing there."""
        value = self.compiled.search(raw)
        if value is None or value == "":
            value = self.default
        if value is None:
            return None
        if self.table is not None:
            value = self.table.get(str(value), self.default)
            if value is None:
                return None
        value = CONVERTERS[self.type](value)
        if self.upper and isinstance(value, str):
            value = value.upper()
        return value


def put_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = target
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def merge_specs(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_specs(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class OrderMapping:
    """A compiled mapping: raw platform order in, canonical `Order` (or problems) out."""

    platform: str
    fields: tuple[FieldRule, ...]
    lines_path: Expression
    line_fields: tuple[FieldRule, ...]
    spec: Mapping[str, Any]
    root: Expression | None = (
        None  # where the order sits inside the platform's envelope, if it is in one
    )

    @classmethod
    def from_spec(
        cls, spec: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
    ) -> OrderMapping:
        """Compile a mapping; `overrides` (same shape) replace single fields per shop."""
        full = merge_specs(spec, overrides or {})
        lines = full.get("lines", {})
        return cls(
            platform=str(full["platform"]),
            fields=tuple(FieldRule.parse(k, v) for k, v in full.get("fields", {}).items()),
            lines_path=compile_expression(str(lines.get("path", "lines"))),
            line_fields=tuple(FieldRule.parse(k, v) for k, v in lines.get("fields", {}).items()),
            spec=full,
            root=compile_expression(str(full["root"])) if full.get("root") else None,
        )

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> OrderMapping:
        if not overrides:
            return self
        return OrderMapping.from_spec(self.spec, overrides)

    def map(self, raw: Any, *, shop: str) -> Order:
        """The canonical order; raises InvalidOrder listing every problem found."""
        if not isinstance(raw, Mapping):
            raise InvalidOrder([Problem("malformed_payload", "the payload is not a JSON object")])
        if self.root is not None:
            inner = self.root.search(raw)
            raw = inner if isinstance(inner, Mapping) else raw
        problems: list[Problem] = []
        document: dict[str, Any] = {"shop": shop, "platform": self.platform}
        for rule in self.fields:
            self._apply(rule, raw, document, rule.target, problems)
        items = self.lines_path.search(raw)
        if items is not None and not isinstance(items, list):
            problems.append(Problem("malformed_payload", "the order lines are not a list", "lines"))
            items = []
        document["lines"] = []
        for i, item in enumerate(items or []):
            line: dict[str, Any] = {}
            for rule in self.line_fields:
                self._apply(rule, item, line, rule.target, problems, prefix=f"lines[{i}].")
            document["lines"].append(line)
        if problems:
            raise InvalidOrder(problems)
        try:
            return Order.model_validate(document)
        except ValidationError as exc:
            raise InvalidOrder([_problem_from(error) for error in exc.errors()]) from exc

    @staticmethod
    def _apply(
        rule: FieldRule,
        raw: Any,
        out: dict[str, Any],
        target: str,
        problems: list[Problem],
        *,
        prefix: str = "",
    ) -> None:
        try:
            value = rule.read(raw)
        except (ValueError, TypeError, jmespath.exceptions.JMESPathError) as exc:
            problems.append(
                Problem(
                    "unreadable_field", f"cannot read {rule.expression}: {exc}", prefix + target
                )
            )
            return
        if value is not None:
            put_dotted(out, target, value)


_MESSAGES = {
    "missing": "is missing",
    "string_too_short": "is too short",
    "string_too_long": "is too long",
    "decimal_max_places": "has too many decimal places",
}


def _problem_from(error: Mapping[str, Any]) -> Problem:
    field = ".".join(
        f"[{part}]" if isinstance(part, int) else str(part) for part in error["loc"]
    ).replace(".[", "[")
    message = _MESSAGES.get(str(error["type"]), str(error["msg"]).lower())
    return Problem("invalid_field", message, field)


def load_mapping(path: Path, overrides: Mapping[str, Any] | None = None) -> OrderMapping:
    """Read and compile a mapping file."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    return OrderMapping.from_spec(spec, overrides)
