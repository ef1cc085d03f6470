"""The capability questions answer as `isinstance` with the protocol would."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from orderhub.connectors.base import ConnectorError
from orderhub.connectors.capabilities import (
    cancels_by_node_id,
    is_polled,
    names_refunds,
    sets_stock_in_batches,
    takes_outbound_batches,
)


class RefundNamingChannel:
    def refunds_named(self, payload: Mapping[str, Any]) -> list[str]:
        return [str(r) for r in payload.get("refunds", [])]

    def fetch_refund(self, channel_order_id: str, refund_id: str) -> dict[str, Any]:
        return {"id": refund_id}


class PlainChannel:
    def refunds_named(self, payload: Mapping[str, Any]) -> list[str]:
        return []  # half of NamesRefunds only


class BatchingShop:
    def __init__(self, size: int) -> None:
        self.stock_batch = size

    def set_stocks(self, figures: Sequence[tuple[str, int]]) -> dict[str, ConnectorError]:
        return {}


@pytest.mark.parametrize(
    ("question", "connector", "expected"),
    [
        (names_refunds, RefundNamingChannel(), True),
        (names_refunds, PlainChannel(), False),
        (names_refunds, object(), False),
        (sets_stock_in_batches, BatchingShop(100), True),
        (sets_stock_in_batches, PlainChannel(), False),
        (is_polled, RefundNamingChannel(), False),
        (takes_outbound_batches, BatchingShop(5), False),
        (cancels_by_node_id, PlainChannel(), False),
    ],
)
def test_a_question_answers_as_the_protocol_check(
    question: Callable[[object], bool], connector: object, expected: bool
) -> None:
    assert question(connector) is expected
    assert question(connector) is expected  # asked again, from what was remembered


def test_the_answer_is_the_classs_for_every_connector_of_it() -> None:
    first, second = RefundNamingChannel(), RefundNamingChannel()
    assert names_refunds(first) and names_refunds(second)
    assert not names_refunds(PlainChannel())


def test_every_connector_answers_as_isinstance(monkeypatch: pytest.MonkeyPatch) -> None:
    from orderhub.connectors import capabilities
    from orderhub.connectors.amazon.channel import AmazonChannel
    from orderhub.connectors.base import SetsStockInBatches
    from orderhub.connectors.douyin.channel import DouyinChannel
    from orderhub.connectors.eclp.warehouse import EclpWarehouse
    from orderhub.connectors.fourpx.warehouse import FourpxWarehouse
    from orderhub.connectors.goodcang.warehouse import GoodCangWarehouse
    from orderhub.connectors.jd.channel import JdChannel
    from orderhub.connectors.pdd.channel import PddChannel
    from orderhub.connectors.qimen.warehouse import QimenWarehouse
    from orderhub.connectors.shopify.channel import ShopifyChannel
    from orderhub.connectors.supplier.supplier import ApiSupplier
    from orderhub.connectors.supplier_file.supplier import FileSupplier
    from orderhub.connectors.taobao.channel import TaobaoChannel
    from orderhub.connectors.woocommerce.channel import WooCommerceChannel

    questions = [
        (capabilities.names_refunds, capabilities.NamesRefunds),
        (capabilities.is_polled, capabilities.PolledNode),
        (capabilities.takes_outbound_batches, capabilities.BatchOutbound),
        (capabilities.cancels_by_node_id, capabilities.CancelsByNodeId),
        (capabilities.reports_parcel_status, capabilities.ReportsParcelStatus),
        (capabilities.pulls_refunds, capabilities.PullsRefunds),
        (capabilities.sets_stock_in_batches, SetsStockInBatches),
    ]
    kinds = [
        AmazonChannel, DouyinChannel, JdChannel, PddChannel, ShopifyChannel, TaobaoChannel,
        WooCommerceChannel, EclpWarehouse, FourpxWarehouse, GoodCangWarehouse,
        QimenWarehouse, ApiSupplier, FileSupplier,
    ]  # fmt: skip
    # Connectors made without their settings: a protocol's property (`outbound_batch`)
    # then reads as absent to both. The answers remembered for them are forgotten after.
    monkeypatch.setattr(capabilities, "_KNOWN", {})
    answers = set()
    for kind in kinds:
        connector = object.__new__(kind)
        for question, protocol in questions:
            answer = question(connector)
            assert answer == isinstance(connector, protocol), (kind, protocol)
            answers.add(answer)
    assert answers == {True, False}
