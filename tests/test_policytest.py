"""``gate test``: policy test files, their validation, running and output.

Most tests run the command in-process (``gate.main.main``) in a temporary repository;
the built-in pack's tests and the documentation's sessions run ``python -m gate test`` as
a real subprocess.
"""
from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gate.main import main
from tests.conftest import RunGate

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "gate" / "policies"  # the built-in pack, each policy with its tests
DOC = ROOT / "docs" / "policy-testing.md"

POLICY = """\
apiVersion: gate.dev/v1
kind: Policy
id: max-replicas
title: Workloads run a bounded number of replicas
description: Deployments and StatefulSets set spec.replicas to at most max.
rationale: An unbounded replica count is an unreviewed cost.
remediation: Lower spec.replicas.
severity: medium
{extra}
match:
  kinds: [Deployment, StatefulSet]
parameters:
  max:
    description: The most replicas a workload may run.
    default: 10
    schema: {{type: integer, minimum: 1}}
rules:
  - name: bounded
    assert: "spec.replicas == null || spec.replicas <= param('max')"
    message: "{{{{ kind }}}} '{{{{ metadata.name }}}}' runs {{{{ spec.replicas }}}} replicas, \
more than {{{{ param('max') }}}}"
    field: spec.replicas
"""

# StatefulSet/shop/ledger: spec.replicas at line 11.
WORKLOADS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop}
spec:
  replicas: 3
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ledger, namespace: shop}
spec:
  replicas: 12
---
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
"""

CHANGE_POLICY = """\
apiVersion: gate.dev/v1
kind: Policy
id: prod-alone
title: Production changes come alone
description: A change that reaches prod reaches no other environment.
rationale: A production release is reviewed as one unit.
remediation: Split the change.
severity: high
target: change
match:
  environments: [prod]
rules:
  - name: alone
    assert: "length(environments) == `1`"
    message: "this change reaches {{ join(', ', environments) }}"
"""

HEAD = "apiVersion: gate.dev/v1\nkind: PolicyTest\n"
LEDGER_FINDING = "\"StatefulSet 'ledger' runs 12 replicas, more than 10\" [spec.replicas, line 11]"

GateTest = Callable[..., tuple[int, str, str]]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with the max-replicas policy and its workloads, as the working dir."""
    (tmp_path / ".git").mkdir()
    write(tmp_path / "t" / "max-replicas.yaml", POLICY.format(extra=""))
    write(tmp_path / "t" / "workloads.yaml", WORKLOADS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def gate_test(capsys: pytest.CaptureFixture[str]) -> GateTest:
    """``gate_test(*args)`` -> (exit status, stdout, stderr) of ``gate test ARGS``."""
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["test", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def write_test(repo: Path, body: str, name: str = "t/max-replicas.test.yaml") -> str:
    write(repo / name, HEAD + body)
    return name


def expectations(*items: str) -> str:
    return "expect:\n" + "".join(item for item in items)


def expect(policy: str, target: str, status: str, **details: object) -> str:
    lines = [f"  - policy: {policy}\n", f"    {target}\n", f"    status: {status}\n"]
    lines += [f"    {key}: {json.dumps(value)}\n" for key, value in details.items()]
    return "".join(lines)


# -- expectations that hold and that do not -------------------------------------------


def test_expectations_that_hold(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: Deployment/shop/checkout", "pass"),
        expect("max-replicas", "resource: StatefulSet/shop/ledger", "fail",
               field="spec.replicas", line=11,
               message="StatefulSet 'ledger' runs 12 replicas, more than 10", count=1),
        expect("max-replicas", "resource: Service/shop/checkout", "not-applicable"),
    ))
    code, out, err = gate_test(name)
    assert (code, err) == (0, "")
    assert out == (f"{name}: 3 passed, 0 failed\n"
                   "1 test file, 3 expectations: 3 passed, 0 failed\n")


def test_wrong_status_fails_at_the_expectation_line(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: Deployment/shop/checkout", "pass"),
        expect("max-replicas", "resource: StatefulSet/shop/ledger", "pass"),
        expect("max-replicas", "resource: Deployment/shop/checkout", "fail"),
    ))
    code, out, _ = gate_test(name)
    assert code == 1
    assert out.splitlines() == [
        f"{name}: 1 passed, 2 failed",
        f"{name}:8: FAIL max-replicas on StatefulSet/shop/ledger: expected pass, got fail "
        f"(messages: {LEDGER_FINDING})",
        f"{name}:11: FAIL max-replicas on Deployment/shop/checkout: expected fail, got pass",
        "1 test file, 3 expectations: 1 passed, 2 failed",
    ]


