"""The built-in policy pack: its own tests, own examples, documentation, ``gate explain``.

Each built-in policy lives in a folder of its own, ``gate/policies/<id>/``: the policy
file ``<id>.yaml``, its ``gate test`` file ``<id>.test.yaml`` and the cases that file
judges (``pass.yaml`` and ``fail.yaml``; ``values-*.yaml`` for a policy with
``target: documents``; ``change-*.yaml`` for change policies). The test file is the one
place a case's expected result is stated; the pack's tests are ``gate test gate/policies``
(docs/policy-testing.md). Here: that command passes, every policy has a test file with
failing and passing cases, every case of a case file has an expectation, a finding's line
is that of its field (by an oracle independent of gate's own line lookup), and
``gate check`` reports what ``gate test`` judged.

A case file holds one case per YAML document, introduced by a ``# Case:`` comment, or a
``# Context:`` comment for a document that is only the context of the others (the
related resources cross-resource policies look at: each document is judged with every
document of its test as its context, as ``gate check`` judges a file).
"""
from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.errors import PolicyError
from gate.evaluation.evaluate import context_of, evaluate
from gate.evaluation.policy import Policy
from gate.evaluation.policy_compile import load_policy_text
from gate.evaluation.policy_loading import builtin_files, load_builtin
from gate.loading.resources import Resource, read_resources
from gate.loading.sources import SourceFile
from gate.policytest import loading as policytest_loading
from gate.policytest.loading import Expectation, PolicyTest, load_test_file
from gate.policytest.running import PolicyCache, load_policies
from gate.results import FAIL, PASS, SKIP, WARN, Result
from tests.conftest import RunGate

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "gate" / "policies"
FINDING = (FAIL, WARN)
CASE_COMMENT = re.compile(r"^# (Case|Context): \S", re.MULTILINE)

BUILTIN: dict[str, Policy] = {policy.id: policy for policy in load_builtin()}
POLICY_IDS = sorted(BUILTIN)
RESOURCE_POLICY_IDS = [i for i in POLICY_IDS if BUILTIN[i].target != "change"]


def policy_test_file(policy_id: str) -> Path:
    return PACK / policy_id / f"{policy_id}.test.yaml"


TESTS: dict[str, policytest_loading.TestFile] = {
    policy_id: load_test_file(str(policy_test_file(policy_id)))
    for policy_id in POLICY_IDS if policy_test_file(policy_id).is_file()
}  # a missing file fails test_every_builtin_policy_has_a_test_file


def policy_tests(policy_id: str) -> list[PolicyTest]:
    return TESTS[policy_id].tests if policy_id in TESTS else []


def case_files(policy_id: str) -> list[str]:
    """The files of cases the policy's tests judge, as the test file names them."""
    names = [entry.value for test in policy_tests(policy_id)
             for entry in [*test.resources, *test.changes] if isinstance(entry.value, str)]
    return list(dict.fromkeys(names))


def reads_documents(policy_id: str) -> bool:
    return BUILTIN[policy_id].target == "documents"


def run(policy: Policy, resources: list[Resource], fail_on: str = "info") -> list[Result]:
    # Opt-in policies (enabled: false) are tested as a repository that enables them.
    return evaluate([policy.configured(enabled=True)], resources, fail_on)


def findings(results: list[Result]) -> list[Result]:
    return [r for r in results if r.status in FINDING]


def resources_of(text: str, name: str = "example.yaml", documents: bool = False) -> list[Resource]:
    entries = read_resources(SourceFile(name, text), documents)
    return [r for r in entries if isinstance(r, Resource)]


def file_resources(policy_id: str, name: str) -> list[Resource]:
    """Every resource (or document) of a case file, as gate test reads it."""
    path = PACK / policy_id / name
    text = path.read_text(encoding="utf-8")
    return resources_of(text, name, documents=True)


def names(expectation: Expectation, file: str, resource: Resource) -> bool:
    """Whether the expectation is about this resource (or document) of ``file``."""
    if expectation.target == "resource":
        return resource.is_resource and expectation.name == resource.identity()
    if expectation.target == "document":
        return expectation.name in (file, f"{file}#{resource.doc_index + 1}")
    return False


# An oracle for field lines, independent of gate's own path parsing and line lookup.
_SEGMENT = re.compile(r'\.?(?:(?P<key>[A-Za-z_$][\w$-]*)|"(?P<quoted>[^"]*)"|\[(?P<index>\d+)\])')


