"""A Douyin Shop (抖店) Open API emulator: orders, decryption, shipping, stock, pushes.

Sources: platform-apis.md §6 and §11; zsmhub/doudian-sdk (Go, generated from the
official docs): `utils/sign_util.go`, `core/doudian_op_api_client.go`,
`core/doudian_op_api_base_response.go`, `api/{order_searchList,order_orderDetail,
order_batchDecrypt,order_logisticsAdd,order_logisticsAddMultiPack,
order_logisticsCompanyList,sku_syncStock,sku_list,product_listV2}/…`,
`message/doudian_message.go`, `message/doudian_sign.go`, `message/*消息.go`; the base
error-code table (op.jinritemai.com guide-docs/212/1427) as copied by the PHP SDKs
imactool/jinritemai and AK DoudianSDK and a Java client's ApiResponseConstant.

Wire: `POST /order/searchList?app_key=…&method=order.searchList&access_token=…&
timestamp=…&v=2&sign=…&sign_method=hmac-sha256|md5` with param_json as the JSON body;
timestamp `yyyy-MM-dd HH:mm:ss` (GMT+8) or UNIX seconds, ±`timestamp_window` (600 s);
signature and canonical param_json in `wire.py`; envelope `{"code": 10000, "msg":
"success", "sub_code": "", "sub_msg": "", "data": …, "log_id": …}`, HTTP 200 also for
refusals. Methods: order.searchList, order.orderDetail, order.batchDecrypt,
order.logisticsCompanyList (shunfeng, yuantong, zhongtong, shentong, yunda, ems, jd),
order.logisticsAdd, order.logisticsAddMultiPack, sku.syncStock, sku.list,
product.listV2. Amounts are integer fen, times UNIX seconds, receivers masked and
encrypted (`people.py`, `views.py`).

Error codes (UNCONFIRMED numbers from the base table, constants in `wire.py`): 40001
missing system parameter, 40003 invalid system parameter / signature / timestamp /
token, 40002 and 40004 missing and invalid business parameter, 50002 business failure
(isv.business-failed: unknown order, already shipped, …), 70000 unknown method, 60000
isv.traffic-limited for throttling, 20000 dop.service-error for 5xx faults.

Settings for UNCONFIRMED facts (constructor keywords; most also `configure`):
`max_window_seconds` (86400: search window), `end_inclusive` (True: both time bounds
inclusive), `page_cap` (None), `throttle_status` (429: HTTP status of a throttled call,
whose body is the 60000 envelope), `retry_after_header` (False), `sign_raw_body`
(False: also accept a signature over the body bytes as sent rather than the canonical
form), `uppercase_sign_ok` (False: the sign must be lower hex), `decrypt_quota` (None),
`product_list_with_skus` (True: `sku_list` in product.listV2), `push_tags` (tag table,
see `push.py`), `push_retry_delays` ((0.5, 2, 10, 60) s).

Push: `configure(push_url=…)` or PUT `/_sandbox/config`; see `push.py`.
"""

from __future__ import annotations

from typing import Any

from orderhub.sandbox.server import serve_forever

from .emulator import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_APP_KEY,
    DEFAULT_APP_SECRET,
    DEFAULT_SHOP_ID,
    DouyinEmulator,
    create_app,
)

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_APP_KEY",
    "DEFAULT_APP_SECRET",
    "DEFAULT_SHOP_ID",
    "DouyinEmulator",
    "create_app",
    "run",
]


def run(port: int, *, host: str = "127.0.0.1", **settings: Any) -> None:
    """Serve a fresh emulator in the foreground and print the ready line."""
    emulator = DouyinEmulator(**settings)
    credentials = {
        "app_key": emulator.app_key,
        "app_secret": emulator.app_secret,
        "access_token": emulator.access_token,
        "shop_id": emulator.shop_id,
    }
    serve_forever(emulator.app, host=host, port=port, platform="douyin", credentials=credentials)