@pytest.mark.parametrize(("details", "holds"), [
    ({"message": "StatefulSet 'ledger' runs 12 replicas, more than 10"}, True),
    ({"message": "StatefulSet 'ledger' runs 12 replicas"}, False),  # exact, not a prefix
    ({"message": {"regex": "runs 1[0-9] replicas"}}, True),
    ({"message": {"regex": "^runs"}}, False),
    ({"field": "spec.replicas"}, True),
    ({"field": "spec.template"}, False),
    ({"line": 11}, True),
    ({"line": 10}, False),
    ({"count": 1}, True),
    ({"count": 2}, False),
    ({"field": "spec.replicas", "line": 11, "message": {"regex": "12"}}, True),
])
def test_message_field_line_and_count(repo: Path, gate_test: GateTest,
                                      details: dict[str, object], holds: bool) -> None:
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: StatefulSet/shop/ledger", "fail", **details)))
    code, out, _ = gate_test(name)
    assert code == (0 if holds else 1), out
    if not holds:
        assert f"{name}:5: FAIL max-replicas on StatefulSet/shop/ledger: expected fail (" in out
        assert f"got fail ({'count 1, ' if 'count' in details else ''}messages: " in out


def test_wrong_message_output(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: StatefulSet/shop/ledger", "fail",
               message="too many", count=2)))
    _, out, _ = gate_test(name)
    assert out.splitlines()[1] == (
        f"{name}:5: FAIL max-replicas on StatefulSet/shop/ledger: expected fail (message "
        f"'too many', count 2), got fail (count 1, messages: {LEDGER_FINDING})")


def test_missing_resource_fails(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: Deployment/checkout", "not-applicable"),
        expect("max-replicas", "resource: Deployment/shop/nothing", "pass"),
    ))
    code, out, _ = gate_test(name)
    assert code == 1
    listed = "Deployment/shop/checkout, StatefulSet/shop/ledger, Service/shop/checkout"
    assert out.splitlines()[1:3] == [
        f"{name}:5: FAIL max-replicas on Deployment/checkout: no such resource "
        f"(resources: {listed}; did you mean Deployment/shop/checkout?)",
        f"{name}:8: FAIL max-replicas on Deployment/shop/nothing: no such resource "
        f"(resources: {listed})",
    ]


