"""The `DynamicFormService` calls, over the ledger, answered in the ERP's own shapes.

Every business answer is HTTP 200; success or failure is in `Result.ResponseStatus`
(`IsSuccess`, `Errors[{FieldName, Message, DIndex}]`, `SuccessEntitys[{Id, Number,
DIndex}]`, `MsgCode`). `ExecuteBillQuery` answers an array of arrays, and its failures
come wrapped the same way inside `[[…]]`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .forms import Form, form_named
from .query import run_query
from .state import Bill, ErpError, Ledger, Refused, ref_number

__all__ = ["OPERATIONS", "failure", "status_body"]


def status_body(
    *,
    errors: list[ErpError] | None = None,
    done: list[Bill] | None = None,
    msg_code: int = 0,
) -> dict[str, Any]:
    errors, done = errors or [], done or []
    status: dict[str, Any] = {
        "IsSuccess": not errors,
        "Errors": [e.wire() for e in errors],
        "SuccessEntitys": [
            {"Id": b.id, "Number": b.number, "DIndex": i} for i, b in enumerate(done)
        ],
        "SuccessMessages": [],
        "MsgCode": msg_code,
    }
    if errors:
        status = {"ErrorCode": 500, **status}
    return status


def failure(errors: list[ErpError], *, msg_code: int = 0) -> dict[str, Any]:
    return {"Result": {"ResponseStatus": status_body(errors=errors, msg_code=msg_code)}}


def _data(args: list[Any], at: int) -> dict[str, Any]:
    raw = args[at] if len(args) > at else {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise Refused([ErpError(f"JSON格式错误：{exc}", None, 0)]) from exc
    if not isinstance(raw, dict):
        raise Refused([ErpError("参数必须是 JSON 对象", None, 0)])
    return raw


def _form(args: list[Any]) -> Form:
    form_id = str(args[0]) if args else ""
    form = form_named(form_id)
    if form is None:
        raise Refused([ErpError(f"业务对象“{form_id}”不存在", "FormId", 0)])
    return form


def _flag(data: dict[str, Any], key: str) -> bool:
    value = next((v for k, v in data.items() if k.lower() == key.lower()), False)
    return str(value).lower() in ("true", "1")


def _returned(bill: Bill, data: dict[str, Any]) -> dict[str, Any]:
    wanted = data.get("NeedReturnFields") or []
    if isinstance(wanted, str):
        wanted = [w.strip() for w in wanted.split(",") if w.strip()]
    return {str(k): bill.value(str(k)) for k in wanted}


def _save(ledger: Ledger, args: list[Any], *, draft: bool = False) -> dict[str, Any]:
    form, data = _form(args), _data(args, 1)
    bill = ledger.save(form, data.get("Model"), draft=draft)
    if _flag(data, "IsAutoSubmitAndAudit") and not draft:
        for op in ("Submit", "Audit"):
            _, errors = ledger.operate(op, form, [bill])
            if errors:
                raise Refused(errors)
    return {
        "Result": {
            "ResponseStatus": status_body(done=[bill]),
            "Id": bill.id,
            "Number": bill.number,
            "NeedReturnData": [_returned(bill, data)],
        }
    }


def _batch_save(ledger: Ledger, args: list[Any]) -> dict[str, Any]:
    form, data = _form(args), _data(args, 1)
    models = data.get("Model")
    if not isinstance(models, list):
        raise Refused([ErpError("BatchSave 的 Model 必须是数组", "Model", 0)])
    done, errors, returned = [], [], []
    for index, model in enumerate(models):
        try:
            bill = ledger.save(form, model, index=index)
        except Refused as exc:
            errors += exc.errors
            continue
        done.append(bill)
        returned.append(_returned(bill, data))
    return {
        "Result": {
            "ResponseStatus": status_body(errors=errors, done=done),
            "NeedReturnData": returned,
        }
    }


def _targets(ledger: Ledger, form: Form, data: dict[str, Any]) -> list[Bill | str]:
    ids = data.get("Ids") or ""
    numbers = data.get("Numbers") or []
    id_list = ids if isinstance(ids, list) else [i for i in str(ids).split(",") if i.strip()]
    number_list = numbers if isinstance(numbers, list) else str(numbers).split(",")
    targets: list[Bill | str] = []
    for raw in id_list:
        try:
            found = ledger.find(form, id=int(str(raw).strip()))
        except ValueError:
            found = None
        targets.append(found or f"Id={raw}")
    for number in (str(n).strip() for n in number_list if str(n).strip()):
        targets.append(ledger.find(form, number=number) or number)
    if not targets:
        raise Refused([ErpError("请指定要操作的单据：Ids 或 Numbers", "Ids", 0)])
    return targets


def _operation(op: str) -> Callable[[Ledger, list[Any]], dict[str, Any]]:
    def run(ledger: Ledger, args: list[Any]) -> dict[str, Any]:
        form, data = _form(args), _data(args, 1)
        done, errors = ledger.operate(op, form, _targets(ledger, form, data))
        return {"Result": {"ResponseStatus": status_body(errors=errors, done=done)}}

    return run


def _execute_operation(ledger: Ledger, args: list[Any]) -> dict[str, Any]:
    """ExcuteOperation(formId, opNumber, data): only 作废 (`Cancel`) is known here."""
    op = str(args[1]) if len(args) > 1 else ""
    if op.lower() != "cancel":
        raise Refused([ErpError(f"操作“{op}”不存在或不允许通过接口执行", "opNumber", 0)])
    return _operation("Cancel")(ledger, [args[0], *args[2:]])


def _view(ledger: Ledger, args: list[Any]) -> dict[str, Any]:
    form, data = _form(args), _data(args, 1)
    number, ident = str(data.get("Number") or "").strip(), str(data.get("Id") or "").strip()
    bill = None
    if ident:
        bill = ledger.find(form, id=int(ident)) if ident.isdigit() else None
    elif number:
        bill = ledger.find(form, number=number)
    if bill is None:
        raise Refused([ErpError("单据不存在或已被删除", "Number", 0)])
    return {"Result": {"ResponseStatus": None, "Result": _view_object(ledger, form, bill)}}


def _view_object(ledger: Ledger, form: Form, bill: Bill) -> dict[str, Any]:
    """The document as View shows it: keys without the leading F, references expanded."""
    refs = {**form.header_refs, **form.entry_refs}

    def expand(source: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in source.items():
            name = key[1:] if key.startswith("F") and not key.startswith("F_") else key
            if isinstance(value, dict) and key.lower() in refs:
                code = ref_number(value)
                found = ledger.base(refs[key.lower()], code) if code else None
                value = {
                    "Id": found.id if found else 0,
                    "Number": code,
                    "Name": [{"Key": 2052, "Value": found.value("FName") if found else ""}],
                }
            elif isinstance(value, list):
                value = [expand(v) if isinstance(v, dict) else v for v in value]
            out[name] = value
        return out

    shown = expand(bill.model)
    shown.update(
        {
            "Id": bill.id,
            "DocumentStatus": bill.status,
            "CancelStatus": "B" if bill.cancelled else "A",
            "ModifyDate": bill.modified.isoformat(timespec="milliseconds"),
        }
    )
    return shown


def _query(ledger: Ledger, args: list[Any]) -> Any:
    spec = _data(args, 0)
    form_id = str(spec.get("FormId") or spec.get("formid") or "")
    form = form_named(form_id)
    try:
        if form is None:
            raise Refused([ErpError(f"业务对象“{form_id}”不存在", "FormId", 0)])
        return run_query(ledger, form, spec)
    except Refused as exc:
        return [[failure(exc.errors, msg_code=exc.msg_code)]]


OPERATIONS: dict[str, Callable[[Ledger, list[Any]], Any]] = {
    "save": _save,
    "draft": lambda ledger, args: _save(ledger, args, draft=True),
    "batchsave": _batch_save,
    "submit": _operation("Submit"),
    "audit": _operation("Audit"),
    "unaudit": _operation("UnAudit"),
    "delete": _operation("Delete"),
    "cancelassign": _operation("CancelAssign"),
    "excuteoperation": _execute_operation,
    "view": _view,
    "executebillquery": _query,
}
"""By the method's name in lower case, as the path `…DynamicFormService.<Method>` gives it."""
