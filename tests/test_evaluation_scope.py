"""The evaluation scope: what ``param()``, ``resource()``, ``item()``, ``var()`` and the
context functions read, set by ``EvaluationScope`` blocks only, each bringing back the
enclosing scope on exit."""
from __future__ import annotations

import textwrap

import pytest

from gate.evaluation.context import Context
from gate.evaluation.evaluate import evaluate
from gate.evaluation.expressions import Expression
from gate.evaluation.functions import EvaluationScope
from gate.evaluation.policy_compile import load_policy_text
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile

SCOPE = Expression("[resource(), param('p'), item(), var('v')]")

POLICY = textwrap.dedent("""\
    apiVersion: gate.dev/v1
    kind: Policy
    id: scoped
    title: A policy reading its scope
    description: Its message shows what the scope functions answer.
    rationale: The scope of one resource must not leak into the next.
    remediation: None.
    severity: high
    parameters:
      p: {description: A parameter., default: 7}
    let:
      name: metadata.name
    rules:
      - name: scope
        for_each: spec.items
        let:
          item_value: "@"
        assert: "`false`"
        message: "{{ var('name') }} {{ param('p') }} {{ var('item_value') }} {{ resource().kind }}"
    """)

MANIFESTS = textwrap.dedent("""\
    apiVersion: v1
    kind: Thing
    metadata: {name: first}
    spec: {items: [a, b]}
    ---
    apiVersion: v1
    kind: Other
    metadata: {name: second}
    spec: {items: [c]}
    """)


def test_a_block_sets_what_it_names_and_keeps_the_rest() -> None:
    with EvaluationScope(resource={"kind": "R"}, params={"p": 1}, item="i", vars={"v": 2}):
        assert SCOPE.search({}) == [{"kind": "R"}, 1, "i", 2]
        with EvaluationScope(item="j"):
            assert SCOPE.search({}) == [{"kind": "R"}, 1, "j", 2]
        assert SCOPE.search({}) == [{"kind": "R"}, 1, "i", 2]


def test_the_enclosing_scope_is_back_after_an_error() -> None:
    before = SCOPE.search({})
    with pytest.raises(RuntimeError), EvaluationScope(resource=1, params={"p": 2}, vars={}):
        raise RuntimeError("evaluation failed")
    assert SCOPE.search({}) == before


def test_judge_and_focus_move_a_scope_within_its_block() -> None:
    with EvaluationScope() as scope:
        scope.judge({"kind": "R"}, {"p": 3}, {"v": 4})
        assert SCOPE.search({}) == [{"kind": "R"}, 3, {"kind": "R"}, 4]
        scope.focus("item", {"v": 5})
        assert SCOPE.search({}) == [{"kind": "R"}, 3, "item", 5]


def test_the_context_is_the_evaluations_and_gone_after_it() -> None:
    lookup = Expression("lookup('Thing', '', 'first').metadata.name")
    resources = [r for r in read_resources(SourceFile("things.yaml", MANIFESTS))
                 if isinstance(r, Resource)]
    with EvaluationScope(context=Context([r.obj for r in resources])):
        assert lookup.search(None) == "first"
    with EvaluationScope(context=None):
        assert lookup.search(None) is None


def test_each_resource_and_item_sees_its_own_scope_and_none_leaks_out() -> None:
    [policy] = load_policy_text(POLICY, "policies/scoped.yaml")
    resources = [r for r in read_resources(SourceFile("things.yaml", MANIFESTS))
                 if isinstance(r, Resource)]
    before = SCOPE.search({})
    results = evaluate([policy], resources, "info")
    assert [r.message for r in results] == ["first 7 a Thing", "first 7 b Thing",
                                            "second 7 c Other"]
    assert SCOPE.search({}) == before