def test_unknown_policy_fails(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replica", "resource: Deployment/shop/checkout", "not-applicable")))
    code, out, _ = gate_test(name)
    assert code == 1
    assert (f"{name}:5: FAIL max-replica on Deployment/shop/checkout: no such policy "
            "(loaded: max-replicas)") in out


def test_a_subject_named_twice_must_hold_for_each(repo: Path, gate_test: GateTest) -> None:
    write(repo / "t" / "more.yaml", WORKLOADS.replace("replicas: 3", "replicas: 30"))
    name = write_test(repo, "resources: [workloads.yaml, more.yaml]\n" + expectations(
        expect("max-replicas", "resource: Deployment/shop/checkout", "pass"),
        expect("max-replicas", "document: more.yaml#1", "fail"),
        expect("max-replicas", "document: workloads.yaml", "pass"),
        expect("max-replicas", "document: more.yaml#4", "pass"),
    ))
    code, out, _ = gate_test(name)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"{name}: 1 passed, 3 failed"
    assert lines[1].startswith(f"{name}:5: FAIL max-replicas on Deployment/shop/checkout: "
                               "expected pass, got fail (messages: ")
    assert lines[1].endswith(" in more.yaml:1")
    assert lines[2] == (f"{name}:11: FAIL max-replicas on workloads.yaml: expected pass, got "
                        f"fail (messages: {LEDGER_FINDING}) in workloads.yaml:7")
    assert lines[3].startswith(f"{name}:14: FAIL max-replicas on more.yaml#4: no such "
                               "document (documents: workloads.yaml#1, ")


# -- parameters, inline resources, statuses -------------------------------------------------


def test_parameters_configure_the_policy(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "parameters:\n  max-replicas: {max: 2}\nresources: [workloads.yaml]\n"
                     + expectations(
                         expect("max-replicas", "resource: Deployment/shop/checkout", "fail",
                                message="Deployment 'checkout' runs 3 replicas, more than 2")))
    assert gate_test(name)[0] == 0


@pytest.mark.parametrize(("parameters", "line", "says"), [
    ("max-replicas: {max: 0}", 4,
     "policy 'max-replicas': parameter 'max': 0 is less than the minimum of 1"),
    ("max-replicas: {maximum: 3}", 4,
     "policy 'max-replicas' has no parameter 'maximum' (known: max)"),
    ("other: {max: 3}", 4, "parameters: no policy 'other' under test (loaded: max-replicas)"),
])
def test_parameter_errors(repo: Path, gate_test: GateTest, parameters: str, line: int,
                          says: str) -> None:
    name = write_test(repo, f"parameters:\n  {parameters}\nresources: [workloads.yaml]\n"
                     + expectations(expect("max-replicas", "resource: A/b", "pass")))
    code, out, err = gate_test(name)
    assert (code, out) == (2, "")
    assert err == f"{name}:{line}: error: {says}\n"


def test_inline_resources_are_located_in_the_write_test(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, """\
resources:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 30
expect:
  - policy: max-replicas
    resource: Deployment/web
    status: fail
    line: 8
    field: spec.replicas
""")
    assert gate_test(name)[0] == 0


def test_warn_and_waived(repo: Path, gate_test: GateTest) -> None:
    write(repo / "t" / "max-replicas.yaml",
          POLICY.format(extra="enforcement: warn\ninline_waivers: true"))
    write(repo / "t" / "waived.yaml", """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: big
  annotations: {gate.dev/waive.max-replicas: "load test, until Friday"}
spec: {replicas: 50}
""")
    name = write_test(repo, "resources: [workloads.yaml, waived.yaml]\n" + expectations(
        expect("max-replicas", "resource: StatefulSet/shop/ledger", "warn", count=1),
        expect("max-replicas", "resource: Deployment/big", "waived"),
        expect("max-replicas", "resource: Deployment/big", "fail"),
    ))
    code, out, _ = gate_test(name)
    assert code == 1
    assert f"{name}:12: FAIL max-replicas on Deployment/big: expected fail, got waived (" in out


def test_skip(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "builtin: true\n" + """\
resources:
  - {apiVersion: v1, kind: Pod, metadata: {name: dbg}, spec: {ephemeralContainers: []}}
expect:
  - {policy: resource-limits, resource: Pod/dbg, status: skip, message: nothing to check}
""")
    assert gate_test(name)[0] == 0


def test_documents_that_are_not_resources(repo: Path, gate_test: GateTest) -> None:
    """A Helm values file: named as the test lists it, which match.paths selects by."""
    write(repo / "t" / "chart" / "values.yaml", "image: {repository: web, tag: latest}\n")
    write(repo / "t" / "chart" / "other.yaml", "image: {repository: web, tag: latest}\n")
    name = write_test(repo, "builtin: true\nresources: [chart]\n" + expectations(
        expect("helm-values-image-tag", "document: chart/values.yaml#1", "fail",
               field="image.tag", line=1),
        expect("helm-values-image-tag", "document: chart/other.yaml", "not-applicable"),
    ))
    code, out, _ = gate_test(name)
    assert code == 0, out


# -- change documents ----------------------------------------------------------------------


def test_change_documents(repo: Path, gate_test: GateTest) -> None:
    write(repo / "t" / "prod-alone.yaml", CHANGE_POLICY)
    write(repo / "t" / "changes.yaml", "environment: prod\nenvironments: [prod]\n---\n"
          "environment: prod\nenvironments: [prod, staging]\n")
    name = write_test(repo, """\
policies: [prod-alone.yaml]
changes:
  - changes.yaml
  - {environment: dev, environments: [dev]}
  - {environment: "", environments: []}
expect:
  - {policy: prod-alone, document: changes.yaml#1, status: pass}
  - {policy: prod-alone, document: changes.yaml#2, status: fail,
     message: "this change reaches prod, staging"}
  - {policy: prod-alone, change: dev, status: not-applicable}
  - {policy: prod-alone, change: "", status: not-applicable}
  - {policy: prod-alone, change: prod, status: pass}
  - {policy: prod-alone, change: staging, status: pass}
""")
    code, out, _ = gate_test(name)
    assert code == 1
    assert out.splitlines()[1:3] == [
        f"{name}:14: FAIL prod-alone on change to prod: expected pass, got fail "
        "(messages: 'this change reaches prod, staging') in changes.yaml#2",
        f"{name}:15: FAIL prod-alone on change to staging: no change document for this "
        "environment (environments: 'prod', 'dev', '')",
    ]


def test_builtin_change_policy_with_parameters(repo: Path, gate_test: GateTest) -> None:
    """Opt-in built-in policies are enabled under test; parameters apply."""
    name = write_test(repo, """\
builtin: true
parameters:
  change-ticket: {pattern: "^OPS-[0-9]+$", trailer: Jira}
changes:
  - environment: prod
    mode: commits
    head_commit: &head {short_sha: 0123456789ab, subject: Fix, trailers: {Jira: [OPS-7]}}
    commits: [*head]
  - environment: production
    mode: commits
    head_commit: &other {short_sha: 0123456789ab, subject: Fix, trailers: {Jira: [CHG1]}}
    commits: [*other]
expect:
  - {policy: change-ticket, change: prod, status: pass}
  - {policy: change-ticket, change: production, status: fail, message: {regex: "'Jira'"}}
  - {policy: promotion-certified, change: prod, status: skip}
""")
    code, out, _ = gate_test(name)
    assert code == 0, out


def test_change_file_documents_need_an_environment(repo: Path, gate_test: GateTest) -> None:
    write(repo / "t" / "changes.yaml", "environment: prod\n---\nmode: commits\n")
    name = write_test(repo, "builtin: true\nchanges: [changes.yaml]\n" + expectations(
        expect("release-window", "change: prod", "not-applicable")))
    code, _, err = gate_test(name)
    assert code == 2
    assert err == ("t/changes.yaml:3: error: a change document is a mapping with an "
                   "'environment' (a string)\n")


# -- which policies ------------------------------------------------------------------------


def test_default_policies_are_those_beside_the_test(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: StatefulSet/shop/ledger", "fail"),
        expect("no-latest-tag", "resource: StatefulSet/shop/ledger", "pass"),
    ))
    code, out, _ = gate_test(name)
    assert code == 1
    assert f"{name}:8: FAIL no-latest-tag on StatefulSet/shop/ledger: no such policy" in out


