"""Language conveniences found while porting peer policies: presence and "unset or"
tests, concat/format, a policy's own let, on_empty, extends, Pod Security profiles,
--policies FILE, and regular expressions that differ from Go's RE2."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gate.config import Config, apply_config, profile_settings
from gate.errors import PolicyError
from gate.evaluation.expressions import Expression, ExpressionError
from gate.evaluation.policy import Policy
from gate.evaluation.policy_assembly import assemble
from gate.evaluation.policy_compile import load_policy_text
from gate.evaluation.policy_loading import load_builtin
from gate.evaluation.regexes import RegexError, compile_regex, re2_difference
from gate.governance.judging import policy_inputs
from gate.results import FAIL, PASS, SKIP, WARN
from tests.conftest import RunGate
from tests.test_policy_engine import check, found, head, policy

POD = """\
    apiVersion: v1
    kind: Pod
    metadata: {name: p, namespace: shop}
    spec:
      securityContext: {runAsUser: 1000}
      containers:
        - name: a
          image: a:1
          securityContext: {privileged: null}
        - name: b
          image: b:1
          securityContext: {runAsUser: 0}
    """


def value(expression: str, subject: Any) -> Any:
    return Expression(expression).search(subject)


# -- functions ------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "subject", "expected"), [
    ("has(@, 'a')", {"a": None}, True),
    ("has(@, 'b')", {"a": None}, False),
    ("has(a, 'b')", {"a": "text"}, False),
    ("has(@, ['a', 'b'])", {"a": {"b": None}}, True),
    ("has(@, ['a', `0`])", {"a": [None]}, True),
    ("has(@, ['a', `1`])", {"a": [None]}, False),
    ("has(@, ['a', `true`])", {"a": [None, None]}, False),  # a boolean is no position
    ("has(@, `[]`)", {"a": 1}, True),
    ("unset_or(a, `false`)", {}, True),
    ("unset_or(a, `false`)", {"a": None}, True),
    ("unset_or(a, `false`)", {"a": False}, True),
    ("unset_or(a, `false`)", {"a": True}, False),
    ("unset_or(a, `false`)", {"a": 0}, False),  # JMESPath equality: false is not 0
    ("unset_or(a, `0`)", {"a": False}, False),
    ("unset_or(a, 'x', 'y')", {"a": "y"}, True),
    ("unset_or(a, 'x', 'y')", {"a": "z"}, False),
    ("unset_or(a, `[\"x\"]`)", {"a": ["x"]}, True),
    ("concat(a, b)", {"a": [1], "b": [2, 3]}, [1, 2, 3]),
    ("concat(a, b)", {"a": [1]}, [1]),
    ("concat('x', a, 'z')", {"a": "y"}, "xyz"),
    ("concat(a, 'z')", {"a": [1]}, None),
    ("concat(a, b)", {}, []),
    ("format('{0}/{1}', a, b)", {"a": "ns", "b": 2}, "ns/2"),
    ("format('{1}{0}{1}', a, b)", {"a": "-", "b": "|"}, "|-|"),
    ("format('{{0}} is {0}', a)", {"a": None}, "{0} is null"),
    ("format('{0}', a)", {"a": {"k": [1]}}, '{"k": [1]}'),
    ("format('plain')", {}, "plain"),
    ("format(a)", {"a": 1}, None),
])
def test_functions(expression: str, subject: Any, expected: Any) -> None:
    assert value(expression, subject) == expected


def test_format_with_a_missing_value_is_an_error_that_fails_closed() -> None:
    subject = policy("""
        rules:
          - assert: "format('{0} {1}', metadata.name) == 'x'"
            message: "m"
        """)
    [result] = check(subject, POD)
    assert result.status == FAIL
    assert "{1} has no value (1 given)" in result.message


@pytest.mark.parametrize("expression", ["has(@)", "unset_or(a)", "concat()", "format()"])
def test_arity_is_checked_at_load(expression: str) -> None:
    with pytest.raises(ExpressionError, match="argument"):
        Expression(expression)


# -- a policy's own let -----------------------------------------------------------------


def test_policy_let_is_read_by_every_rule_in_when_and_for_each() -> None:
    subject = policy("""
        let:
          pod_user: "spec.securityContext.runAsUser"
          lists: "['containers']"
          named: "var('lists')[0]"
        rules:
          - name: pod
            when: "var('pod_user') != null"
            assert: "var('pod_user') != `0`"
            message: "pod root"
          - name: containers
            for_each: "containers(@, var('lists'))"
            let:
              user: "not_null(securityContext.runAsUser, var('pod_user'))"
            assert: "var('user') != `0`"
            message: "{{ name }} runs as {{ var('user') }} ({{ var('named') }})"
            field: securityContext.runAsUser
        """)
    assert found(check(subject, POD)) == [
        ("b runs as 0 (containers)", "spec.containers[1].securityContext.runAsUser", 12),
    ]


def test_policy_let_that_cannot_be_evaluated_fails_closed() -> None:
    subject = policy("""
        let:
          broken: "abs(metadata.name)"
        rules:
          - assert: "`true`"
            message: "never"
        """)
    [result] = check(subject, POD)
    assert result.status == FAIL
    assert result.message.startswith("let 'broken' could not be evaluated:")


@pytest.mark.parametrize(("body", "message", "line"), [
    ("""
     let: {a: "var('b')", b: "`1`"}
     rules: [{assert: "`true`", message: m}]
     """, "let 'a': var('b') is used before it is defined", 9),
    ("""
     let: {a: "`1`"}
     rules: [{assert: "`true`", message: m, let: {a: "`2`"}}]
     """, "rules[0]: let 'a' is already defined by the policy's 'let'", 10),
    ("""
     let: {a: "param('nope')"}
     rules: [{assert: "`true`", message: m}]
     """, "let 'a': unknown parameter 'nope'", 9),
    ("""
     rules: [{when: "var('x') != null", assert: "`true`", message: m, let: {x: "`1`"}}]
     """, "rules[0]: var('x') cannot be used in 'when'", 9),
    ("""
     match: {where: "var('x') != null"}
     let: {x: "`1`"}
     rules: [{assert: "`true`", message: m}]
     """, "match.where: var() cannot be used here", 9),
    ("""
     rules: [{assert: "`true`", message: m, on_empty: pass}]
     """, "rules[0]: 'on_empty' needs 'for_each'", 9),
    ("""
     rules: [{assert: "`true`", message: m, for_each: "@", on_empty: always}]
     """, "rules[0].on_empty: 'always' is not one of ['skip', 'pass']", 9),
])
def test_load_errors_name_the_line(body: str, message: str, line: int) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy_text(head() + textwrap.dedent(body).lstrip("\n"), "p.yaml")
    assert raised.value.message.startswith(message), raised.value.message
    assert raised.value.line == line


# -- on_empty ---------------------------------------------------------------------------


@pytest.mark.parametrize(("on_empty", "expected"), [("", SKIP), ("on_empty: skip", SKIP),
                                                    ("on_empty: pass", PASS)])
def test_on_empty(on_empty: str, expected: str) -> None:
    subject = policy(f"""
        rules:
          - for_each: "pod_spec(@).volumes"
            {on_empty}
            assert: "hostPath == null"
            message: "hostPath"
        """)
    assert [r.status for r in check(subject, POD)] == [expected]


def test_on_empty_pass_still_judges_what_it_selects() -> None:
    subject = policy("""
        rules:
          - for_each: "spec.volumes"
            on_empty: pass
            assert: "hostPath == null"
            message: "volume '{{ name }}' mounts the host"
            field: hostPath
        """)
    pod = POD + "  volumes: [{name: h, hostPath: {path: /}}]\n"
    assert found(check(subject, pod)) == [("volume 'h' mounts the host",
                                           "spec.volumes[0].hostPath", 13)]


def test_on_empty_pass_does_not_override_when() -> None:
    subject = policy("""
        rules:
          - when: "kind == 'Deployment'"
            for_each: "spec.volumes"
            on_empty: pass
            assert: "hostPath == null"
            message: "m"
        """)
    assert [r.status for r in check(subject, POD)] == [SKIP]


# -- extends ----------------------------------------------------------------------------

ANNOTATIONS = """\
apiVersion: gate.dev/v1
kind: Policy
id: required-annotations
extends:
  policy: required-labels
  parameters:
    field: annotations
    labels: [owner]
