"""Built-in change policies: what their findings point at, the evidence they record, and
custom change policies.

Their cases are change documents, one per YAML document, in
``gate/policies/<id>/change-{pass,fail}.yaml``; ``<id>.test.yaml`` beside them states
what each must get, and ``gate test gate/policies`` judges them
(tests/test_builtin_policies.py runs it).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.evaluation.policy import Policy
from gate.evaluation.policy_loading import load_builtin
from gate.governance.change import subject
from gate.policytest.loading import load_test_file
from gate.policytest.running import PolicyCache, change_subjects, load_policies
from gate.results import FAIL, PASS, WARN, Result, severity_rank

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "gate" / "policies"
BUILTIN = {policy.id: policy for policy in load_builtin()}
CHANGE_IDS = sorted(i for i, policy in BUILTIN.items() if policy.target == "change")


def locations(value: Any) -> Iterator[tuple[Any, Any]]:
    """Every (file, line) a change document records, at any depth."""
    if isinstance(value, dict):
        if "file" in value and "line" in value:
            yield value["file"], value["line"]
        for item in value.values():
            yield from locations(item)
    elif isinstance(value, list):
        for item in value:
            yield from locations(item)


@pytest.mark.parametrize("policy_id", CHANGE_IDS)
def test_a_change_finding_points_at_a_place_its_document_records(policy_id: str) -> None:
    """A finding with a location names a file and line the change document holds, never
    one made up (``gate test`` states the line, not the file)."""
    test_file = load_test_file(str(PACK / policy_id / f"{policy_id}.test.yaml"))
    cache = PolicyCache()
    located = 0
    for test in test_file.tests:
        for found in change_subjects(test, load_policies(test, cache)):
            assert found.document is not None
            name, number = found.document
            text = (PACK / policy_id / name).read_text(encoding="utf-8")
            document = list(yaml.safe_load_all(text))[number - 1]
            for result in found.results.get(policy_id, []):
                if result.status in (FAIL, WARN) and result.location_line:
                    assert (result.location_file, result.location_line) in set(
                        locations(document)), f"{name}#{number}: {result.message}"
                    located += 1
    if policy_id in ("environment-drift", "promotion-certified", "release-tag-exists"):
        assert located, "no finding with a location: the test checks nothing"


def test_change_policies_are_not_judged_per_resource() -> None:
    from gate.evaluation.evaluate import resource_policies

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
    from gate.evaluation.policy_compile import load_policy_text

    with pytest.raises(PolicyError, match=re.escape(says)) as raised:
        load_policy_text(CUSTOM.format(extra=extra), "prod-alone.yaml")
    assert raised.value.line == line


def test_evidence_is_for_change_policies_only() -> None:
    from gate.errors import PolicyError
    from gate.evaluation.policy_compile import load_policy_text

    text = CUSTOM.format(extra="evidence:\n  - {label: x, value: environment}").replace(
        "target: change", "target: resources")
    with pytest.raises(PolicyError, match="only change policies"):
        load_policy_text(text, "prod-alone.yaml")


def test_a_custom_change_policy_judges_each_environment() -> None:
    from gate.evaluation.policy_compile import load_policy_text

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
