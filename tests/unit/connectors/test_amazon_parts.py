"""The Amazon channel's parts that need no network: pacing, package references, and the
mapping's arithmetic on Amazon's line totals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orderhub.connectors.amazon.pacing import Pacer, Patience
from orderhub.connectors.amazon.shipping import package_reference, unshipped, wanted_lines
from orderhub.connectors.base import RateLimited, Rejected
from orderhub.connectors.mapping import CONVERTERS


class Clock:
    """A clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def pacer(clock: Clock, *, rate: float = 0.5, burst: int = 3, max_wait: float = 2.5) -> Pacer:
    return Pacer(
        {"getOrderItems": (rate, burst)},
        max_wait=max_wait,
        margin=0.1,
        clock=clock,
        sleep=clock.sleep,
    )


def test_the_burst_goes_at_once_then_calls_wait_for_their_token_and_a_margin() -> None:
    clock = Clock()
    p = pacer(clock)
    for _ in range(5):
        with p.slot("getOrderItems"):
            clock.now += 0.5  # each call takes half a second
    # Three at once; the fourth finds half a token left, the fifth 0.3 (0.5 a second, each
    # token counted spent when its call is over), each waits for the rest and the margin.
    assert clock.slept == [1.1, 1.5]


def test_a_token_further_off_than_the_caller_will_wait_is_refused_before_any_call() -> None:
    clock = Clock()
    p = pacer(clock, burst=1)
    patience = Patience(1.0)
    with p.slot("getOrderItems", patience):
        pass
    with pytest.raises(RateLimited) as refused, p.slot("getOrderItems", patience):
        pass
    assert refused.value.retry_after == pytest.approx(2.1)
    assert refused.value.status_code is None and clock.slept == []
    clock.now += 2.0
    with p.slot("getOrderItems", patience):  # the refused reservation was given back
        pass
    assert clock.slept == []


def test_the_rate_amazon_reports_replaces_the_documented_one_and_a_429_empties_the_bucket() -> None:
    clock = Clock()
    p = pacer(clock, burst=30)
    p.observe("getOrderItems", "10.0")
    p.observe("getOrderItems", "not a number")
    assert p.rate("getOrderItems") == 10.0
    with pytest.raises(RateLimited), p.slot("getOrderItems"):
        wait = p.throttled("getOrderItems")  # what the client does on a 429
        raise RateLimited("429", retry_after=wait)
    assert wait == pytest.approx(0.1)
    with p.slot("getOrderItems"):
        pass
    assert clock.slept == [0.2]  # a token a tenth of a second away, and the margin


def test_a_package_reference_is_a_positive_number_the_same_for_the_same_parcel() -> None:
    first, again, other = (package_reference(t) for t in ("1z999aa1", " 1Z999AA1 ", "1Z999AA2"))
    assert first == again != other
    assert first.isdigit() and int(first) > 0


def test_lines_add_up_by_item_and_unshipped_is_what_amazon_still_counts() -> None:
    assert wanted_lines([("A", 1), ("B", 2), ("A", 2)]) == {"A": 3, "B": 2}
    with pytest.raises(Rejected):
        wanted_lines([("A", 0)])
    items = [
        {"OrderItemId": "A", "QuantityOrdered": 3, "QuantityShipped": 1},
        {"OrderItemId": "B", "QuantityOrdered": 1, "QuantityShipped": 1},
    ]
    assert unshipped(items) == {"A": 2}


@pytest.mark.parametrize(
    ("value", "unit"),
    [(["39.98", 2], Decimal("19.99")), (["10.00", 3], Decimal("3.3333"))],
)
def test_an_amazon_line_total_becomes_a_unit_price(value: list[object], unit: Decimal) -> None:
    assert CONVERTERS["per_unit"](value) == unit


def test_amounts_in_a_list_add_up_exactly() -> None:
    assert CONVERTERS["decimal_sum"](["0.10", "0.20", None, "1e1"]) == Decimal("10.30")
    with pytest.raises(ValueError):
        CONVERTERS["decimal_sum"](["NaN"])
