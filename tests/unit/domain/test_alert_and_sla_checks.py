"""Phone, ship-by and duplicate checks, the SLA states, the exception catalogue and the
alert digest: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderhub.domain.alerts import Alert, describe, held_alerts, make_digest
from orderhub.domain.errors import Problem
from orderhub.domain.exceptions_catalog import (
    Action,
    ActionNotAllowed,
    allowed_actions,
    check_action,
)
from orderhub.domain.order import Address, OrderStatus
from orderhub.domain.sla import sla_state
from orderhub.domain.validation import (
    DuplicateCandidate,
    check_duplicate,
    check_order,
    check_phone,
    check_ship_by,
)
from support import make_order

NOW = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)


def with_phone(phone: str, country: str) -> list[Problem]:
    order = make_order()
    order.receiver.phone = phone
    order.receiver.country = country
    return check_phone(order)


# phones


def test_the_fixture_order_passes_every_check() -> None:
    order = make_order()
    assert check_order(order) == []
    assert check_phone(order) == []


@pytest.mark.parametrize(
    ("phone", "country"),
    [
        ("13812348000", "CN"),
        ("138 1234 8000", "CN"),
        ("138-1234-8000", "CN"),
        ("+86 138 1234 8000", "CN"),
        ("+86-13812348000", "CN"),
        ("0571-88888888", "CN"),
        ("(415) 555-2671", "US"),
        ("+1 415-555-2671", "US"),
        ("020 7946 0958", "GB"),
        ("030 901820", "DE"),
        ("+44 20 7946 0958", "CN"),  # a buyer abroad gives their own mobile for a gift
    ],
)
def test_real_numbers_of_the_receivers_country_pass(phone: str, country: str) -> None:
    assert with_phone(phone, country) == []


@pytest.mark.parametrize(
    ("phone", "country", "shown"),
    [
        ("138-0000", "CN", "138****0000"),
        ("12345", "US", "*****"),
        ("555-0100", "US", "555****0100"),
        ("1381234800", "CN", "138****4800"),  # a mobile number missing a digit
        ("not a phone", "DE", "not****hone"),
    ],
)
def test_a_number_that_cannot_be_dialled_in_the_country_is_reported_masked(
    phone: str, country: str, shown: str
) -> None:
    [problem] = with_phone(phone, country)
    assert (problem.code, problem.field, problem.severity) == (
        "invalid_phone",
        "receiver.phone",
        "error",
    )
    assert problem.message == f"{shown} is not a valid phone number in {country}"


COUNTRIES = ["CN", "US", "CA", "GB", "DE", "JP", "AU", "HK", "SG", "KZ", "RU"]


@st.composite
def written_phones(draw: st.DrawFn) -> tuple[str, str]:
    """A receiver's country and a phone as buyers write them: a real number of some
    country with its last digits changed (valid or not), nationally or with a prefix."""
    country, home = draw(st.sampled_from(COUNTRIES)), draw(st.sampled_from(COUNTRIES))
    kind = draw(st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, None]))
    example = (
        phonenumbers.example_number_for_type(home, kind)
        if kind is not None
        else phonenumbers.example_number(home)
    )
    national = phonenumbers.national_significant_number(example)
    kept = draw(st.integers(0, len(national)))
    digits = national[:kept] + draw(st.text("0123456789", max_size=len(national) - kept + 1))
    written = draw(st.sampled_from(["national", "+", "00", "0"]))
    code = str(example.country_code)
    raw = {"national": digits, "+": f"+{code} {digits}", "00": f"00{code}{digits}"}.get(
        written, "0" + digits
    )
    return raw, country


@settings(max_examples=400, deadline=None)
@given(written_phones())
def test_a_phone_passes_when_valid_and_of_the_country_unless_written_with_a_prefix(
    phone: tuple[str, str],
) -> None:
    raw, country = phone
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        number = None
    abroad = raw.startswith(("+", "00"))
    passes = not raw.strip() or (  # an empty phone is left to check_order
        number is not None
        and phonenumbers.is_valid_number(number)
        and (abroad or phonenumbers.is_valid_number_for_region(number, country))
    )
    assert (with_phone(raw, country) == []) is passes


def test_an_empty_phone_or_unknown_country_is_left_to_the_other_checks() -> None:
    assert with_phone("", "CN") == []
    assert with_phone("13812348000", "China") == []


# ship-by


def test_an_order_past_its_ship_by_time_is_a_warning_not_a_hold() -> None:
    order = make_order(ship_by=NOW - timedelta(hours=3))
    [problem] = check_ship_by(order, NOW)
    assert (problem.code, problem.severity, problem.field) == (
        "ship_by_passed",
        "warning",
        "ship_by",
    )
    assert "2026-11-11 07:00 UTC, 3 h ago" in problem.message


def test_ship_by_in_the_future_shipped_or_absent_raises_nothing() -> None:
    assert check_ship_by(make_order(ship_by=NOW + timedelta(minutes=1)), NOW) == []
    assert check_ship_by(make_order(), NOW) == []
    shipped = make_order(ship_by=NOW - timedelta(days=1), status=OrderStatus.SHIPPED)
    assert check_ship_by(shipped, NOW) == []


# duplicates


def candidate(no: str, at: datetime, skus: dict[str, int], total: str) -> DuplicateCandidate:
    return DuplicateCandidate(no, at, skus, Decimal(total))


def test_same_lines_and_total_within_a_day_is_a_possible_duplicate() -> None:
    placed = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    order = make_order(channel_order_id="1002", lines=[("SKU-1", 2)], placed_at=placed)
    earlier = [
        candidate("1001", placed - timedelta(hours=2), {"SKU-1": 2}, "20.00"),
        candidate("0999", placed - timedelta(hours=30), {"SKU-1": 2}, "20.00"),
    ]
    [problem] = check_duplicate(order, earlier)
    assert problem.code == "possible_duplicate"
    assert "order 1001" in problem.message


@pytest.mark.parametrize(
    ("skus", "total", "hours_before"),
    [
        ({"SKU-1": 3}, "30.00", 1),  # other quantity
        ({"SKU-1": 2}, "25.00", 1),  # other total
        ({"SKU-1": 2, "SKU-2": 1}, "20.00", 1),  # other lines
        ({"SKU-1": 2}, "20.00", 25),  # outside the window
    ],
)
def test_other_lines_totals_or_older_orders_are_not_duplicates(
    skus: dict[str, int], total: str, hours_before: int
) -> None:
    placed = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    order = make_order(channel_order_id="1002", lines=[("SKU-1", 2)], placed_at=placed)
    earlier = [candidate("1001", placed - timedelta(hours=hours_before), skus, total)]
    assert check_duplicate(order, earlier) == []


def test_an_order_is_not_a_duplicate_of_itself_and_the_window_is_a_parameter() -> None:
    order = make_order(channel_order_id="1001", lines=[("SKU-1", 2)])
    assert check_duplicate(order, [DuplicateCandidate.of(order)]) == []
    other = make_order(channel_order_id="1002", lines=[("SKU-1", 2)])
    earlier = [DuplicateCandidate.of(order)]
    assert check_duplicate(other, earlier)
    moved = candidate("1001", order.placed_at - timedelta(hours=2), {"SKU-1": 2}, "20.00")
    assert check_duplicate(other, [moved], window=timedelta(hours=1)) == []


# SLA


@pytest.mark.parametrize(
    ("ship_by", "state"),
    [
        (NOW + timedelta(hours=6, seconds=1), "ok"),
        (NOW + timedelta(hours=6), "at_risk"),
        (NOW + timedelta(seconds=1), "at_risk"),
        (NOW, "overdue"),
        (NOW - timedelta(days=2), "overdue"),
    ],
)
def test_sla_state_at_its_boundaries(ship_by: datetime, state: str) -> None:
    assert sla_state("pushed", ship_by, NOW, at_risk_before=timedelta(hours=6)) == state


@pytest.mark.parametrize("status", ["shipped", "completed", "cancelling", "cancelled"])
def test_orders_that_left_or_never_will_have_no_sla_state(status: str) -> None:
    overdue = NOW - timedelta(hours=1)
    assert sla_state(status, overdue, NOW, at_risk_before=timedelta(hours=6)) is None
    assert sla_state("held", None, NOW, at_risk_before=timedelta(hours=6)) is None


# exception catalogue


def test_each_exception_code_allows_only_the_actions_that_resolve_it() -> None:
    assert allowed_actions("unknown_sku") == (Action.MAP_SKU, Action.CANCEL, Action.DISMISS)
    assert Action.FIX_ADDRESS in allowed_actions("invalid_phone")
    assert check_action("out_of_stock", "release") is Action.RELEASE
    with pytest.raises(ActionNotAllowed, match="'fix_address' does not resolve this unknown_sku"):
        check_action("unknown_sku", "fix_address")
    with pytest.raises(ActionNotAllowed, match="allowed: retry"):
        check_action("malformed_payload", "explode")


# digest


def test_a_burst_of_one_alert_reads_as_one_line_with_its_count_and_times() -> None:
    [alert] = held_alerts(
        "s1", [Problem("unknown_sku", "SKU 'SKU-9' is not one of ours and has no mapping")]
    )
    burst = Alert(
        alert.kind,
        alert.key,
        alert.message,
        alert.severity,
        alert.data,
        count=500,
        first_at=datetime(2026, 11, 11, 10, 2, tzinfo=UTC),
        last_at=datetime(2026, 11, 11, 10, 6, tzinfo=UTC),
    )
    assert describe(burst) == (
        "orders held: unknown_sku (SKU 'SKU-9' is not one of ours and has no mapping; shop s1)"
        " ×500; first at 10:02, last at 10:06"
    )
    digest = make_digest([burst])
    assert digest.subject == "[orderhub] 500 × order_held"
    assert "×500; first at 10:02, last at 10:06" in digest.text


def test_a_digest_groups_alerts_by_kind_and_names_the_first_ones() -> None:
    at = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)
    risky = [
        Alert("sla_at_risk", f"sla_at_risk:o{i}", f"order {i} must ship soon", first_at=at)
        for i in range(25)
    ]
    late = Alert("sla_overdue", "sla_overdue:o99", "order 99 missed ship-by", "error", first_at=at)
    digest = make_digest([*risky, late])
    assert [(g.kind, g.count, len(g.alerts)) for g in digest.groups] == [
        ("sla_at_risk", 25, 25),
        ("sla_overdue", 1, 1),
    ]
    assert digest.subject == "[orderhub] 25 × sla_at_risk, 1 × sla_overdue"
    assert digest.severity == "error"
    assert "- order 19 must ship soon (at 10:00)" in digest.text
    assert "order 20 must ship soon" not in digest.text
    assert "- … and 5 more" in digest.text
    assert "- order 99 missed ship-by (at 10:00)" in digest.text


def test_warnings_do_not_alert_as_holds() -> None:
    problems = [
        Problem("ship_by_passed", "late", "ship_by", "warning"),
        Problem("out_of_stock", "not enough SKU-1", "lines"),
        Problem("out_of_stock", "not enough SKU-1", "lines"),
    ]
    assert [a.key for a in held_alerts("s1", problems)] == ["held:s1:out_of_stock:not enough SKU-1"]


def test_receiver_can_be_an_address_with_a_foreign_phone() -> None:
    order = make_order(receiver=Address(name="A", phone="+1 415 555 2671", country="CN", city="x"))
    assert check_phone(order) == []