def test_policies_by_path_and_directory(repo: Path, gate_test: GateTest) -> None:
    write(repo / "policies" / "a" / "prod-alone.yaml", CHANGE_POLICY)
    name = write_test(repo, """\
policies: [max-replicas.yaml, ../policies]
resources: [workloads.yaml]
changes: [{environment: prod, environments: [prod]}]
expect:
  - {policy: max-replicas, resource: StatefulSet/shop/ledger, status: fail}
  - {policy: prod-alone, change: prod, status: pass}
""", name="t/sub/../x.test.yaml")
    assert gate_test(name)[0] == 0


def test_no_policies_is_an_error(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "resources: [../t/workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: A/b", "pass")), name="other/x.test.yaml")
    code, _, err = gate_test(name)
    assert code == 2
    assert err.startswith(f"{name}:1: error: no policies to test: no policy file beside")


def test_duplicate_policy_ids_are_an_error(repo: Path, gate_test: GateTest) -> None:
    write(repo / "t" / "copy.yaml", POLICY.format(extra=""))
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: A/b", "pass")))
    code, _, err = gate_test(name)
    assert code == 2
    assert "duplicate policy id 'max-replicas'" in err


def test_broken_policy_is_an_error(repo: Path, gate_test: GateTest) -> None:
    write(repo / "t" / "max-replicas.yaml", POLICY.format(extra="").replace("severity: medium",
                                                                             "severity: huge"))
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: A/b", "pass")))
    code, _, err = gate_test(name)
    assert code == 2
    assert err.startswith("t/max-replicas.yaml:8: error: severity: 'huge' is not one of")


