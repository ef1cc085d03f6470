"""A mapping's JMESPath expressions turned into Python functions once, when the mapping
is loaded.

JMESPath's interpreter walks an expression's tree on every call, a method look-up per
node; for the few expressions of every order (`cancelled_at && 'cancelled' ||
financial_status`) that walk cost more than the rest of the field's reading. The nodes
mappings use most (fields, paths, `||`, `&&`, `!`, literals, lists, functions) become
nested closures that read exactly as the interpreter reads them; any other node
(projections, filters, comparisons) is read by the interpreter, from that node down.

    compile_expression("a.b || 'none'").search({"a": {"b": ""}})  -> 'none'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jmespath
from jmespath import functions
from jmespath.visitor import TreeInterpreter

__all__ = ["Expression", "compile_expression"]

if TYPE_CHECKING:
    from jmespath.visitor import _TreeNode as Node

Reader = Callable[[Any], Any]

_INTERPRETER = TreeInterpreter()
_FUNCTIONS = functions.Functions()


def _is_false(value: Any) -> bool:
    """JMESPath's false: null, false, and an empty text, list or object (0 is true)."""
    return value == "" or value == [] or value == {} or value is None or value is False


class Expression:
    """One compiled expression; `search(value)` as `jmespath.compile(...).search`."""

    def __init__(self, text: str) -> None:
        self._read = _compile(jmespath.compile(text).parsed)

    def search(self, value: Any) -> Any:
        return self._read(value)


def compile_expression(text: str) -> Expression:
    """Raises jmespath's own errors for an expression it cannot parse."""
    return Expression(text)


def _compile(node: Node) -> Reader:
    build = _BUILDERS.get(node["type"])
    if build is None:
        return _interpreted(node)
    return build(node)


def _interpreted(node: Node) -> Reader:
    def read(value: Any) -> Any:
        return _INTERPRETER.visit(node, value)

    return read


def _field(node: Node) -> Reader:
    name = node["value"]

    def read(value: Any) -> Any:
        return value.get(name) if isinstance(value, dict) else None

    return read


def _subexpression(node: Node) -> Reader:
    if all(child["type"] == "field" for child in node["children"]):
        names = tuple(child["value"] for child in node["children"])

        def read_keys(value: Any) -> Any:
            for name in names:
                if not isinstance(value, dict):
                    return None
                value = value.get(name)
            return value

        return read_keys
    steps = [_compile(child) for child in node["children"]]

    def read(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return read


def _or(node: Node) -> Reader:
    left, right = (_compile(child) for child in node["children"])

    def read(value: Any) -> Any:
        found = left(value)
        return right(value) if _is_false(found) else found

    return read


def _and(node: Node) -> Reader:
    left, right = (_compile(child) for child in node["children"])

    def read(value: Any) -> Any:
        found = left(value)
        return found if _is_false(found) else right(value)

    return read


def _not(node: Node) -> Reader:
    (child,) = (_compile(child) for child in node["children"])

    def read(value: Any) -> Any:
        return _is_false(child(value))

    return read


def _literal(node: Node) -> Reader:
    constant = node["value"]

    def read(value: Any) -> Any:
        return constant

    return read


def _current(node: Node) -> Reader:
    def read(value: Any) -> Any:
        return value

    return read


def _list(node: Node) -> Reader:
    items = [_compile(child) for child in node["children"]]

    def read(value: Any) -> Any:
        return None if value is None else [item(value) for item in items]

    return read


def _function(node: Node) -> Reader:
    if any(child["type"] == "expref" for child in node["children"]):
        return _interpreted(node)  # `sort_by(items, &price)` hands the tree over
    name = node["value"]
    arguments = [_compile(child) for child in node["children"]]

    def read(value: Any) -> Any:
        return _FUNCTIONS.call_function(name, [argument(value) for argument in arguments])

    return read


_BUILDERS: dict[str, Callable[[Node], Reader]] = {
    "field": _field,
    "subexpression": _subexpression,
    "or_expression": _or,
    "and_expression": _and,
    "not_expression": _not,
    "literal": _literal,
    "current": _current,
    "identity": _current,
    "multi_select_list": _list,
    "function_expression": _function,
}
