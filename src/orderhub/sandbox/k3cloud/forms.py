"""The business objects (表单) the emulated 账套 knows, and the fields each one has.

K/3 Cloud refuses a Save naming a field its metadata lacks ("实体不存在此属性") and a
query naming one ("元数据中标识为 X 的字段不存在"), so each form lists its header and
entry fields. Keys are compared without regard to case, as the ERP does
(`FMaterialId` and `FMaterialID` are one field). Fields a partner adds to a form are
named `F_<code>_<name>` or `F_<name>`; every form accepts those. Sub-objects such as
`FSaleOrderFinance` are kept as sent and their fields can be queried.

Sources: platform-apis.md §9.2 (SAL_SaleOrder, PUR_PurchaseOrder models) and
peers-and-apis.md §5.1; the SAL_OUTSTOCK (`FCustomerID`, `FEntity`, `FRealQty`) and
SAL_RETURNSTOCK (`FRetcustId`, `FEntity`, `FRealQty`) keys are those published
integration samples use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FORMS", "STATUS_NAMES", "Form", "custom_field", "form_named"]

STATUS_NAMES = {"Z": "暂存", "A": "创建", "B": "审核中", "C": "已审核", "D": "重新审核"}

MATERIAL, CUSTOMER, SUPPLIER = "BD_MATERIAL", "BD_Customer", "BD_Supplier"


@dataclass(frozen=True)
class Form:
    """One business object: how its documents are numbered, what they refer to."""

    form_id: str
    title: str
    number_key: str  # FBillNo for bills, FNumber for base data
    prefix: str  # of numbers the ERP gives
    header: frozenset[str]
    entry_key: str | None = None
    entry: frozenset[str] = frozenset()
    header_refs: dict[str, str] = field(default_factory=dict)  # lower key → base form
    entry_refs: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    entry_required: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)  # lower key → 字段名

    @property
    def base(self) -> bool:
        return self.number_key == "FNumber"

    def label(self, key: str) -> str:
        return self.labels.get(key.lower(), key)


def _keys(*names: str) -> frozenset[str]:
    return frozenset(n.lower() for n in names)


def custom_field(key: str) -> bool:
    """A partner's own field (`F_ORDERHUB_NO`, `F_PAEZ_OmsNo`), accepted on every form."""
    return key.upper().startswith("F_") and len(key) > 2


_COMMON = (
    "FID",
    "FDocumentStatus",
    "FCancelStatus",
    "FCreateDate",
    "FModifyDate",
    "FApproveDate",
)
_LABELS = {
    "fmaterialid": "物料编码",
    "fcustid": "客户",
    "fcustomerid": "客户",
    "fretcustid": "退货客户",
    "fsupplierid": "供应商",
    "fqty": "数量",
    "frealqty": "实发数量",
    "fname": "名称",
    "fnumber": "编码",
    "fbillno": "单据编号",
}
_SALE_HEADER = (
    *_COMMON,
    "FBillNo",
    "FBillTypeID",
    "FDate",
    "FSaleOrgId",
    "FCustId",
    "FSalerId",
    "FSaleDeptId",
    "FSaleGroupId",
    "FReceiveId",
    "FSettleId",
    "FChargeId",
    "FBusinessType",
    "FNote",
    "FHeadDeliveryWay",
    "FReceiveAddress",
    "FLinkMan",
    "FLinkPhone",
    "FSaleOrderFinance",
    "FSaleOrderPlan",
    "FSaleOrderEntry",
)
_SALE_ENTRY = (
    "FEntryID",
    "FRowType",
    "FMaterialId",
    "FUnitID",
    "FPriceUnitId",
    "FQty",
    "FPrice",
    "FTaxPrice",
    "FEntryTaxRate",
    "FIsFree",
    "FDeliveryDate",
    "FSettleOrgIds",
    "FStockOrgId",
    "FStockId",
    "FMtoNo",
    "FEntryNote",
    "FAllAmount",
    "FAmount",
)
_STOCK_HEADER = (
    *_COMMON,
    "FBillNo",
    "FBillTypeID",
    "FDate",
    "FSaleOrgId",
    "FStockOrgId",
    "FSalesManID",
    "FSaleDeptID",
    "FReceiverID",
    "FSettleID",
    "FPayerID",
    "FCarrierID",
    "FCarriageNO",
    "FNote",
    "FSubHeadEntity",
    "FEntity",
)
_STOCK_ENTRY = (
    "FEntryID",
    "FRowType",
    "FMaterialID",
    "FUnitID",
    "FPriceUnitId",
    "FRealQty",
    "FMustQty",
    "FPrice",
    "FTaxPrice",
    "FEntryTaxRate",
    "FIsFree",
    "FStockID",
    "FStockStatusID",
    "FLot",
    "FOwnerTypeID",
    "FOwnerID",
    "FEntrynote",
    "FReturnType",
    "FAllAmount",
    "FSoorDerno",
    "FSrcBillNo",
    "FSrcType",
)
_PURCHASE_HEADER = (
    *_COMMON,
    "FBillNo",
    "FBillTypeID",
    "FDate",
    "FSupplierId",
    "FPurchaseOrgId",
    "FPurchaserId",
    "FPurchaseDeptId",
    "FProviderId",
    "FSettleId",
    "FChargeId",
    "FNote",
    "FPOOrderFinance",
    "FPOOrderEntry",
)
_PURCHASE_ENTRY = (
    "FEntryID",
    "FRowType",
    "FMaterialId",
    "FUnitId",
    "FPriceUnitId",
    "FQty",
    "FPrice",
    "FTaxPrice",
    "FEntryTaxRate",
    "FDeliveryDate",
    "FRequireOrgId",
    "FRecOrgId",
    "FEntryNote",
    "FAllAmount",
    "FSrcBillNo",
    "FSrcType",
)
_BASE = (
    *_COMMON,
    "FNumber",
    "FName",
    "FCreateOrgId",
    "FUseOrgId",
    "FShortName",
    "FDescription",
    "FForbidStatus",
)


