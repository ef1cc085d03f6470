// Acting on one order from its page.
export default {
  "zh-CN": {
    orderActions: {
      cancel: "取消订单",
      hold: "挂起",
      release: "放行",
      route: "改派仓库",
      address: "修改地址",
      node: "发货仓库",
      reason: "原因",
      back: "返回",
      confirm: "确定",
      done: "已完成，订单现在是「{status}」",
      addressHint: "只填要修改的项；已占库存的订单会按新地址重新分仓。",
      routeHint: "仓库已收到此单：先请其拦截，拦截成功后再发往所选仓库。",
      fields: { name: "收件人", phone: "手机", province: "省", city: "市", district: "区县", address1: "详细地址" },
    },
  },
  en: {
    orderActions: {
      cancel: "Cancel",
      hold: "Hold",
      release: "Release",
      route: "Send from another node",
      address: "Change the address",
      node: "Node",
      reason: "Reason",
      back: "Back",
      confirm: "Confirm",
      done: "Done: the order is now {status}",
      addressHint: "Fill in only what changes; a reserved order is routed again with the new address.",
      routeHint: "Its node already has it: that node is asked to stop it, then it goes to the one you choose.",
      fields: { name: "Receiver", phone: "Phone", province: "Province", city: "City", district: "District", address1: "Street" },
    },
  },
};