# -- malformed test files -------------------------------------------------------------------


@pytest.mark.parametrize(("body", "line", "says"), [
    ("resources: [w.yaml]\nexpect:\n  - policy: p\n    resource: A/b\n    status: passed\n", 7,
     "expect[0].status: 'passed' is not one of ['pass', 'fail', 'warn', 'skip', 'waived', "
     "'not-applicable']"),
    ("resources: [w.yaml]\nexpect:\n  - policy: p\n    resource: A/b\n    status: pass\n"
     "    mesage: x\n", 8, "expect[0]: Additional properties are not allowed ('mesage' was "
     "unexpected)"),
    ("resources: [w.yaml]\nexpect:\n  - policy: p\n    status: pass\n", 5,
     "expect[0]: an expectation names exactly one of resource, change or document; this one "
     "names none"),
    ("resources: [w.yaml]\nexpect:\n  - policy: p\n    status: pass\n    resource: A/b\n"
     "    change: prod\n", 8, "expect[0]: an expectation names exactly one of resource, change "
     "or document; this one names resource and change"),
    ("resources: [w.yaml]\nexpect:\n  - policy: p\n    resource: Deployment\n    status: pass\n",
     6, "expect[0].resource: 'Deployment' is not Kind/name or Kind/namespace/name"),
    ("resources: [w.yaml]\nexpect:\n  - {policy: p, resource: A/b, status: not-applicable,\n"
     "     count: 1}\n", 5, "expect[0]: status not-applicable means no result, so it takes no "
     "message, field, line or count"),
    ("resources: [w.yaml]\nexpect:\n  - policy: p\n    resource: A/b\n    status: fail\n"
     "    message: {regex: '(['}\n", 8, "expect[0].message.regex: invalid regular expression: "
     "unterminated character set at position 1"),
    ("resources: [w.yaml]\nexpect:\n  - policy: p\n    resource: A/b\n    status: fail\n"
     "    field: 'spec..x'\n", 8, "expect[0].field: invalid field path 'spec..x' at column 5"),
    ("resources: [w.yaml]\nexpect: []\n", 4, "expect: [] should be non-empty"),
    ("resources: [w.yaml]\n", 1, "'expect' is a required property"),
    ("expect:\n  - {policy: p, change: prod, status: pass}\n", 1,
     "a test names resources or changes (change documents) to judge"),
    ("resources:\n  - {kind: Pod}\nexpect:\n  - {policy: p, resource: A/b, status: pass}\n", 4,
     "resources[0]: 'apiVersion' is a required property"),
    ("changes:\n  - {mode: commits}\nexpect:\n  - {policy: p, change: a, status: pass}\n", 4,
     "changes[0]: 'environment' is a required property"),
    ("builtin: yes please\nresources: [w.yaml]\nexpect:\n  - {policy: p, resource: A/b, "
     "status: pass}\n", 3, "builtin: 'yes please' is not of type 'boolean'"),
])
def test_schema_errors_name_their_line(repo: Path, gate_test: GateTest, body: str, line: int,
                                       says: str) -> None:
    name = write_test(repo, body)
    code, out, err = gate_test(name)
    assert (code, out) == (2, "")
    assert err == f"{name}:{line}: error: {says}\n"


@pytest.mark.parametrize(("text", "line", "says"), [
    ("apiVersion: gate.dev/v1\nkind: Test\n", 1,
     "not a policy test: expected 'apiVersion: gate.dev/v1' and 'kind: PolicyTest'"),
    ("- a\n", 1, "a test must be a mapping, not a list"),
    (HEAD + "resources: [w.yaml\n", 4, "invalid YAML: while parsing a flow sequence started "
     "at line 3, did not find expected ',' or ']'"),
    (HEAD + "kind: PolicyTest\n", 3,
     "invalid YAML: duplicate key 'kind' (first defined at line 2)"),
])
def test_malformed_test_files(repo: Path, gate_test: GateTest, text: str, line: int,
                              says: str) -> None:
    write(repo / "x.test.yaml", text)
    code, out, err = gate_test("x.test.yaml")
    assert (code, out) == (2, "")
    assert err.startswith(f"x.test.yaml:{line}: error: {says}"), err


