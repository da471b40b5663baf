"""The built-in policy pack: fixtures, own examples, documentation, ``gate explain``.

Fixtures live in ``fixtures/policies/<policy-id>/{pass,fail}.yaml``; for a policy with
``target: documents`` (which sees only the files its ``match.paths`` select) in
``values-{pass,fail}.yaml``, read as documents.  Each document
is one case, introduced by a ``# Case:`` comment (``# Context:`` for context only).
Annotations under ``metadata.annotations`` steer the test:

- ``gate.test/params``: JSON object of parameters; the policy is configured with them;
- ``gate.test/not-applicable: "true"`` (pass.yaml): the policy must not apply at all;
- ``gate.test/expect-field`` (required in fail.yaml): field path of the first finding,
  whose line must be the line of that field (or of its deepest existing part) in the file;
- ``gate.test/expect-message``: the first finding's exact message;
- ``gate.test/expect-count``: how many findings the policy reports;
- ``gate.test/context-only: "true"``: not a case, only part of the context (below).

Each document is judged with the other documents of its file as its context
(gate/context.py), as ``gate check`` judges a file: cross-resource policies find their
related resources there.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.context import Context
from gate.evaluate import context_of, evaluate
from gate.policy import Policy, load_builtin
from gate.resources import Note, Resource, read_resources
from gate.results import FAIL, PASS, SKIP, WARN, Result
from gate.sources import SourceFile
from tests.conftest import RunGate

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "policies"
NOT_POLICY_DIRS = {"custom"}  # example custom policies, tested in test_policy_engine.py
ANNOTATION = "gate.test/"
FINDING = (FAIL, WARN)

BUILTIN: dict[str, Policy] = {policy.id: policy for policy in load_builtin()}
POLICY_IDS = sorted(BUILTIN)
# Change policies judge change documents: their fixtures are tested in test_change_policies.py.
RESOURCE_POLICY_IDS = [i for i in POLICY_IDS if BUILTIN[i].target != "change"]


# -- fixture reading ---------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    policy_id: str
    expect: str  # "pass" or "fail"
    source: SourceFile
    resource: Resource
    context: Context  # every resource of the file

    @property
    def annotations(self) -> dict[str, str]:
        found = self.resource.metadata.get("annotations") or {}
        return {k.removeprefix(ANNOTATION): v for k, v in found.items() if k.startswith(ANNOTATION)}

    @property
    def label(self) -> str:
        return f"{self.policy_id}/{self.expect}:{self.resource.line}:{self.resource.identity()}"


def reads_documents(policy_id: str) -> bool:
    return BUILTIN[policy_id].target == "documents"


def fixture_path(policy_id: str, expect: str) -> Path:
    prefix = "values-" if reads_documents(policy_id) else ""  # a name its match.paths select
    return FIXTURES / policy_id / f"{prefix}{expect}.yaml"


def read_fixture(
    path: Path, documents: bool = False
) -> tuple[SourceFile, list[Resource], list[Note]]:
    source = SourceFile(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    resources: list[Resource] = []
    notes: list[Note] = []
    for entry in read_resources(source, documents):
        (resources if isinstance(entry, Resource) else notes).append(entry)
    return source, resources, notes


def collect_cases(expect: str) -> list[Case]:
    cases: list[Case] = []
    for policy_id in RESOURCE_POLICY_IDS:
        path = fixture_path(policy_id, expect)
        if path.is_file():  # a missing file fails test_every_builtin_policy_has_fixtures
            source, resources, _ = read_fixture(path, reads_documents(policy_id))
            context = context_of(resources)
            cases.extend(Case(policy_id, expect, source, r, context) for r in resources
                         if (r.metadata.get("annotations") or {}).get(
                             ANNOTATION + "context-only") != "true")
    return cases


PASS_CASES = collect_cases("pass")
FAIL_CASES = collect_cases("fail")


def configured(case: Case) -> Policy:
    policy = BUILTIN[case.policy_id]
    params = case.annotations.get("params")
    return policy.configured(params=json.loads(params)) if params else policy


def run(policy: Policy, resources: list[Resource], fail_on: str = "info",
        context: Context | None = None) -> list[Result]:
    # Opt-in policies (enabled: false) are tested as a repository that enables them.
    return evaluate([policy.configured(enabled=True)], resources, fail_on, context)


def findings(results: list[Result]) -> list[Result]:
    return [r for r in results if r.status in FINDING]


def resources_of(text: str, name: str = "example.yaml", documents: bool = False) -> list[Resource]:
    entries = read_resources(SourceFile(name, text), documents)
    return [r for r in entries if isinstance(r, Resource)]


# An oracle for field lines, independent of gate's own path parsing and line lookup.
_SEGMENT = re.compile(r'\.?(?:(?P<key>[A-Za-z_$][\w$-]*)|"(?P<quoted>[^"]*)"|\[(?P<index>\d+)\])')


def parse_field(text: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = _SEGMENT.match(text, position)
        assert match, f"bad expect-field {text!r} at {position}"
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


# -- the fixtures exist and are well-formed ------------------------------------------


@pytest.mark.parametrize("policy_id", RESOURCE_POLICY_IDS)
def test_every_builtin_policy_has_fixtures(policy_id: str) -> None:
    for expect in ("pass", "fail"):
        path = fixture_path(policy_id, expect)
        assert path.is_file(), f"built-in policy {policy_id} has no {path.relative_to(ROOT)}"
        _, resources, notes = read_fixture(path, reads_documents(policy_id))
        assert resources, f"{path} holds no resources"
        assert not notes, f"{path}: documents that are not resources: {notes}"


def test_no_fixtures_for_unknown_policies() -> None:
    stale = {p.name for p in FIXTURES.iterdir() if p.is_dir()} - set(POLICY_IDS) - NOT_POLICY_DIRS
    assert not stale, f"fixtures for policies that do not exist: {sorted(stale)}"


@pytest.mark.parametrize("policy_id", RESOURCE_POLICY_IDS)
@pytest.mark.parametrize("expect", ["pass", "fail"])
def test_fixture_documents_name_their_case(policy_id: str, expect: str) -> None:
    path = fixture_path(policy_id, expect)
    if not path.is_file():
        pytest.skip("missing; reported by test_every_builtin_policy_has_fixtures")
    text = path.read_text(encoding="utf-8")
    documents = re.split(r"^---\s*$", text, flags=re.MULTILINE)
    for number, document in enumerate(documents, 1):
        assert re.search(r"^# (Case|Context): \S", document, re.MULTILINE), (
            f"{path.name} document {number} has no '# Case:' (or '# Context:') comment"
        )
    _, resources, _ = read_fixture(path, reads_documents(policy_id))
    identities = [r.identity() for r in resources]
    assert len(identities) == len(set(identities)), "resource names repeat within the file"


def test_fail_fixtures_name_their_expected_field() -> None:
    missing = [case.label for case in FAIL_CASES if "expect-field" not in case.annotations]
    assert not missing, f"fail fixtures without gate.test/expect-field: {missing}"


# -- the fixtures behave as stated ---------------------------------------------------


@pytest.mark.parametrize("case", PASS_CASES, ids=lambda case: case.label)
def test_pass_fixture(case: Case) -> None:
    results = run(configured(case), [case.resource], context=case.context)
    if case.annotations.get("not-applicable") == "true":
        assert results == [], "the policy should not apply to this resource"
        return
    assert results, "the policy did not apply, so the case tests nothing"
    unexpected = [(r.status, r.field, r.message) for r in results if r.status not in (PASS, SKIP)]
    assert not unexpected


@pytest.mark.parametrize("case", FAIL_CASES, ids=lambda case: case.label)
def test_fail_fixture(case: Case) -> None:
    found = findings(run(configured(case), [case.resource], context=case.context))
    assert found, "no finding"
    notes = case.annotations
    first = found[0]
    assert first.field == notes["expect-field"], first.message
    path = case.resource.prefix + parse_field(notes["expect-field"])
    assert first.line == field_line(case.source.text, case.resource.doc_index, path)
    if "expect-message" in notes:
        assert first.message == notes["expect-message"]
    if "expect-count" in notes:
        assert len(found) == int(notes["expect-count"]), [r.message for r in found]


@pytest.mark.parametrize("policy_id", RESOURCE_POLICY_IDS)
def test_fixtures_cover_fail_and_pass_paths_in_gate_check(
    policy_id: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    """End to end: ``gate check`` with only this policy reports what the engine reports."""
    (tmp_path / ".git").mkdir()  # stops the search for a .gate.yaml here
    config = tmp_path / "gate.yaml"
    disabled = {other: {"enabled": False} for other in POLICY_IDS if other != policy_id}
    enabled = {policy_id: {"enabled": True}}  # opt-in policies too
    config.write_text(json.dumps({"policies": {**disabled, **enabled}}), encoding="utf-8")
    policy = BUILTIN[policy_id]
    for expect, cases in (("pass", PASS_CASES), ("fail", FAIL_CASES)):
        path = fixture_path(policy_id, expect)
        if not path.is_file():
            pytest.skip("missing; reported by test_every_builtin_policy_has_fixtures")
        completed = gate_cli("check", "-c", config, "-f", "json", path, cwd=tmp_path)
        assert completed.returncode in (0, 1), completed.stderr
        report = json.loads(completed.stdout)
        assert report["errors"] == []
        by_resource: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for result in report["results"]:
            key = (result["resource"]["kind"], result["resource"]["name"])
            by_resource.setdefault(key, []).append(result)
        for case in cases:
            if case.policy_id != policy_id or "params" in case.annotations:
                continue  # parameters cannot differ per document on the command line
            got = by_resource.get((case.resource.kind, case.resource.name), [])
            statuses = {r["status"] for r in got}
            if expect == "pass":
                assert statuses <= {PASS, SKIP}, case.label
            else:
                first = next(r for r in got if r["status"] in FINDING)
                assert first["field"] == case.annotations["expect-field"], case.label
        if expect == "fail":
            blocks = policy.info.enforcement == "block"
            assert completed.returncode == (1 if blocks else 0)


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
    from gate.policy import builtin_files, load_policy_text

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