def parse_field(text: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = _SEGMENT.match(text, position)
        assert match, f"bad field {text!r} at {position}"
        if match["index"] is not None:
            parts.append(int(match["index"]))
        else:
            parts.append(match["key"] if match["key"] is not None else match["quoted"])
        position = match.end()
    return tuple(parts)


def field_line(text: str, doc_index: int, path: tuple[str | int, ...]) -> int:
    """Line of ``path``'s key (or of its deepest existing part) in document ``doc_index``."""
    node = list(yaml.compose_all(text, Loader=yaml.SafeLoader))[doc_index]
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            entry = next(((k, v) for k, v in node.value if k.value == part), None)
            if entry is None:
                break
            line, node = entry[0].start_mark.line + 1, entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


# -- the pack's own tests: gate test gate/policies ------------------------------------


def test_the_pack_passes_its_own_tests(gate_cli: RunGate) -> None:
    """``gate test gate/policies``: every policy's test file, every expectation holding."""
    completed = gate_cli("test", "gate/policies", cwd=ROOT)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stderr == ""
    lines = completed.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"gate/policies/{policy_id}/{policy_id}.test.yaml" for policy_id in POLICY_IDS]
    assert all(", 0 failed" in line for line in lines)
    expectations = sum(len(test.expectations) for file in TESTS.values() for test in file.tests)
    assert lines[-1] == (f"{len(POLICY_IDS)} test files, {expectations} expectations: "
                         f"{expectations} passed, 0 failed")
    assert expectations >= 500


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_every_builtin_policy_has_a_test_file(policy_id: str) -> None:
    """At least one failing and one passing case, in a test of this policy alone."""
    assert policy_id in TESTS, f"built-in policy {policy_id} has no {policy_test_file(policy_id)}"
    statuses: set[str] = set()
    for test in policy_tests(policy_id):
        assert test.policies is None and not test.builtin, (
            f"{test.file}: a built-in policy's test judges the policy file beside it")
        for expectation in test.expectations:
            assert expectation.policy == policy_id, f"{test.file}:{expectation.line}"
            statuses.add(expectation.status)
    assert statuses & set(FINDING), "no failing case"
    assert PASS in statuses, "no passing case"


