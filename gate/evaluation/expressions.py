"""Compiled JMESPath expressions and message templates, checked at load time.

JMESPath itself finds an unknown function or a wrong argument count only when
an expression runs, which may be never for the resources at hand; a gate must
reject a broken policy before evaluating anything, so the syntax tree is
checked here.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath import exceptions as jexc

from gate.evaluation.functions import GateFunctions, function_arity, render_value
from gate.evaluation.jmescompile import NotCompilable, compile_tree
from gate.evaluation.regexes import RegexError, compile_regex

FUNCTIONS = GateFunctions()
OPTIONS = jmespath.Options(custom_functions=FUNCTIONS)
_ARITY = function_arity()
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class ExpressionError(ValueError):
    """An expression that cannot be compiled, with a message for the policy author."""


@dataclass(frozen=True)
class References:
    """Names that scope functions refer to by literal, for load-time checks."""

    params: frozenset[str]
    vars: frozenset[str]
    functions: frozenset[str] = frozenset()  # every function called


class Expression:
    """A JMESPath expression compiled once, run against many subjects."""

    __slots__ = ("_parsed", "references", "search", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._parsed = jmespath.compile(source)
        except jexc.ParseError as exc:
            column = getattr(exc, "lex_position", None)
            where = f" at column {column + 1}" if isinstance(column, int) else ""
            raise ExpressionError(
                f"invalid JMESPath {source!r}{where}: {exc.msg if hasattr(exc, 'msg') else exc}"
            ) from None
        except jexc.JMESPathError as exc:
            raise ExpressionError(f"invalid JMESPath {source!r}: {exc}") from None
        params: set[str] = set()
        variables: set[str] = set()
        called: set[str] = set()
        for node in _walk(self._parsed.parsed):
            if node.get("type") == "function_expression":
                _check_call(node, source, params, variables)
                called.add(node["value"])
        self.references = References(frozenset(params), frozenset(variables), frozenset(called))
        self.search: Callable[[Any], Any]
        try:
            self.search = compile_tree(self._parsed.parsed, FUNCTIONS)
        except NotCompilable:
            self.search = self._interpret

    def _interpret(self, subject: Any) -> Any:
        return self._parsed.search(subject, options=OPTIONS)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.get("children", ()))


def _check_call(node: dict[str, Any], source: str, params: set[str], variables: set[str]) -> None:
    name = node["value"]
    args = node.get("children", [])
    if name not in _ARITY:
        raise ExpressionError(f"unknown function {name}() in {source!r}")
    least, most = _ARITY[name]
    if len(args) < least or (most is not None and len(args) > most):
        expected = str(least) if least == most else f"{least} to {most if most else 'any'}"
        raise ExpressionError(
            f"{name}() takes {expected} argument(s), {len(args)} given in {source!r}"
        )
    if name in ("param", "var"):
        literal = args[0] if args else None
        if not (isinstance(literal, dict) and literal.get("type") == "literal"
                and isinstance(literal.get("value"), str)):
            raise ExpressionError(f"{name}() needs a quoted name, e.g. {name}('x'), in {source!r}")
        (params if name == "param" else variables).add(literal["value"])
    if name == "regex_match" and args and args[0].get("type") == "literal":
        pattern = args[0].get("value")
        try:
            compile_regex(pattern)
        except (RegexError, TypeError) as exc:
            raise ExpressionError(
                f"regex_match(): invalid regular expression {pattern!r} in {source!r}: {exc}"
            ) from None


class Template:
    """Text with ``{{ expression }}`` parts evaluated against the subject."""

    __slots__ = ("_parts", "references", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._parts: list[str | Expression] = []
        params: set[str] = set()
        variables: set[str] = set()
        called: set[str] = set()
        position = 0
        for match in _TEMPLATE.finditer(source):
            self._parts.append(source[position:match.start()])
            expression = Expression(match.group(1).strip())
            params |= expression.references.params
            variables |= expression.references.vars
            called |= expression.references.functions
            self._parts.append(expression)
            position = match.end()
        self._parts.append(source[position:])
        self.references = References(frozenset(params), frozenset(variables), frozenset(called))

    def render(self, subject: Any) -> str:
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
            else:
                try:
                    out.append(render_value(part.search(subject)))
                except jexc.JMESPathError as exc:
                    out.append(f"<{exc}>")
        return "".join(out)
