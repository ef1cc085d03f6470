"""The hub's documents as K/3 Cloud models, by the declarative file `documents.yaml`.

The same language as the channels' mapping files, read the other way: each ERP field
names a JMESPath expression over the document's context. A field whose value comes out
empty is left out, so the ERP applies its own default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..mapping import FieldRule, merge_specs, put_dotted

__all__ = ["DocumentMapping", "document_mappings"]

BEIJING = timezone(timedelta(hours=8))


def _wire(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    return value


def _rules(fields: Mapping[str, Any]) -> tuple[FieldRule, ...]:
    return tuple(FieldRule.parse(target, spec) for target, spec in fields.items())


@dataclass(frozen=True)
class DocumentMapping:
    """One kind of document: header fields, and the entry rows with theirs."""

    kind: str
    fields: tuple[FieldRule, ...]
    lines_into: str
    lines_path: str
    line_fields: tuple[FieldRule, ...]

    @classmethod
    def from_spec(cls, kind: str, spec: Mapping[str, Any]) -> DocumentMapping:
        lines = spec.get("lines") or {}
        return cls(
            kind,
            _rules(spec.get("fields") or {}),
            str(lines.get("into") or ""),
            str(lines.get("path") or "lines"),
            _rules(lines.get("fields") or {}),
        )

    def model(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The ERP model for this context; ValueError names the field that failed."""
        model: dict[str, Any] = {}
        _fill(model, self.fields, context, where="")
        if self.lines_into:
            rows = []
            for n, line in enumerate(context.get(self.lines_path) or [], start=1):
                row: dict[str, Any] = {}
                # A line reads its own fields first, then its document's (links, erp, …).
                source = {**context, **line} if isinstance(line, Mapping) else line
                _fill(row, self.line_fields, source, where=f"{self.lines_into}[{n}].")
                rows.append(row)
            model[self.lines_into] = rows
        return model


def _fill(target: dict[str, Any], rules: tuple[FieldRule, ...], source: Any, *, where: str) -> None:
    for rule in rules:
        try:
            value = rule.read(source)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}{rule.target}: {exc}") from exc
        if value is None or value == "":
            continue
        put_dotted(target, rule.target, _wire(value))


@cache
def _base() -> dict[str, Any]:
    with open(Path(__file__).parent / "documents.yaml", encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def document_mappings(overrides: Mapping[str, Any] | None = None) -> dict[str, DocumentMapping]:
    """Every kind's mapping, with a seller's overrides (same shape as the file) applied."""
    spec = merge_specs(_base(), overrides or {})
    return {kind: DocumentMapping.from_spec(kind, part) for kind, part in spec.items()}