def test_no_folders_for_unknown_policies() -> None:
    folders = {p.name for p in PACK.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert folders == set(POLICY_IDS)


def test_a_pack_folder_without_its_policy_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder of cases whose policy file is missing (or misnamed) is refused, not
    skipped: the pack would silently lose a policy."""
    (tmp_path / "lost").mkdir()
    (tmp_path / "lost" / "lost.yml").write_text("kind: Policy\n", encoding="utf-8")
    (tmp_path / "__pycache__").mkdir()  # not a policy folder
    monkeypatch.setattr(resources, "files", lambda package: tmp_path)
    with pytest.raises(PolicyError, match=r"built-in policy folder lost/ holds no lost\.yaml"):
        list(builtin_files())


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_case_files_name_their_cases(policy_id: str) -> None:
    for name in case_files(policy_id):
        path = PACK / policy_id / name
        assert path.is_file(), f"{policy_id}: no case file {name}"
        text = path.read_text(encoding="utf-8")
        documents = re.split(r"^---\s*$", text, flags=re.MULTILINE)
        for number, document in enumerate(documents, 1):
            assert CASE_COMMENT.search(document), (
                f"{path.name} document {number} has no '# Case:' (or '# Context:') comment")
        if name.startswith("change-"):
            continue
        identities = [r.identity() for r in file_resources(policy_id, name) if r.is_resource]
        assert len(identities) == len(set(identities)), "resource names repeat within the file"


@pytest.mark.parametrize("policy_id", RESOURCE_POLICY_IDS)
def test_every_case_has_an_expectation(policy_id: str) -> None:
    """A case nobody states a result for tests nothing; a context document is no case."""
    for name in case_files(policy_id):
        expectations = [e for test in policy_tests(policy_id) for e in test.expectations
                        if name in [entry.value for entry in test.resources]]
        text = (PACK / policy_id / name).read_text(encoding="utf-8")
        context = [m.group(1) == "Context" for m in CASE_COMMENT.finditer(text)]
        for resource in file_resources(policy_id, name):
            stated = any(names(e, name, resource) for e in expectations)
            where = f"{name}:{resource.line} ({resource.identity()})"
            if context[resource.doc_index]:
                assert not stated, f"{where}: a '# Context:' document with an expectation"
            else:
                assert stated, f"{where}: a case without an expectation in the test file"


@pytest.mark.parametrize("policy_id", RESOURCE_POLICY_IDS)
def test_findings_point_at_the_line_of_their_field(policy_id: str) -> None:
    """Every failing case that names a field: its finding is on that field's line."""
    cache = PolicyCache()
    for test in policy_tests(policy_id):
        policies = load_policies(test, cache)
        files = {entry.value: file_resources(policy_id, entry.value)
                 for entry in test.resources if isinstance(entry.value, str)}
        context = context_of(r for resources in files.values() for r in resources)
        for expectation in test.expectations:
            if expectation.status not in FINDING or expectation.field is None:
                continue
            [resource] = [r for file, resources in files.items()
                                  for r in resources if names(expectation, file, r)]
            found = [r for r in evaluate(policies, [resource], "info", context)
                     if r.policy.id == policy_id and r.status == expectation.status
                     and expectation.matches(r)]
            assert found, f"{test.file}:{expectation.line}: no such finding"
            path = resource.prefix + parse_field(expectation.field)
            assert found[0].line == field_line(resource.source.text, resource.doc_index, path), (
                f"{test.file}:{expectation.line}")


@pytest.mark.parametrize("policy_id", RESOURCE_POLICY_IDS)
def test_gate_check_reports_what_gate_test_judged(
    policy_id: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    """End to end: ``gate check`` with only this policy, on each case file of a test
    without parameters, reports the status and field its expectations state."""
    (tmp_path / ".git").mkdir()  # stops the search for a .gate.yaml here
    config = tmp_path / "gate.yaml"
    disabled = {other: {"enabled": False} for other in POLICY_IDS if other != policy_id}
    enabled = {policy_id: {"enabled": True}}  # opt-in policies too
    config.write_text(json.dumps({"policies": {**disabled, **enabled}}), encoding="utf-8")
    blocks = BUILTIN[policy_id].info.enforcement == "block"
    for test in policy_tests(policy_id):
        if test.parameters:
            continue  # parameters cannot differ per test on the command line
        for entry in test.resources:
            assert isinstance(entry.value, str)
            path = PACK / policy_id / entry.value
            completed = gate_cli("check", "-c", config, "-f", "json", path, cwd=tmp_path)
            report = json.loads(completed.stdout)
            assert report["errors"] == [], completed.stderr
            got: dict[int, list[dict[str, Any]]] = {}  # by the line of the resource
            for result in report["results"]:
                got.setdefault(result["resource"]["line"], []).append(result)
            fails = False
            for resource in file_resources(policy_id, entry.value):
                for expectation in test.expectations:
                    if not names(expectation, entry.value, resource):
                        continue
                    results = got.get(resource.line, [])
                    statuses = {r["status"] for r in results}
                    label = f"{test.file}:{expectation.line}"
                    if expectation.status in FINDING:
                        fails = True
                        fields = [r["field"] for r in results if r["status"] in FINDING]
                        assert expectation.field is None or expectation.field in fields, label
                    elif expectation.status == "not-applicable":
                        assert results == [], label
                    else:
                        assert statuses <= {PASS, SKIP}, label
            # A case file may also hold cases that only fail with a test's parameters.
            if fails:
                assert completed.returncode == (1 if blocks else 0), completed.stderr
            else:
                assert completed.returncode in (0, 1), completed.stderr


# -- the policies' own examples and documentation -------------------------------------


@pytest.mark.parametrize("policy_id", RESOURCE_POLICY_IDS)
def test_own_examples(policy_id: str) -> None:
    policy = BUILTIN[policy_id]
    examples = policy.spec.get("examples") or {}
    assert "fail" in examples and "pass" in examples, "a built-in policy shows both examples"
    documents = reads_documents(policy_id)
    name = "values.yaml" if documents else "example.yaml"
    failing = run(policy, resources_of(examples["fail"], name, documents))
    assert findings(failing), "examples.fail does not fail"
    passing = run(policy, resources_of(examples["pass"], name, documents))
    assert passing, "examples.pass is not checked by the policy"
    assert all(r.status in (PASS, SKIP) for r in passing), [r.message for r in passing]


def test_builtin_policies_pass_every_check_user_policies_get() -> None:
    """The pack loads without the schema checks every run would pay for; here it gets them."""
    from gate.evaluation.policy_loading import builtin_files

    for name, text in builtin_files():
        checked = load_policy_text(text, name)
        assert [p.id for p in checked] == [name.removeprefix("builtin:").removesuffix(".yaml")]


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_documentation(policy_id: str) -> None:
    info = BUILTIN[policy_id].info
    for name in ("title", "description", "rationale", "remediation"):
        assert getattr(info, name).strip(), f"{name} is empty"
    assert info.controls, "a built-in policy names the controls it supports"
    assert info.file == f"builtin:{policy_id}.yaml", "one built-in policy per file, named by id"
    for name, parameter in BUILTIN[policy_id].parameters.items():
        assert parameter.description.strip(), f"parameter {name} has no description"
        assert parameter.schema is not None, f"parameter {name} has no schema"


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_gate_explain(policy_id: str, tmp_path: Path, gate_cli: RunGate) -> None:
    (tmp_path / ".git").mkdir()
    completed = gate_cli("explain", policy_id, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    info = BUILTIN[policy_id].info
    out = completed.stdout
    assert out.startswith(f"# {policy_id}: {info.title}\n")
    for heading in ("## What it checks", "## Why it matters", "## How to fix it"):
        assert heading in out
    assert ", ".join(info.controls) in out


@pytest.mark.e2e
def test_explain_unknown_policy_is_an_error(tmp_path: Path, run_gate: RunGate) -> None:
    (tmp_path / ".git").mkdir()
    completed = run_gate("explain", "no-such-policy", cwd=tmp_path)
    assert completed.returncode == 2
    assert "no policy with id 'no-such-policy'" in completed.stderr


# -- parameters, with configured policies ---------------------------------------------

DIGEST = "sha256:" + "a172cedcae47474b615c54d510a5d84a8dea3032e958587430b413538be3f333"


def pod(*containers: dict[str, Any], lists: str = "containers") -> list[Resource]:
    document = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {lists: list(containers)},
    }
    return resources_of(yaml.safe_dump(document, sort_keys=False))


def test_allow_digest_with_forbidden_tag() -> None:
    resources = pod({"name": "app", "image": f"app:latest@{DIGEST}"})
    policy = BUILTIN["no-latest-tag"]
    assert findings(run(policy, resources))
    allowed = policy.configured(params={"allow_digest_with_forbidden_tag": True})
    assert [r.status for r in run(allowed, resources)] == [PASS]
    # The allowance needs the digest: a forbidden tag alone still fails.
    assert findings(run(allowed, pod({"name": "app", "image": "app:latest"})))


def test_resource_limits_require_subset() -> None:
    policy = BUILTIN["resource-limits"].configured(params={"require": ["requests.memory"]})
    only_memory = pod({"name": "a", "image": "a:1", "resources": {"requests": {"memory": "1Gi"}}})
    assert [r.status for r in run(policy, only_memory)] == [PASS]
    only_cpu = pod({"name": "a", "image": "a:1", "resources": {"requests": {"cpu": "1"}}})
    assert [r.message for r in findings(run(policy, only_cpu))] == [
        "container 'a' does not set requests.memory"
    ]


def test_resource_limits_container_lists() -> None:
    resources = pod({"name": "dbg", "image": "busybox:1"}, lists="ephemeralContainers")
    # Only ephemeral containers: not checked by default, so nothing to check.
    assert [r.status for r in run(BUILTIN["resource-limits"], resources)] == [SKIP]
    policy = BUILTIN["resource-limits"].configured(
        params={"containers": ["containers", "initContainers", "ephemeralContainers"]}
    )
    [finding] = findings(run(policy, resources))
    assert finding.field == "spec.ephemeralContainers[0].resources"


@pytest.mark.parametrize(
    ("policy_id", "name", "value"),
    [
        ("resource-limits", "require", []),
        ("resource-limits", "require", ["limits.gpu"]),
        ("resource-limits", "containers", ["sidecars"]),
        ("required-labels", "from", "spec"),
        ("required-labels", "labels", [{"pattern": "^x$"}]),
        ("required-labels", "labels", [""]),
        ("no-latest-tag", "forbidden_tags", "latest"),
        ("no-latest-tag", "allow_digest_with_forbidden_tag", "yes"),
    ],
)
def test_invalid_parameter_values_are_rejected(policy_id: str, name: str, value: Any) -> None:
    assert BUILTIN[policy_id].parameters[name].validate(value) is not None


def test_invalid_label_pattern_is_rejected_by_parameter_validation() -> None:
    parameter = BUILTIN["required-labels"].parameters["labels"]
    problem = parameter.validate([{"key": "owner", "pattern": "(["}])
    assert problem is not None and "regex" in problem


def test_invalid_label_pattern_does_not_pass() -> None:
    """A pattern that cannot be compiled (configured without validation) fails closed."""
    policy = BUILTIN["required-labels"].configured(
        params={"labels": [{"key": "owner", "pattern": "(["}]}
    )
    resources = resources_of(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: {owner: bob}\n"
    )
    [finding] = findings(run(policy, resources))
    assert "could not be evaluated" in finding.message
    assert "invalid regular expression" in finding.message
