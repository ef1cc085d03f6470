"""What the emulated 账套 holds: documents of each form, with their status, behind one lock.

A document moves Z (暂存, Draft) → A (创建, Save) → B (审核中, Submit) → C (已审核,
Audit) → D (重新审核, UnAudit) → B again. It may be changed by Save and deleted only
while it is Z, A or D, that is before it is audited or after an UnAudit; UnAudit only
from C. Base data (物料, 客户, 供应商) are documents too, and a bill may refer only to
base data that exists and is audited.

Messages follow the ERP's wording where public samples show it and are otherwise
plain Chinese sentences of the same kind; each names the field in `FieldName`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .forms import FORMS, STATUS_NAMES, Form, custom_field

__all__ = ["BEIJING", "TRANSITIONS", "Bill", "ErpError", "Ledger", "Refused"]

BEIJING = timezone(timedelta(hours=8))

TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "Save": (frozenset("ZAD"), None),
    "Submit": (frozenset("AD"), "B"),
    "Audit": (frozenset("B"), "C"),
    "UnAudit": (frozenset("C"), "D"),
    "Delete": (frozenset("ZAD"), None),
    "Cancel": (frozenset("ZAD"), None),
    "CancelAssign": (frozenset("B"), "A"),
}
"""Operation → (statuses it is allowed from, status it leaves; None keeps or removes)."""

_VERBS = {
    "Save": "修改",
    "Submit": "提交",
    "Audit": "审核",
    "UnAudit": "反审核",
    "Delete": "删除",
    "Cancel": "作废",
    "CancelAssign": "撤销",
}


@dataclass(frozen=True)
class ErpError:
    """One entry of `ResponseStatus.Errors`."""

    message: str
    field_name: str | None = None
    index: int = 0

    def wire(self) -> dict[str, Any]:
        return {"FieldName": self.field_name, "Message": self.message, "DIndex": self.index}


class Refused(Exception):
    """A call the ERP answers with `IsSuccess: false` and these errors."""

    def __init__(self, errors: list[ErpError], *, msg_code: int = 0) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
        self.msg_code = msg_code


@dataclass
class Bill:
    """One document: its model as last saved, its number and its status."""

    id: int
    form: Form
    number: str
    status: str
    model: dict[str, Any]
    created: datetime
    modified: datetime
    entry_ids: list[int] = field(default_factory=list)
    approved: datetime | None = None
    cancelled: bool = False  # 作废: FCancelStatus B

    def value(self, key: str) -> Any:
        return _get(self.model, key)

    def rows(self) -> list[dict[str, Any]]:
        entry = self.form.entry_key
        rows = _get(self.model, entry) if entry else None
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    lower = key.lower()
    return next((v for k, v in mapping.items() if k.lower() == lower), None)


def ref_number(value: Any) -> str | None:
    """The code in a base-data reference `{"FNumber": "SKU-1"}` (or `FNUMBER`)."""
    if isinstance(value, dict):
        code = _get(value, "FNumber")
        return None if code is None or str(code).strip() == "" else str(code)
    return None


@dataclass
class Ledger:
    """Every form's documents, the id counters, and the call counts."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(BEIJING))
    bills: dict[str, dict[int, Bill]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    salesman_required: bool = False  # 销售员必录, as a tenant's 业务参数 may demand
    _next_id: int = 100_000
    _next_number: dict[str, int] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock().astimezone(BEIJING).replace(tzinfo=None)

    def of(self, form: Form) -> dict[int, Bill]:
        return self.bills.setdefault(form.form_id, {})

    def all(self, form: Form) -> Iterator[Bill]:
        yield from list(self.of(form).values())

    def find(self, form: Form, *, number: str | None = None, id: int | None = None) -> Bill | None:
        if id is not None:
            return self.of(form).get(id)
        return next((b for b in self.of(form).values() if b.number == number), None)

    def base(self, form_id: str, code: str) -> Bill | None:
        return self.find(FORMS[form_id.lower()], number=code)

    def seed_base(self, form_id: str, code: str, name: str) -> Bill:
        """Audited base data, as if entered in the client long ago."""
        form = FORMS[form_id.lower()]
        model = {"FNumber": code, "FName": name}
        bill = self._store(form, None, model, status="C")
        bill.approved = bill.modified
        return bill

    # -- Save / Draft --------------------------------------------------------------

    def save(self, form: Form, model: Any, *, draft: bool = False, index: int = 0) -> Bill:
        """Create or change one document; Refused with the ERP's errors."""
        if not isinstance(model, dict):
            raise Refused([ErpError("Model 必须是对象", "Model", index)])
        fid = _get(model, "FID")
        existing: Bill | None = None
        if fid not in (None, "", 0, "0"):
            try:
                existing = self.find(form, id=int(fid))
            except (TypeError, ValueError):
                existing = None
            if existing is None:
                raise Refused([ErpError(f"单据 FID={fid} 不存在或已被删除", "FID", index)])
            allowed, _ = TRANSITIONS["Save"]
            if existing.status not in allowed or existing.cancelled:
                raise Refused([self._wrong_status(existing, "Save", index)])
        problems = self._unknown_fields(form, model, index)
        if not draft:
            problems += self._check(form, model, existing, index)
        if problems:
            raise Refused(problems)
        if existing is None:
            status = "Z" if draft else "A"
        else:
            status = "A" if existing.status == "Z" and not draft else existing.status
        return self._store(form, existing, model, status=status)

    def _store(
        self, form: Form, existing: Bill | None, model: dict[str, Any], *, status: str
    ) -> Bill:
        now = self.now()
        number = str(_get(model, form.number_key) or "").strip()
        clean = {k: v for k, v in model.items() if k.lower() != "fid"}
        if existing is None:
            self._next_id += 1
            number = number or self._new_number(form)
            bill = Bill(self._next_id, form, number, status, {}, now, now)
            self.of(form)[bill.id] = bill
        else:
            bill = existing
            bill.status, bill.modified = status, now
            number = number or bill.number
            merged = dict(bill.model)
            merged.update(clean)
            clean = merged
        bill.number = number
        clean[form.number_key] = number
        bill.model = clean
        bill.entry_ids = []
        for _ in bill.rows():
            self._next_id += 1
            bill.entry_ids.append(self._next_id)
        return bill

    def _new_number(self, form: Form) -> str:
        n = self._next_number.get(form.form_id, 0) + 1
        self._next_number[form.form_id] = n
        return f"{form.prefix}{n:06d}"

    def _unknown_fields(self, form: Form, model: dict[str, Any], index: int) -> list[ErpError]:
        problems = []
        for key in model:
            if key.lower() not in form.header and not custom_field(key):
                problems.append(_no_such(key, "BillHead", index))
        for row in self._model_rows(form, model):
            for key in row:
                if key.lower() not in form.entry and not custom_field(key):
                    problems.append(_no_such(key, str(form.entry_key), index))
        return problems

    @staticmethod
    def _model_rows(form: Form, model: dict[str, Any]) -> list[dict[str, Any]]:
        rows = _get(model, form.entry_key) if form.entry_key else None
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    def _check(
        self, form: Form, model: dict[str, Any], existing: Bill | None, index: int
    ) -> list[ErpError]:
        problems: list[ErpError] = []
        merged = {**(existing.model if existing else {}), **model}
        number = str(_get(merged, form.number_key) or "").strip()
        if number:
            twin = self.find(form, number=number)
            if twin is not None and twin is not existing:
                verb = "编码" if form.base else "单据编号"
                problems.append(
                    ErpError(f"{verb}“{number}”已被使用，不能重复", form.number_key, index)
                )
        for key in form.required:
            value = _get(merged, key)
            if (
                value is None
                or value == ""
                or (key.lower() in form.header_refs and not ref_number(value))
            ):
                problems.append(ErpError(f"字段“{form.label(key)}”是必填项", key, index))
        for key, base_form in form.header_refs.items():
            problems += self._refers(form, merged, key, base_form, index, row=None)
        if form.entry_key:
            rows = self._model_rows(form, merged)
            if not rows:
                problems.append(ErpError(f"{form.title}至少要有一行明细", form.entry_key, index))
            for n, row in enumerate(rows, start=1):
                for key in form.entry_required:
                    if _get(row, key) in (None, ""):
                        msg = f"第{n}行字段“{form.label(key)}”是必填项"
                        problems.append(ErpError(msg, key, index))
                for key, base_form in form.entry_refs.items():
                    problems += self._refers(form, row, key, base_form, index, row=n)
                problems += _quantity(form, row, n, index)
                if form.form_id == "SAL_SaleOrder":
                    problems += _price(row, n, index)
        salesman = ref_number(_get(merged, "FSalerId"))
        if form.form_id == "SAL_SaleOrder" and self.salesman_required and not salesman:
            problems.append(ErpError("字段“销售员”是必填项", "FSalerId", index))
        return problems

    def _refers(
        self,
        form: Form,
        where: dict[str, Any],
        key: str,
        base_form: str,
        index: int,
        *,
        row: int | None,
    ) -> list[ErpError]:
        value = _get(where, key)
        real_key = next((k for k in where if k.lower() == key), key)
        code = ref_number(value)
        if value is None:
            return []
        at = f"第{row}行" if row else ""
        if code is None:
            msg = f'{at}字段“{form.label(key)}”须写成 {{"FNumber": "编码"}}'
            return [ErpError(msg, real_key, index)]
        found = self.base(base_form, code)
        if found is None:
            msg = f"{at}字段“{form.label(key)}”的值“{code}”在系统中不存在"
            return [ErpError(msg, real_key, index)]
        if found.status != "C":
            msg = f"{at}字段“{form.label(key)}”的值“{code}”未审核，不能引用"
            return [ErpError(msg, real_key, index)]
        return []

    # -- Submit / Audit / UnAudit / Delete -----------------------------------------

    def operate(
        self, op: str, form: Form, bills: list[Bill | str]
    ) -> tuple[list[Bill], list[ErpError]]:
        """Apply `op` to each document; a name that matched nothing is refused by itself."""
        allowed, target = TRANSITIONS[op]
        done: list[Bill] = []
        errors: list[ErpError] = []
        for index, bill in enumerate(bills):
            if isinstance(bill, str):
                errors.append(ErpError(f"单据“{bill}”不存在或已被删除", None, index))
                continue
            if bill.status not in allowed or bill.cancelled:
                errors.append(self._wrong_status(bill, op, index))
                continue
            if op == "Cancel":
                bill.cancelled, bill.modified = True, self.now()
            elif op == "Delete":
                del self.of(form)[bill.id]
            else:
                assert target is not None
                bill.status, bill.modified = target, self.now()
                if target == "C":
                    bill.approved = bill.modified
            done.append(bill)
        return done, errors

    @staticmethod
    def _wrong_status(bill: Bill, op: str, index: int) -> ErpError:
        status = "已作废" if bill.cancelled else STATUS_NAMES.get(bill.status, bill.status)
        message = f"单据“{bill.number}”的状态是“{status}”，不能{_VERBS[op]}"
        return ErpError(message, "FDocumentStatus", index)


def _no_such(key: str, entity: str, index: int) -> ErpError:
    message = (
        f"ResolveFiled_InnerEx解析字段(Key:{key})出错：实体不存在此属性！[EntityType：{entity}]"
    )
    return ErpError(message, key, index)


def _quantity(form: Form, row: dict[str, Any], n: int, index: int) -> list[ErpError]:
    key = next((k for k in form.entry_required if k.lower() in ("fqty", "frealqty")), None)
    if key is None or _get(row, key) in (None, ""):
        return []
    try:
        quantity = float(_get(row, key))
    except (TypeError, ValueError):
        return [ErpError(f"第{n}行字段“{form.label(key)}”不是数字", key, index)]
    if quantity <= 0:
        return [ErpError(f"第{n}行字段“{form.label(key)}”必须大于0", key, index)]
    return []


def _price(row: dict[str, Any], n: int, index: int) -> list[ErpError]:
    """A sold line must carry a price unless it is a gift (FIsFree)."""
    if str(_get(row, "FIsFree")).lower() in ("true", "1"):
        return []
    raw = _get(row, "FTaxPrice")
    if raw in (None, ""):
        raw = _get(row, "FPrice")
    try:
        price = float(raw) if raw not in (None, "") else 0.0
    except (TypeError, ValueError):
        return [ErpError(f"第{n}行字段“含税单价”不是数字", "FTaxPrice", index)]
    if price <= 0:
        return [ErpError(f"第{n}行含税单价为0，请录入价格或勾选赠品", "FTaxPrice", index)]
    return []