title: Resources carry an owner annotation
severity: medium
"""


def extended(text: str = ANNOTATIONS, *others: Policy) -> list[Policy]:
    return assemble([*others, *load_policy_text(text, "p.yaml")])


def test_extends_instantiates_the_rules_under_a_new_id() -> None:
    [made] = [p for p in extended(ANNOTATIONS, *load_builtin()) if p.id == "required-annotations"]
    assert made.info.title == "Resources carry an owner annotation"
    assert made.info.severity == "medium"
    assert made.info.file == "p.yaml"
    assert made.info.description == {p.id: p for p in load_builtin()}[
        "required-labels"].info.description
    assert made.params["field"] == "annotations" and made.params["labels"] == ["owner"]
    results = check(made, POD)
    assert [r.message for r in results] == [
        "annotation 'owner' is missing, empty or not a string in metadata.annotations"]
    assert results[0].policy.id == "required-annotations"


def test_the_extended_policy_is_unchanged() -> None:
    policies = {p.id: p for p in extended(ANNOTATIONS, *load_builtin())}
    labels = policies["required-labels"]
    assert labels.params["field"] == "labels"
    assert labels.info.title == "Resources carry the required labels"


def test_extends_a_builtin_policy_without_the_pack_loaded() -> None:
    [made] = extended()
    assert made.id == "required-annotations" and made.rules


def test_extended_policy_is_configured_under_its_own_id() -> None:
    config = Config(policies={"required-annotations": {"parameters": {"labels": ["team"]},
                                                       "enforcement": "warn"}})
    [made] = apply_config(config, extended())
    assert made.params["labels"] == ["team"] and made.params["field"] == "annotations"
    assert [r.status for r in check(made, POD)] == [WARN]


def test_extends_chains_and_selection() -> None:
    second = ANNOTATIONS.replace("id: required-annotations", "id: owners") \
        .replace("policy: required-labels", "policy: required-annotations") \
        .replace("    field: annotations\n", "") + "match: {kinds: [Deployment]}\n"
    policies = {p.id: p for p in assemble([*load_policy_text(ANNOTATIONS, "a.yaml"),
                                           *load_policy_text(second, "b.yaml")])}
    owners = policies["owners"]
    assert owners.params["field"] == "annotations"
    assert check(owners, POD) == []  # its own match selects Deployments only


@pytest.mark.parametrize(("text", "message", "line"), [
    (ANNOTATIONS.replace("policy: required-labels", "policy: no-such-policy"),
     "extends: no policy with id 'no-such-policy' is loaded", 5),
    (ANNOTATIONS.replace("    labels: [owner]", "    colour: red"),
     "extends: policy 'required-labels' has no parameter 'colour'", 8),
    (ANNOTATIONS.replace("    labels: [owner]", "    labels: owner"),
     "extends: parameter 'labels': 'owner' is not of type 'array'", 8),
    (ANNOTATIONS.replace("policy: required-labels", "policy: required-annotations"),
     "extends: a cycle of policies: required-annotations -> required-annotations", 5),
    (ANNOTATIONS.replace("policy: required-labels", "policy: change-ticket"),
     "extends: change policies cannot be extended", 5),
    (ANNOTATIONS + "rules: [{assert: x, message: m}]\n",
     "rules: a policy that extends another has no rules of its own", 11),
])
def test_extends_errors(text: str, message: str, line: int) -> None:
    with pytest.raises(PolicyError) as raised:
        extended(text)
    assert message in raised.value.message, raised.value.message
    assert raised.value.line == line


def test_an_extension_without_its_own_id_clashes() -> None:
    text = ANNOTATIONS.replace("id: required-annotations", "id: required-labels")
    with pytest.raises(PolicyError, match="duplicate policy id 'required-labels'"):
        extended(text, *load_builtin())


# -- Pod Security profiles ---------------------------------------------------------------


@pytest.mark.parametrize(("profile", "level", "expected"), [
    (None, "baseline", {}),
    (None, "restricted", {}),
    (None, None, {}),
    ("baseline", "baseline", {"enabled": True, "enforcement": "block"}),
    ("baseline", "restricted", {"enabled": False}),
    ("restricted", "baseline", {"enabled": True, "enforcement": "block"}),
    ("restricted", "restricted", {"enabled": True, "enforcement": "block"}),
    ("restricted", None, {}),
])
def test_profile_settings(profile: str | None, level: str | None,
                          expected: dict[str, Any]) -> None:
    assert profile_settings(profile, level) == expected


def _levelled(level: str, enforcement: str) -> Policy:
    return policy(f"""
        profile: {level}
        enforcement: {enforcement}
        rules: [{{assert: "`false`", message: m}}]
        """, policy_id=f"{level}-control")


def test_profile_in_config_with_per_policy_settings_overriding() -> None:
    policies = [_levelled("baseline", "block"), _levelled("restricted", "warn")]

    def state(config: Config) -> dict[str, str]:
        return {p.id: p.info.enforcement for p in apply_config(config, policies)}

    assert state(Config()) == {"baseline-control": "block", "restricted-control": "warn"}
    assert state(Config(profile="baseline")) == {"baseline-control": "block"}
    assert state(Config(profile="restricted")) == {"baseline-control": "block",
                                                   "restricted-control": "block"}
    overridden = Config(profile="restricted",
                        policies={"restricted-control": {"enforcement": "warn"},
                                  "baseline-control": {"enabled": False}})
    assert state(overridden) == {"restricted-control": "warn"}
    brought_back = Config(profile="baseline", policies={"restricted-control": {"enabled": True}})
    assert state(brought_back) == {"baseline-control": "block", "restricted-control": "warn"}


def test_profile_is_validated_in_the_config(tmp_path: Path, gate_cli: RunGate) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gate.yaml").write_text("profile: strict\n", encoding="utf-8")
    (tmp_path / "pod.yaml").write_text(textwrap.dedent(POD), encoding="utf-8")
    completed = gate_cli("check", "pod.yaml", cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.startswith(".gate.yaml:1: error: ")
    assert "'strict' is not one of ['baseline', 'restricted']" in completed.stderr


# -- --policies FILE ----------------------------------------------------------------------


def test_policies_option_takes_a_file(tmp_path: Path, gate_cli: RunGate) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "my-policy.yml.txt").write_text(
        head("pod-names") + 'rules: [{assert: "metadata.name != \'p\'", message: "named p"}]\n',
        encoding="utf-8")
    (tmp_path / "pod.yaml").write_text(textwrap.dedent(POD), encoding="utf-8")
    completed = gate_cli("check", "--no-builtin", "--policies", "my-policy.yml.txt",
                         "-f", "json", "pod.yaml", cwd=tmp_path)
    assert completed.returncode == 1, completed.stderr
    report = json.loads(completed.stdout)
    assert [r["message"] for r in report["results"]] == ["named p"]
    inputs = policy_inputs(Config(), False, [str(tmp_path / "my-policy.yml.txt")])
    assert [Path(name).name for name, _ in inputs] == ["my-policy.yml.txt"]
    missing = gate_cli("check", "--policies", "nowhere.yaml", "pod.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert "policy file or directory not found: nowhere.yaml" in missing.stderr


# -- regular expressions and RE2 ---------------------------------------------------------


@pytest.mark.parametrize(("pattern", "fragment"), [
    ("a(?i)b", "(?i) in the middle of a pattern"),
    ("^x(?s).*", "(?s) in the middle of a pattern"),
    ("(?U)a+", "(?U) makes quantifiers non-greedy"),
    ("^[[:alpha:]]+$", "[[:alpha:]] is a POSIX class"),
    ("[^[:space:]]", "[[:space:]] is a POSIX class"),
    (r"\pL+", r"\p{...}"),
    (r"\p{Greek}", r"\p{...}"),
    (r"\PL", r"\P{...}"),
    (r"\Qa.b\E", r"\Q...\E"),
    (r"end\z", r"write \Z"),
    (r"\C", r"\C (any byte)"),
])
def test_re2_syntax_that_python_reads_otherwise_is_refused(pattern: str, fragment: str) -> None:
    problem = re2_difference(pattern)
    assert problem is not None and fragment in problem
    with pytest.raises(RegexError):
        compile_regex(pattern)


@pytest.mark.parametrize("pattern", [
    "(?i)abc", "(?i)(?m)^x$", "(?i:ab)c", r"\\pL", r"[\[:a:]]", "[]:a:]", "^v[0-9]+$",
    r"(?P<major>\d+)\.", r"\[[:alpha:]", "(?=x)y",
])
def test_patterns_that_mean_the_same_are_accepted(pattern: str) -> None:
    assert re2_difference(pattern) is None


def test_re2_difference_in_a_literal_pattern_fails_at_load() -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy_text(head() + "rules:\n  - assert: \"regex_match('^a(?i)b', metadata.name)\"\n"
                         "    message: m\n", "p.yaml")
    assert "(?i) in the middle of a pattern" in raised.value.message
    assert raised.value.line == 10


def test_re2_difference_in_a_parameter_fails_at_config(tmp_path: Path) -> None:
    parameter = {p.id: p for p in load_builtin()}["required-labels"].parameters["labels"]
    problem = parameter.validate([{"key": "team", "pattern": "^[[:lower:]]+$"}])
    assert problem is not None and "POSIX class" in problem


def test_re2_difference_read_from_data_is_a_finding() -> None:
    subject = policy("""
        rules:
          - assert: "regex_match(metadata.annotations.pattern, metadata.name)"
            message: "m"
        """)
    pod = POD.replace("metadata: {name: p, namespace: shop}",
                      "metadata: {name: p, namespace: shop, annotations: {pattern: '\\pL'}}")
    [result] = check(subject, pod)
    assert result.status == FAIL
    assert "could not be evaluated" in result.message and r"\p{...}" in result.message


# -- JMESPath functions gate reimplements for speed agree with jmespath's -------------

_SUBJECTS = [None, True, False, 0, 1, 2.5, "", "abc", [], [1, "a", None], {}, {"a": 1}]


def _outcome(search: Any) -> Any:
    try:
        return "value", search()
    except Exception as exc:  # the kind of error matters, not its wording
        return "error", type(exc).__name__


@pytest.mark.parametrize("expression", [
    "length(a)", "type(a)", "contains(a, b)", "not_null(a, b)", "not_null(a)",
    "to_array(a)", "starts_with(a, b)", "ends_with(a, b)",
])
@pytest.mark.parametrize("first", _SUBJECTS, ids=repr)
def test_fast_builtins_agree_with_jmespath(expression: str, first: Any) -> None:
    import jmespath

    for second in _SUBJECTS:
        subject = {"a": first, "b": second}
        ours = _outcome(lambda s=subject: Expression(expression).search(s))
        theirs = _outcome(lambda s=subject: jmespath.search(expression, s))
        assert ours == theirs, (expression, subject)
