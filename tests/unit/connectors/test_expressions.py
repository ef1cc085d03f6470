"""A mapping's expressions, compiled once, read every payload exactly as JMESPath reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jmespath
import jmespath.exceptions
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

import orderhub.connectors
from orderhub.connectors.expressions import compile_expression


def _paths_in(spec: Any) -> list[str]:
    if isinstance(spec, dict):
        found = [spec["path"]] if isinstance(spec.get("path"), str) else []
        return found + [p for key, v in spec.items() if key != "path" for p in _paths_in(v)]
    if isinstance(spec, list):
        return [p for v in spec for p in _paths_in(v)]
    return []


_MAPPINGS = sorted(Path(orderhub.connectors.__file__).parent.glob("*/mapping.yaml"))
_SHIPPED = sorted({p for f in _MAPPINGS for p in _paths_in(yaml.safe_load(f.read_text()))})
# Every name the shipped expressions read, so generated payloads hit them.
_NAMES = sorted(
    {
        name
        for expression in _SHIPPED
        for name in __import__("re").findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)
    }
)


def _outcome(read: Any, raw: Any) -> tuple[str, Any]:
    try:
        return "value", read(raw)
    except (jmespath.exceptions.JMESPathError, TypeError, ValueError) as exc:
        return "error", type(exc).__name__  # JMESPath's own `0 > 'x'` is a TypeError


def _same(expression: str, raw: Any) -> None:
    compiled = compile_expression(expression)
    reference = jmespath.compile(expression)
    assert _outcome(compiled.search, raw) == _outcome(reference.search, raw)


_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-2, 5)
    | st.floats(allow_nan=False, allow_infinity=False, width=16)
    | st.sampled_from(["", "0", "paid", "2", "SUCCESS", "$x", "0001-01-01 00:00:00"])
)


def _payloads(names: list[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        _LEAVES,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(names), inner, max_size=5)
        ),
        max_leaves=25,
    )


def test_the_shipped_mappings_have_expressions_beyond_plain_paths() -> None:
    assert len(_MAPPINGS) >= 8
    assert any("&&" in e for e in _SHIPPED) and any("join(" in e for e in _SHIPPED)


@pytest.mark.parametrize("expression", _SHIPPED)
@settings(max_examples=25, deadline=None)
@given(raw=_payloads(_NAMES))
def test_every_shipped_expression_reads_what_jmespath_reads(expression: str, raw: Any) -> None:
    _same(expression, raw)


_KEYS = ["a", "b", "c"]
_ATOMS = st.sampled_from(
    ["a", "b", "a.b", "c.a.b", "@", "`0`", "`null`", "'x'", "''", "`[]`", "`{}`", "`true`"]
)
_FUNCTIONS = ["length", "to_string", "type", "not_null", "contains", "join", "starts_with"]


def _expressions() -> st.SearchStrategy[str]:
    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return (
            st.tuples(inner, st.sampled_from([" || ", " && ", " == ", " > "]), inner).map("".join)
            | inner.map(lambda e: f"!({e})")
            | st.lists(inner, min_size=1, max_size=3).map(lambda es: f"[{', '.join(es)}]")
            | st.tuples(st.sampled_from(_FUNCTIONS), st.lists(inner, min_size=1, max_size=2)).map(
                lambda f: f"{f[0]}({', '.join(f[1])})"
            )
            | inner.map(lambda e: f"({e})")
        )

    return st.recursive(_ATOMS, grow, max_leaves=6)


@settings(max_examples=400, deadline=None)
@given(_expressions(), _payloads(_KEYS))
@example("a || b", {"a": 0, "b": 1})  # 0 is true
@example("a && b", {"a": 0, "b": 1})
@example("!a", {"a": 0})
@example("!a", {"a": False})
@example("a && b || c", {"a": [], "b": 1, "c": ""})
@example("join(', ', [a, b][?@])", {"a": "x", "b": None})
@example("[a, b]", None)
def test_any_expression_reads_what_jmespath_reads(expression: str, raw: Any) -> None:
    _same(expression, raw)


def test_an_expression_jmespath_cannot_parse_is_refused_when_compiled() -> None:
    with pytest.raises(jmespath.exceptions.ParseError):
        compile_expression("a ||")
