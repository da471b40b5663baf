"""JMESPath syntax trees compiled to Python closures.

jmespath.py interprets its syntax tree anew on every search, dispatching on
each node; a policy expression runs once per resource or container, so that
dispatch is the hot path of a large check. This compiles the tree once into
nested closures with the same semantics as ``jmespath.visitor.TreeInterpreter``
(which stays the reference: tests compare the two). Trees with expression
references (``&expr``, for ``sort_by`` and friends) are left to the interpreter.
"""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

Compiled = Callable[[Any], Any]
_NUMBERS = (int, float)
_ORDERED = (int, float, str)
_SIZED = (str, list, dict)


class NotCompilable(Exception):
    """The tree uses a node type this compiler leaves to the interpreter."""


# The interpreter's helpers (jmespath.visitor._equals, _is_comparable, ...) test for
# numbers.Number, an abstract class whose isinstance is slow; parsed data holds only
# the builtin types, tested here by exact type.


def is_false(value: Any) -> bool:
    return value is None or value is False or (type(value) in _SIZED and not value)


def _equals(left: Any, right: Any) -> bool:
    """JMESPath equality: as Python's, except that a boolean never equals a number."""
    if type(left) is not type(right) and (type(left) is bool or type(right) is bool):
        return False
    return bool(left == right)


def _is_comparable(value: Any) -> bool:
    return type(value) in _ORDERED


def _is_actual_number(value: Any) -> bool:
    return type(value) in _NUMBERS


def compile_tree(node: dict[str, Any], functions: Any) -> Compiled:
    """A closure computing ``node`` for a value; raises NotCompilable."""
    builder = _BUILDERS.get(node["type"])
    if builder is None:
        raise NotCompilable(node["type"])
    return builder(node, functions)


def _children(node: dict[str, Any], functions: Any) -> list[Compiled]:
    return [compile_tree(child, functions) for child in node["children"]]


def _field(node: dict[str, Any], functions: Any) -> Compiled:
    key = node["value"]

    def field(value: Any) -> Any:
        return value.get(key) if isinstance(value, dict) else None

    return field


def _chain(node: dict[str, Any], functions: Any) -> Compiled:
    steps = _children(node, functions)
    if len(steps) == 2:
        first, second = steps
        return lambda value: second(first(value))

    def chain(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chain


def _comparator(node: dict[str, Any], functions: Any) -> Compiled:
    left, right = _children(node, functions)
    op = node["value"]
    if op == "eq":
        return lambda value: _equals(left(value), right(value))
    if op == "ne":
        return lambda value: not _equals(left(value), right(value))
    compare = {"lt": operator.lt, "gt": operator.gt, "lte": operator.le, "gte": operator.ge}[op]

    def ordering(value: Any) -> Any:
        a, b = left(value), right(value)
        if not (_is_comparable(a) and _is_comparable(b)):
            return None
        if isinstance(a, str) != isinstance(b, str):
            return None  # the interpreter raises a bare TypeError here
        return compare(a, b)

    return ordering


def _current(node: dict[str, Any], functions: Any) -> Compiled:
    return lambda value: value


def _literal(node: dict[str, Any], functions: Any) -> Compiled:
    constant = node["value"]
    return lambda value: constant


def _function(node: dict[str, Any], functions: Any) -> Compiled:
    name = node["value"]
    args = _children(node, functions)
    own = getattr(functions, "_gate_functions", {}).get(name)
    if own is not None:
        # gate's own functions: bound once here, with no per-call signature checks (their
        # arity is checked at load time and they accept any types).
        method = own.__get__(functions)
        if not args:
            return lambda value: method()
        if len(args) == 1:
            (first,) = args
            return lambda value: method(first(value))
        if len(args) == 2:
            first, second = args
            return lambda value: method(first(value), second(value))
        return lambda value: method(*[arg(value) for arg in args])
    call = functions.call_function
    if not args:
        return lambda value: call(name, [])
    if len(args) == 1:
        (only,) = args
        return lambda value: call(name, [only(value)])
    return lambda value: call(name, [arg(value) for arg in args])


def _filter_projection(node: dict[str, Any], functions: Any) -> Compiled:
    base, project, condition = _children(node, functions)

    def filter_projection(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        collected = []
        for element in items:
            if not is_false(condition(element)):
                current = project(element)
                if current is not None:
                    collected.append(current)
        return collected

    return filter_projection


def _flatten(node: dict[str, Any], functions: Any) -> Compiled:
    (base,) = _children(node, functions)

    def flatten(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        merged: list[Any] = []
        for element in items:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged

    return flatten


def _index(node: dict[str, Any], functions: Any) -> Compiled:
    position = node["value"]

    def index(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[position]
        except IndexError:
            return None

    return index


def _slice(node: dict[str, Any], functions: Any) -> Compiled:
    bounds = slice(*node["children"])
    return lambda value: value[bounds] if isinstance(value, list) else None


def _key_val_pair(node: dict[str, Any], functions: Any) -> Compiled:
    (inner,) = _children(node, functions)
    return inner


def _multi_select_dict(node: dict[str, Any], functions: Any) -> Compiled:
    pairs = [(child["value"], compile_tree(child, functions)) for child in node["children"]]

    def multi_select_dict(value: Any) -> Any:
        if value is None:
            return None
        return {key: compute(value) for key, compute in pairs}

    return multi_select_dict


def _multi_select_list(node: dict[str, Any], functions: Any) -> Compiled:
    parts = _children(node, functions)
    return lambda value: None if value is None else [part(value) for part in parts]


def _or(node: dict[str, Any], functions: Any) -> Compiled:
    left, right = _children(node, functions)

    def either(value: Any) -> Any:
        matched = left(value)
        return right(value) if is_false(matched) else matched

    return either


def _and(node: dict[str, Any], functions: Any) -> Compiled:
    left, right = _children(node, functions)

    def both(value: Any) -> Any:
        matched = left(value)
        return matched if is_false(matched) else right(value)

    return both


def _not(node: dict[str, Any], functions: Any) -> Compiled:
    (inner,) = _children(node, functions)

    def negate(value: Any) -> Any:
        result = inner(value)
        if _is_actual_number(result) and result == 0:
            return False  # !0 is false: 0 is not falsy in JMESPath
        return not result

    return negate


def _projection(node: dict[str, Any], functions: Any) -> Compiled:
    base, project = _children(node, functions)

    def projection(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        collected = []
        for element in items:
            current = project(element)
            if current is not None:
                collected.append(current)
        return collected

    return projection


def _value_projection(node: dict[str, Any], functions: Any) -> Compiled:
    base, project = _children(node, functions)

    def value_projection(value: Any) -> Any:
        source = base(value)
        if not isinstance(source, dict):
            return None
        collected = []
        for element in source.values():
            current = project(element)
            if current is not None:
                collected.append(current)
        return collected

    return value_projection


_BUILDERS: dict[str, Callable[[dict[str, Any], Any], Compiled]] = {
    "field": _field,
    "subexpression": _chain,
    "index_expression": _chain,
    "pipe": _chain,
    "comparator": _comparator,
    "current": _current,
    "identity": _current,
    "literal": _literal,
    "function_expression": _function,
    "filter_projection": _filter_projection,
    "flatten": _flatten,
    "index": _index,
    "slice": _slice,
    "key_val_pair": _key_val_pair,
    "multi_select_dict": _multi_select_dict,
    "multi_select_list": _multi_select_list,
    "or_expression": _or,
    "and_expression": _and,
    "not_expression": _not,
    "projection": _projection,
    "value_projection": _value_projection,
}