def test_empty_write_test(repo: Path, gate_test: GateTest) -> None:
    write(repo / "x.test.yaml", "# nothing yet\n")
    code, _, err = gate_test("x.test.yaml")
    assert code == 2
    assert err == "x.test.yaml: error: a test file holds at least one test (kind: PolicyTest)\n"


def test_every_file_is_validated_before_any_runs(repo: Path, gate_test: GateTest) -> None:
    write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: Deployment/shop/checkout", "pass")), name="t/a.test.yaml")
    write(repo / "t" / "b.test.yaml", "kind: [\n")
    code, out, err = gate_test("t")
    assert (code, out) == (2, "")
    assert err.startswith("t/b.test.yaml:")


@pytest.mark.parametrize(("entry", "says"), [
    ("resources: [workloads.yaml, nope.yaml]", "resources[1]: no such file or directory: "
                                                "nope.yaml"),
    ("policies: [nope]\nresources: [workloads.yaml]",
     "policies[0]: no such file or directory: nope"),
    ("changes: [nope.yaml]", "changes[0]: no such file or directory: nope.yaml"),
])
def test_missing_files_name_the_entry_line(repo: Path, gate_test: GateTest, entry: str,
                                           says: str) -> None:
    name = write_test(repo, entry + "\n" + expectations(expect("max-replicas", "resource: A/b",
                                                              "pass")))
    code, _, err = gate_test(name)
    assert code == 2
    assert err == f"{name}:3: error: {says}\n"


def test_invalid_resource_file(repo: Path, gate_test: GateTest) -> None:
    write(repo / "t" / "bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [}\n")
    name = write_test(repo, "resources: [bad.yaml]\n" + expectations(
        expect("max-replicas", "resource: Pod/x", "pass")))
    code, _, err = gate_test(name)
    assert code == 2
    assert err.startswith("t/bad.yaml:3: error: invalid YAML")


# -- finding test files, the command line ------------------------------------------------


def test_discovery(repo: Path, gate_test: GateTest) -> None:
    for name, workloads in (("t/a.test.yaml", "workloads.yaml"),
                            ("t/b.test.yml", "workloads.yaml"),
                            ("t/.hidden/c.test.yaml", "../workloads.yaml")):
        write_test(repo, f"policies: [{workloads.replace('workloads', 'max-replicas')}]\n"
                   f"resources: [{workloads}]\n" + expectations(
                       expect("max-replicas", "resource: Deployment/shop/checkout", "pass")),
                   name=name)
    write(repo / "t" / "notes.yaml", "not: [a test}")  # neither a test file nor read
    write(repo / ".git" / "x.test.yaml", "broken: [")  # never searched
    code, out, _ = gate_test()
    assert code == 0, out
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [
        "t/a.test.yaml", "t/b.test.yml", "t/.hidden/c.test.yaml"]
    assert out.splitlines()[-1] == "3 test files, 3 expectations: 3 passed, 0 failed"
    # A file given by name runs whatever it is called; the same file is run once.
    (repo / "t" / "a.test.yaml").rename(repo / "t" / "a.yaml")
    assert gate_test("t/a.yaml", "./t/a.yaml")[1].splitlines()[-1].startswith("1 test file,")


@pytest.mark.parametrize(("args", "says"), [
    (["nowhere"], "nowhere: error: no such file or directory\n"),
    (["t"], "gate: error: no test files (*.test.yaml) under t\n"),
    (["-f", "xml", "t"], "gate: error: unknown output format 'xml' (known: text, json)\n"),
])
def test_usage_errors(repo: Path, gate_test: GateTest, args: list[str], says: str) -> None:
    assert gate_test(*args)[::2] == (2, says)