FORMS: dict[str, Form] = {
    f.form_id.lower(): f
    for f in (
        Form(
            "SAL_SaleOrder",
            "销售订单",
            "FBillNo",
            "XSDD",
            _keys(*_SALE_HEADER),
            "FSaleOrderEntry",
            _keys(*_SALE_ENTRY),
            header_refs={"fcustid": CUSTOMER},
            entry_refs={"fmaterialid": MATERIAL},
            required=("FCustId",),
            entry_required=("FMaterialId", "FQty"),
            labels=_LABELS,
        ),
        Form(
            "SAL_OUTSTOCK",
            "销售出库单",
            "FBillNo",
            "XSCKD",
            _keys(*_STOCK_HEADER, "FCustomerID"),
            "FEntity",
            _keys(*_STOCK_ENTRY),
            header_refs={"fcustomerid": CUSTOMER},
            entry_refs={"fmaterialid": MATERIAL},
            required=("FCustomerID",),
            entry_required=("FMaterialID", "FRealQty"),
            labels=_LABELS,
        ),
        Form(
            "SAL_RETURNSTOCK",
            "销售退货单",
            "FBillNo",
            "XSTHD",
            _keys(*_STOCK_HEADER, "FRetcustId", "FReturnReason"),
            "FEntity",
            _keys(*_STOCK_ENTRY, "FMaterialId"),
            header_refs={"fretcustid": CUSTOMER},
            entry_refs={"fmaterialid": MATERIAL},
            required=("FRetcustId",),
            entry_required=("FMaterialId", "FRealQty"),
            labels=_LABELS,
        ),
        Form(
            "PUR_PurchaseOrder",
            "采购订单",
            "FBillNo",
            "CGDD",
            _keys(*_PURCHASE_HEADER),
            "FPOOrderEntry",
            _keys(*_PURCHASE_ENTRY),
            header_refs={"fsupplierid": SUPPLIER},
            entry_refs={"fmaterialid": MATERIAL},
            required=("FSupplierId",),
            entry_required=("FMaterialId", "FQty"),
            labels=_LABELS,
        ),
        Form(
            MATERIAL,
            "物料",
            "FNumber",
            "WL",
            _keys(*_BASE, "FSpecification", "FBaseUnitId", "FMaterialGroup", "FErpClsID"),
            required=("FName",),
            labels=_LABELS,
        ),
        Form(
            CUSTOMER,
            "客户",
            "FNumber",
            "CUST",
            _keys(*_BASE, "FCustTypeId", "FTEL", "FADDRESS", "FCOUNTRY"),
            required=("FName",),
            labels=_LABELS,
        ),
        Form(
            SUPPLIER,
            "供应商",
            "FNumber",
            "VEN",
            _keys(*_BASE, "FSupplierClassify", "FBaseInfo"),
            required=("FName",),
            labels=_LABELS,
        ),
    )
}


def form_named(form_id: str) -> Form | None:
    """The form with this id, whatever the case it is written in."""
    return FORMS.get(form_id.strip().lower())
