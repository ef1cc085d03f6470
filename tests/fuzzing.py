"""Strategies and settings shared by the fuzz tests of what comes in from outside.

Values no real sender writes but a broken or hostile one might: wrong types, numbers too
large for any column (`1e300000`, `10**400`, `Infinity`), lone surrogates, long texts.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = ["EXAMPLES", "FUZZ", "json_values", "texts"]

EXAMPLES = 250  # on each database: 500 signed bodies per protocol in all

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""One hub per database, reused across the examples; no timings asserted."""

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "1e300000", "9" * 400, "Infinity", "NaN", "1.5", "２"]),
    st.text(min_size=300, max_size=3000, alphabet="xyz顺丰"),
)
"""A text field's value: short, number-like, or thousands of characters long."""

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from([2**63, -(2**63) - 1, 10**400, "1e300000", "Infinity", "\ud800"])
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
"""Any JSON value, hostile numbers and a lone surrogate among the leaves."""