def test_verbose_lists_passing_expectations(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "resources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: Deployment/shop/checkout", "pass"),
        expect("max-replicas", "resource: StatefulSet/shop/ledger", "fail", field="spec.replicas"),
    ))
    code, out, _ = gate_test("-v", name)
    assert code == 0
    assert out.splitlines()[1:3] == [
        f"{name}:5: PASS max-replicas on Deployment/shop/checkout: expected pass, got pass",
        f"{name}:8: PASS max-replicas on StatefulSet/shop/ledger: expected fail "
        "(field spec.replicas), got fail",
    ]


def test_json_output(repo: Path, gate_test: GateTest) -> None:
    name = write_test(repo, "name: the default limit\nresources: [workloads.yaml]\n" + expectations(
        expect("max-replicas", "resource: Deployment/shop/checkout", "pass"),
        expect("max-replicas", "resource: StatefulSet/shop/ledger", "pass"),
    ))
    code, out, _ = gate_test("-f", "json", name)
    assert code == 1
    report = json.loads(out)
    assert report["summary"] == {"files": 1, "expectations": 2, "passed": 1, "failed": 1}
    [entry] = report["files"]
    assert (entry["file"], entry["passed"], entry["failed"]) == (name, 1, 1)
    assert entry["expectations"][1] == {
        "line": 9, "test": "the default limit", "policy": "max-replicas",
        "resource": "StatefulSet/shop/ledger", "status": "pass", "passed": False,
        "detail": f"expected pass, got fail (messages: {LEDGER_FINDING})",
    }
    code, out, err = gate_test("-f", "json=out.json", name)
    assert (code, out) == (1, "")
    assert err == "1 test file, 2 expectations: 1 passed, 1 failed\n"
    assert json.loads((repo / "out.json").read_text(encoding="utf-8")) == report
    code, out, _ = gate_test("-f", "text", "-f", "json=out.json", name)
    assert out.endswith("1 test file, 2 expectations: 1 passed, 1 failed\n")


def test_help_lists_the_command(gate_cli: RunGate) -> None:
    completed = gate_cli("--help")
    assert "test" in completed.stdout
    completed = gate_cli("test", "--help")
    assert completed.returncode == 0
    assert "*.test.yaml" in completed.stdout


# -- the built-in pack's own tests -------------------------------------------------------------


def test_builtin_pack_tests_can_fail(tmp_path: Path, gate_cli: RunGate) -> None:
    """The pack's tests are not vacuous: a changed expectation fails, at its line."""
    copy = tmp_path / "no-latest-tag"
    shutil.copytree(PACK / "no-latest-tag", copy)
    path = copy / "no-latest-tag.test.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if "status: fail" in line) + 1
    lines[number - 1] = lines[number - 1].replace("status: fail", "status: pass")
    path.write_text("".join(lines), encoding="utf-8")
    completed = gate_cli("test", ".", cwd=copy)
    assert completed.returncode == 1
    [failure] = [line for line in completed.stdout.splitlines() if ": FAIL " in line]
    start = max(i for i in range(number) if lines[i].lstrip().startswith("- policy:")) + 1
    assert failure.startswith(f"no-latest-tag.test.yaml:{start}: FAIL no-latest-tag on ")
    assert ": expected pass (message " in failure
    assert "), got fail (messages: " in failure


# -- the documentation's examples ----------------------------------------------------------------

_FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def test_doc_sessions(tmp_path: Path, gate_cli: RunGate) -> None:
    """The ``yaml file=NAME`` blocks of docs/policy-testing.md, written out, give exactly the
    output and exit status of its ``console`` sessions."""
    (tmp_path / ".git").mkdir()
    blocks = [(m["info"].split(), m["body"]) for m in _FENCE.finditer(DOC.read_text("utf-8"))]
    for words, body in blocks:
        name = next((w[5:] for w in words if w.startswith("file=")), None)
        if name:
            write(tmp_path / name, body)
    sessions = [body for words, body in blocks if words and words[0] == "console"]
    assert len(sessions) >= 3
    for body in sessions:
        commands: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line)
        returncode = None
        for command, expected in commands:
            if command == "echo $?":
                assert [str(returncode)] == expected
                continue
            words = shlex.split(command)
            assert words[0] == "gate"
            completed = gate_cli(*words[1:], cwd=tmp_path)
            returncode = completed.returncode
            assert (completed.stdout + completed.stderr).splitlines() == expected, command
