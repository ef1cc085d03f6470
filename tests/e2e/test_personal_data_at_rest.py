"""After real orders flow, no buyer's name, phone, e-mail or address rests in clear.

Every table of the database is read whole and searched for the personal values the
orders carried, as text and as bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.store import tables as t
from support import wait_until

NAME, PHONE, EMAIL = "张三丰", "13912345678", "zsf.wudang@example.com"
STREET = "紫霄宫真武殿一号"
SECRETS = (NAME, PHONE, EMAIL, STREET)
# JSON may hold Chinese text as \\u escapes: search for those spellings too.
SPELLINGS = {secret: {secret, json.dumps(secret)[1:-1]} for secret in SECRETS}


def test_no_personal_value_is_stored_in_clear_anywhere(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    for _ in range(3):
        shop.place_order(
            {
                "lines": [{"sku": "SKU-001", "quantity": 1}],
                "customer": {"name": NAME, "phone": PHONE, "email": EMAIL},
                "shipping_address": {
                    "name": NAME,
                    "phone": PHONE,
                    "country_code": "CN",
                    "province": "湖北省",
                    "city": "十堰市",
                    "address1": STREET,
                    "zip": "442000",
                },
            }
        )
    wait_until(
        lambda: stack.settled() and stack.summary()["completed"] == 3,
        timeout=60,
        what="three orders completed",
    )
    found = []
    with stack.hub.db.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in row._mapping.items():
                    if isinstance(value, bytes | memoryview):
                        data = bytes(value)
                        text = data.decode("utf-8", "replace")
                    else:
                        text = str(value)
                    for secret, spellings in SPELLINGS.items():
                        if any(spelling in text for spelling in spellings):
                            found.append(f"{table.name}.{column}: {secret}")
    assert sorted(set(found)) == []
    # The values were really there to find: the orders carry them, encrypted.
    [row] = queries.order_list(stack.hub, limit=1)
    receiver = queries.order_view(stack.hub, row.id, reveal=True).receiver
    assert (receiver.name, receiver.phone, receiver.address1) == (NAME, PHONE, STREET)
