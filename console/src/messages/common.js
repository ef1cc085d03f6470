// Words several pages use.
export default {
  "zh-CN": { common: { channelSku: "平台商品编码", sheet: "工作表", row: "行", column: "列", message: "问题" } },
  en: { common: { channelSku: "Shop's code", sheet: "Sheet", row: "Row", column: "Column", message: "Problem" } },
};
