// The order's documents in the seller's ERP, on the order's page.
export default {
  "zh-CN": {
    books: {
      title: "ERP 单据",
      kind: "单据",
      form: "业务对象",
      number: "单据编号",
      state: "状态",
      kinds: { sale_order: "销售订单", outbound: "销售出库单", return: "销售退货单", purchase_order: "采购订单" },
      states: { booked: "已记账", voided: "已作废", skipped: "未记账" },
    },
  },
  en: {
    books: {
      title: "In the ERP",
      kind: "Document",
      form: "Form",
      number: "Number",
      state: "State",
      kinds: { sale_order: "Sale", outbound: "Outbound", return: "Return", purchase_order: "Purchase order" },
      states: { booked: "booked", voided: "voided", skipped: "not booked" },
    },
  },
};
