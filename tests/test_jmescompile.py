"""The closure compiler agrees with jmespath's own interpreter, its reference."""
from __future__ import annotations

from typing import Any

import jmespath
import pytest
from jmespath import exceptions as jexc

from gate.evaluation.expressions import FUNCTIONS, OPTIONS
from gate.evaluation.functions import EvaluationScope
from gate.evaluation.jmescompile import NotCompilable, compile_tree

DATA: list[Any] = [
    None, 0, 1, -2.5, "", "text", [], {}, True, False,
    {"a": 1, "b": [1, 2, 3], "c": {"d": "x", "e": None}, "s": "abc", "z": 0},
    {"items": [{"name": "a", "n": 1, "tags": ["x", "y"]}, {"name": "b", "n": 0},
               {"name": "c", "n": None, "tags": []}, 7, "str"]},
    [{"a": 1}, {"a": [2, 3]}, {"b": 4}, [5, [6]], None],
    {"m": {"k1": {"v": 1}, "k2": {"v": 2}, "k3": 3}},
]

EXPRESSIONS = [
    "a", "a.b", "b[0]", "b[-1]", "b[5]", "b[1:]", "b[::-1]", "b[:2]", "c.d", "c.e", "@",
    "items[*].name", "items[].name", "items[?n > `0`].name", "items[?n].name",
    "items[?!n].name", "items[?tags].tags[]", "items[*].tags[]", "[*].a", "[].a", "[][]",
    "m.*.v", "m.*", "*.v", "a == `1`", "a != `1`", "a < `2`", "s < `2`", "a >= b",
    "s == 'abc'", "z || 'default'", "a && s", "!z", "!a", "!s", "!''", "![]",
    "{x: a, y: s}", "[a, s, missing]", "length(b)", "length(@)", "keys(m)",
    "contains(b, `2`)", "join(', ', items[*].name)", "items | [0].name", "b | length(@)",
    "max(b)", "to_string(a)", "type(@)", "not_null(missing, a)", "items[?n == `0`] | [0]",
    "containers(@)", "get(@, 'a')", "get(@, ['c', 'd'])", "split(s, 'b')",
    "regex_match('^a', s)", "quantity('100m')", "image_ref('nginx:1.2')",
    "`{\"k\": [1, 2]}`.k[1]", "'lit'", "m.k1.v > `0` && m.k2.v < `3`",
]


def interpret(expression: str, data: Any) -> tuple[str, Any]:
    try:
        return "ok", jmespath.compile(expression).search(data, options=OPTIONS)
    except jexc.JMESPathError as exc:
        return "error", type(exc).__name__
    except TypeError:
        # jmespath.py compares a string with a number by raising TypeError;
        # the compiled form answers null, as for other incomparable types.
        return "ok", None


def compiled(expression: str, data: Any) -> tuple[str, Any]:
    function = compile_tree(jmespath.compile(expression).parsed, FUNCTIONS)
    try:
        return "ok", function(data)
    except jexc.JMESPathError as exc:
        return "error", type(exc).__name__


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_compiled_matches_interpreter(expression: str) -> None:
    for data in DATA:
        assert compiled(expression, data) == interpret(expression, data), (expression, data)


def test_expression_references_are_left_to_the_interpreter() -> None:
    with pytest.raises(NotCompilable):
        compile_tree(jmespath.compile("sort_by(items, &name)").parsed, FUNCTIONS)


def test_builtin_policy_expressions_agree_on_real_resources() -> None:
    from gate.evaluation.policy_loading import load_builtin
    from gate.loading.resources import Resource, read_resources
    from gate.loading.sources import SourceFile

    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\n"
        "  labels: {app.kubernetes.io/name: w}\nspec:\n  template:\n"
        "    metadata: {labels: {app: w}}\n    spec:\n      containers:\n"
        "        - {name: a, image: 'r:5000/a', resources: {limits: {cpu: '0'}}}\n"
        "        - {name: b, image: 'b:latest@sha256:" + "a" * 64 + "'}\n"
        "      initContainers: [{name: i, image: 7}]\n"
    )
    resources = [r for r in read_resources(SourceFile("x.yaml", text)) if isinstance(r, Resource)]
    for policy in load_builtin():
        with EvaluationScope(params=policy.params, resource=resources[0].obj):
            for rule in policy.rules:
                for expression in rule.expressions():
                    if hasattr(expression, "_interpret"):
                        subject = resources[0].obj
                        assert outcome(expression.search, subject) == outcome(
                            expression._interpret, subject
                        )


def outcome(function: Any, subject: Any) -> tuple[str, Any]:
    try:
        return "ok", function(subject)
    except jexc.JMESPathError as exc:
        return "error", str(exc)
