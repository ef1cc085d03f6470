// An order's parcels on its page: where each is, its scans, and the buyer's link.
const zhStatuses = {
  pending: "等待揽收", info_received: "已下单", in_transit: "运输中", out_for_delivery: "派送中",
  failed_attempt: "派送未成功", available_for_pickup: "待取件", delivered: "已签收", exception: "异常",
  returned: "已退回",
};
const enStatuses = {
  pending: "Awaiting pickup", info_received: "Label created", in_transit: "In transit",
  out_for_delivery: "Out for delivery", failed_attempt: "Delivery attempted",
  available_for_pickup: "Ready for pickup", delivered: "Delivered", exception: "Exception",
  returned: "Returned to sender",
};
export default {
  "zh-CN": {
    parcels: { title: "包裹", buyerLink: "买家追踪页", noScan: "快递公司还没有扫描", statuses: zhStatuses },
  },
  en: {
    parcels: { title: "Parcel", buyerLink: "Buyer's tracking page", noScan: "Not scanned yet", statuses: enStatuses },
  },
};
