"""Built-in change policies against their fixtures: change documents, one per YAML document.

``fixtures/policies/<id>/change-{pass,fail}.yaml``: each document is a change document
introduced by a ``# Case:`` comment, with two keys of the test's own, removed before
evaluation: ``params`` (the policy's parameters) and ``expect``:

- pass documents: by default every result passes; ``not_applicable: true``: the policy does
  not apply; ``skip: true``: it applies but finds nothing to check;
- fail documents: at least one finding; ``message``, ``count``, ``file`` and ``line`` of the
  first finding (and the number of findings) where given.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.change import subject
from gate.policy import Policy
from gate.policy_loading import load_builtin
from gate.results import FAIL, PASS, SKIP, WARN, Result, severity_rank
from gate.yamlio import load_located

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "policies"
BUILTIN = {policy.id: policy for policy in load_builtin()}
CHANGE_IDS = sorted(i for i, policy in BUILTIN.items() if policy.target == "change")


@dataclass(frozen=True)
class Case:
    policy_id: str
    expect_kind: str
    name: str
    document: dict[str, Any]
    params: dict[str, Any]
    expect: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.policy_id}/{self.expect_kind}: {self.name}"


def fixture(policy_id: str, expect: str) -> Path:
    return FIXTURES / policy_id / f"change-{expect}.yaml"


def cases(expect: str) -> list[Case]:
    found: list[Case] = []
    for policy_id in CHANGE_IDS:
        path = fixture(policy_id, expect)
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        names = re.findall(r"^# Case: (.+)$", text, re.MULTILINE)
        documents = [d.data for d in load_located(text, str(path)).documents]
        assert len(names) == len(documents), f"{path}: one '# Case:' comment per document"
        for name, data in zip(names, documents, strict=True):
            document = dict(data)
            params = document.pop("params", {})
            expected = document.pop("expect", {})
            found.append(Case(policy_id, expect, name, document, params, expected))
    return found


def judge(case: Case) -> list[Result]:
    policy: Policy = BUILTIN[case.policy_id].configured(enabled=True, params=case.params)
    document = case.document
    change = subject(document, document.get("environment", ""))
    return policy.check_change(change, severity_rank("info"))


@pytest.mark.parametrize("policy_id", CHANGE_IDS)
def test_every_change_policy_has_fixtures(policy_id: str) -> None:
    for expect in ("pass", "fail"):
        assert fixture(policy_id, expect).is_file(), f"{policy_id} has no change-{expect}.yaml"


@pytest.mark.parametrize("case", cases("pass"), ids=lambda case: case.label)
def test_pass_fixture(case: Case) -> None:
    results = judge(case)
    if case.expect.get("not_applicable"):
        assert results == []
        return
    statuses = {result.status for result in results}
    if case.expect.get("skip"):
        assert statuses == {SKIP}, [r.message for r in results]
    else:
        assert statuses == {PASS}, [r.message for r in results]


@pytest.mark.parametrize("case", cases("fail"), ids=lambda case: case.label)
def test_fail_fixture(case: Case) -> None:
    results = judge(case)
    findings = [result for result in results if result.status in (FAIL, WARN)]
    assert findings, f"no finding: {[(r.status, r.message) for r in results]}"
    first = findings[0]
    assert all(r.resource.is_change for r in findings)
    assert first.resource.environment == case.document.get("environment", "")
    if "message" in case.expect:
        assert first.message == case.expect["message"]
    if "count" in case.expect:
        assert len(findings) == case.expect["count"]
    if "file" in case.expect:
        assert (first.location_file, first.location_line) == (
            case.expect["file"], case.expect["line"])


def test_change_policies_are_not_judged_per_resource() -> None:
    from gate.evaluate import resource_policies

    assert not [p for p in resource_policies(list(BUILTIN.values())) if p.target == "change"]


def test_change_ticket_records_the_tickets_as_evidence() -> None:
    policy = BUILTIN["change-ticket"].configured(enabled=True)
    commits = [{"trailers": {"Change-Request": ["CHG2", "not-a-ticket"]}},
               {"trailers": {"change-request": ["CHG1"]}}, {"trailers": {}}]
    document = {"environment": "prod", "mode": "commits", "commits": commits,
                "head_commit": commits[0]}
    evidence = policy.record(subject(document, "prod"))
    # With `commits: head` only the head commit's ticket counts, so only it is evidence.
    assert [(e.label, e.environment, e.values) for e in evidence] == [
        ("Change tickets", "prod", ("CHG2",))]
    every = BUILTIN["change-ticket"].configured(enabled=True, params={"commits": "all"})
    assert [e.values for e in every.record(subject(document, "prod"))] == [("CHG1", "CHG2")]
    assert policy.record(subject({**document, "environment": "dev"}, "dev")) == []


def test_the_evidence_never_lists_a_ticket_the_verdict_ignored() -> None:
    """A ticket on an earlier commit is no evidence while the head commit's is missing:
    the report must not fail for a missing ticket and list one beside the failure."""
    policy = BUILTIN["change-ticket"].configured(enabled=True)
    commits = [{"sha": "a" * 40, "short_sha": "a" * 12, "subject": "bump", "trailers": {}},
               {"sha": "b" * 40, "short_sha": "b" * 12, "subject": "first",
                "trailers": {"Change-Request": ["CHG1"]}}]
    document = {"environment": "prod", "mode": "commits", "commits": commits,
                "head_commit": commits[0]}
    change = subject(document, "prod")
    assert [r.status for r in policy.check_change(change, severity_rank("low"))] == [FAIL]
    assert policy.record(change) == []
    assert policy.record(subject({**document, "commits": [], "head_commit": None}, "prod")) == []


CUSTOM = """\
apiVersion: gate.dev/v1
kind: Policy
id: prod-alone
title: Production changes come alone
description: A change that reaches prod reaches no other environment.
rationale: A production release is reviewed as one unit.
remediation: Split the change.
severity: high
target: change
{extra}
rules:
  - name: alone
    assert: "length(environments) == `1`"
    message: "this change reaches {{{{ join(', ', environments) }}}}"
