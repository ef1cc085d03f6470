// Finding orders: by parcel, product, the receiver's phone and the days they were placed.
export default {
  "zh-CN": {
    orderSearch: {
      tracking: "运单号",
      skuHint: "SKU 或平台编码",
      phone: "手机尾号",
      phoneHint: "后四位",
      placed: "下单日期",
      from: "开始",
      to: "结束",
    },
  },
  en: {
    orderSearch: {
      tracking: "Tracking no.",
      skuHint: "SKU or shop's code",
      phone: "Phone ends",
      phoneHint: "last 4",
      placed: "Placed",
      from: "From",
      to: "To",
    },
  },
};
