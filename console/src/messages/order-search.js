// Finding orders: by parcel, product and the days they were placed.
export default {
  "zh-CN": {
    orderSearch: { tracking: "运单号", skuHint: "SKU 或平台编码", placed: "下单日期", from: "开始", to: "结束" },
  },
  en: {
    orderSearch: { tracking: "Tracking no.", skuHint: "SKU or shop's code", placed: "Placed", from: "From", to: "To" },
  },
};