"""


@pytest.mark.parametrize(("extra", "line", "says"), [
    ("match:\n  kinds: [Deployment]", 11, "match.kinds: a change policy selects by environments"),
    ("exclude:\n  paths: [apps/**]", 11, "exclude.paths"),
    ("evidence:\n  - {label: x, value: 'commits[?'}", 11, "evidence[0].value"),
    ("evidence:\n  - {label: x}", 11, "value"),
])
def test_change_policy_mistakes_are_errors(extra: str, line: int, says: str) -> None:
    from gate.errors import PolicyError
    from gate.policy_compile import load_policy_text

    with pytest.raises(PolicyError, match=re.escape(says)) as raised:
        load_policy_text(CUSTOM.format(extra=extra), "prod-alone.yaml")
    assert raised.value.line == line


def test_evidence_is_for_change_policies_only() -> None:
    from gate.errors import PolicyError
    from gate.policy_compile import load_policy_text

    text = CUSTOM.format(extra="evidence:\n  - {label: x, value: environment}").replace(
        "target: change", "target: resources")
    with pytest.raises(PolicyError, match="only change policies"):
        load_policy_text(text, "prod-alone.yaml")


def test_a_custom_change_policy_judges_each_environment() -> None:
    from gate.policy_compile import load_policy_text

    [policy] = load_policy_text(CUSTOM.format(extra="match:\n  environments: [prod]"), "p.yaml")
    alone = judge_document(policy, {"environment": "prod", "environments": ["prod"]})
    together = judge_document(policy, {"environment": "prod", "environments": ["dev", "prod"]})
    elsewhere = judge_document(policy, {"environment": "dev", "environments": ["dev", "prod"]})
    assert [r.status for r in alone] == [PASS]
    assert [(r.status, r.message) for r in together] == [
        (FAIL, "this change reaches dev, prod")]
    assert elsewhere == []


def judge_document(policy: Policy, document: dict[str, Any]) -> list[Result]:
    return policy.check_change(subject(document, document["environment"]), severity_rank("info"))
