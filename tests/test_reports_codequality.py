"""The GitLab Code Quality report: GitLab's documented format, stable fingerprints, and
nothing that fails or was let through left out."""
from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.reports import FORMATS, RenderOptions
from gate.reports.codequality import NOT_JUDGED_CHECK, render
from gate.reports.sarif import INPUT_ERROR_RULE
from gate.results import FAIL, OVERRIDDEN, PASS, SKIP, WAIVED, WARN, ChangedFile, Report
from tests.conftest import RunGate
from tests.manifests import POD_LATEST
from tests.report_factory import (
    UNJUDGED,
    WINDOW_POLICY,
    governance_report,
    make_change,
    make_change_result,
    make_error,
    make_override,
    make_policy,
    make_report,
    make_result,
    unjudged_report,
)
from tests.test_demo import DEMO, VIOLATIONS

# Written from GitLab's documentation of the format (see its "description").
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "gitlab-codequality.schema.json"
HEX64 = set("0123456789abcdef")

POLICY = make_policy("K8S001", title="No root", severity="high")
WARN_POLICY = make_policy("K8S002", title="Probes", severity="low", enforcement="warn")


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def issues_of(report: Report) -> list[dict[str, Any]]:
    """The rendered report, parsed and validated against GitLab's format."""
    text = render(report, RenderOptions())
    assert text.endswith("\n") and not text.startswith("\ufeff")  # GitLab refuses a BOM
    issues: list[dict[str, Any]] = json.loads(text)
    _validator().validate(issues)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    return issues


def sample_report() -> Report:
    return make_report(
        [
            make_result(POLICY, status=FAIL, message="runs as root", line=12, finding_line=20,
                        field="spec.containers[0]"),
            make_result(WARN_POLICY, status=WARN, message="no probe", line=12, finding_line=25),
            make_result(POLICY, status=OVERRIDDEN, name="hot", message="runs as root",
                        override=make_override()),
            make_result(POLICY, status=WAIVED, name="db", message="runs as root", waiver="why"),
            make_result(POLICY, status=PASS, name="api"),
            make_result(POLICY, status=SKIP, name="cm", kind="ConfigMap", message="nothing"),
        ],
        errors=[make_error("apps/broken.yaml", 7, "invalid YAML: bad indentation"),
                make_error("apps/empty.yaml", None, "cannot read: no such file")],
    )


def test_format_is_registered() -> None:
    assert FORMATS["codequality"] == "gate.reports.codequality"


def test_the_schema_refuses_what_gitlab_refuses() -> None:
    # The schema must be able to fail: these are the mistakes GitLab's format forbids.
    good = {"description": "d", "check_name": "c", "fingerprint": "f", "severity": "minor",
            "location": {"path": "a.yaml", "lines": {"begin": 1}}}
    _validator().validate([good])
    for bad in [
        {**good, "severity": "high"},
        {key: value for key, value in good.items() if key != "fingerprint"},
        {**good, "location": {"path": "/abs/a.yaml", "lines": {"begin": 1}}},
        {**good, "location": {"path": "a.yaml"}},
        {**good, "location": {"path": "a.yaml", "lines": {"begin": 0}}},
    ]:
        with pytest.raises(jsonschema.ValidationError):
            _validator().validate([bad])
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(good)  # an array, not one issue


def test_errors_then_blocking_warning_and_overridden_findings() -> None:
    issues = issues_of(sample_report())
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
            for i in issues] == [
        (INPUT_ERROR_RULE, "blocker", "apps/broken.yaml", 7),
        (INPUT_ERROR_RULE, "blocker", "apps/empty.yaml", 1),
        ("K8S001", "critical", "apps/web.yaml", 1),  # overridden "hot": its resource's line
        ("K8S001", "critical", "apps/web.yaml", 20),
        ("K8S002", "minor", "apps/web.yaml", 25),
    ]
    descriptions = [issue["description"] for issue in issues]
    assert descriptions[0] == ("apps/broken.yaml:7: input could not be read, so the gate "
                               "fails: invalid YAML: bad indentation")
    assert descriptions[2] == (
        "[K8S001] Deployment/prod/hot: runs as root (OVERRIDDEN by Gate-Override: INC-1234 "
        "checkout is down (by Ops Person <ops@example.com>, commit aaaaaaaaaaaa): let through, "
        "would have blocked)")
    assert descriptions[3] == ("[K8S001] Deployment/prod/web: runs as root (at "
                               "spec.containers[0]) (blocks the merge)")
    assert descriptions[4] == "[K8S002] Deployment/prod/web: no probe (warning, does not block)"
    # Waived, passed and skipped results are not issues.
    assert not any(name in text for text in descriptions for name in ("/db", "/api", "/cm"))


@pytest.mark.parametrize(("severity", "expected"), [
    ("critical", "blocker"), ("high", "critical"), ("medium", "major"), ("low", "minor"),
    ("info", "info"),
])
def test_severity_maps_from_the_policy(severity: str, expected: str) -> None:
    policy = make_policy("P", severity=severity)
    [issue] = issues_of(make_report([make_result(policy, status=FAIL, message="m")]))
    assert issue["severity"] == expected


def test_fingerprint_ignores_the_line_and_tells_findings_apart() -> None:
    def fingerprint(**changes: Any) -> str:
        fields: dict[str, Any] = {"status": FAIL, "message": "m", "field": "spec.x",
                                  "finding_line": 10, **changes}
        [issue] = issues_of(make_report([make_result(POLICY, **fields)]))
        print_: str = issue["fingerprint"]
        assert len(print_) == 64 and set(print_) <= HEX64
        return print_

    first = fingerprint()
    assert fingerprint(finding_line=99, line=40) == first  # lines moved: same issue
    assert fingerprint(status=WARN) == first  # same finding, now a warning
    assert fingerprint(status=OVERRIDDEN, override=make_override()) == first
    assert fingerprint(message="other words") == first  # the field identifies it
    assert fingerprint(field="spec.y") != first
    assert fingerprint(name="api") != first
    assert fingerprint(environment="staging") != first
    assert fingerprint(rendered_by="overlays/prod") != first


def test_identical_findings_get_distinct_fingerprints() -> None:
    # GitLab shows issues with one fingerprint as one: two identical findings stay two.
    same = [make_result(POLICY, status=FAIL, message="m", finding_line=line) for line in (4, 9)]
    issues = issues_of(make_report(same))
    assert len(issues) == 2 and issues[0]["fingerprint"] != issues[1]["fingerprint"]


def test_output_is_deterministic() -> None:
    first = render(sample_report(), RenderOptions())
    for seed in range(3):
        report = sample_report()
        random.Random(seed).shuffle(report.results)
        shuffled = make_report(report.results, errors=reversed(report.errors))
        assert render(shuffled, RenderOptions(color=True, verbose=True)) == first


def test_change_findings_are_located_where_the_change_is() -> None:
    issues = issues_of(governance_report())
    by_check = {(issue["check_name"], issue["description"].split(":")[0]): issue["location"]
                for issue in issues}
    # A finding pointing into an overlay keeps its place.
    assert by_check[("promotion-certified", "[promotion-certified] change to prod")] == {
        "path": "overlays/prod/kustomization.yaml", "lines": {"begin": 14}}
    # A release window has no place in a file: the changed file that reaches prod.
    assert by_check[("release-window", "[release-window] change to prod")] == {
        "path": "overlays/prod/kustomization.yaml", "lines": {"begin": 1}}
    assert "required-labels" not in {issue["check_name"] for issue in issues}  # waived


def test_change_finding_without_any_changed_file_is_at_the_config() -> None:
    report = make_report(
        [make_change_result(WINDOW_POLICY, "prod", status=FAIL, message="frozen")],
        change=make_change(files=[ChangedFile("D", "gone.yaml")]))
    [issue] = issues_of(report)
    assert issue["location"] == {"path": ".gate.yaml", "lines": {"begin": 1}}
    assert issue["description"] == "[release-window] change to prod: frozen (blocks the merge)"


def test_what_was_not_judged_is_an_info_issue() -> None:
    issues = issues_of(unjudged_report())
    unjudged = [issue for issue in issues if issue["check_name"] == NOT_JUDGED_CHECK]
    assert [(i["location"]["path"], i["severity"]) for i in unjudged] == [
        (item.file, "info") for item in UNJUDGED]
    assert unjudged[0]["description"] == (
        "apps/web: not judged: Kustomize overlay not rendered: Kustomize rendering is off "
        "(--kustomize off)")


def test_an_empty_report_is_an_empty_array() -> None:
    assert render(make_report([]), RenderOptions()) == "[]\n"
    assert issues_of(make_report([make_result(POLICY, status=PASS)])) == []


def test_hostile_values_stay_inert_and_valid() -> None:
    hostile = 'x\x1b[31m\u202e"\\\n</script>\udcff'
    policy = make_policy("K8S009", title=hostile)
    report = make_report(
        [make_result(policy, status=FAIL, message=hostile, name=hostile, file=hostile,
                     field=hostile)],
        errors=[make_error(hostile, 3, hostile)])
    text = render(report, RenderOptions())
    assert "\x1b" not in text and "\u202e" not in text
    issues = issues_of(report)
    assert all("\n" not in issue["description"] for issue in issues)
    assert "\\u001b[31m\\u202e" in issues[0]["description"]
    assert issues[0]["location"]["path"].endswith("\\xff")


# -- end to end ------------------------------------------------------------------------


@pytest.mark.e2e
def test_demo_issues_are_its_deliberate_violations(gate_cli: RunGate, repo_root: Path) -> None:
    proc = gate_cli("check", DEMO, "-f", "codequality", cwd=repo_root)
    assert proc.returncode == 1, proc.stderr
    issues = json.loads(proc.stdout)
    _validator().validate(issues)
    found = {(issue["location"]["path"], issue["location"]["lines"]["begin"],
              issue["check_name"]) for issue in issues}
    assert found == {(f"{DEMO}/{file}", line, policy) for file, line, policy, _ in VIOLATIONS}
    blocking = {(file, policy) for file, _, policy, status in VIOLATIONS if status == "fail"}
    for issue in issues:
        path = issue["location"]["path"].removeprefix(f"{DEMO}/")
        expected = "(blocks the merge)" if (path, issue["check_name"]) in blocking else (
            "(warning, does not block)")
        assert issue["description"].endswith(expected)


def test_check_with_an_unreadable_input_reports_it(tmp_path: Path, gate_cli: RunGate) -> None:
    (tmp_path / "pod.yaml").write_text(POD_LATEST)
    (tmp_path / "bad.yaml").write_text("a: [unclosed\n")
    proc = gate_cli("check", ".", "-f", "codequality=gl-code-quality-report.json",
                    cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr  # fails closed
    issues = json.loads((tmp_path / "gl-code-quality-report.json").read_text("utf-8"))
    _validator().validate(issues)
    assert [(i["check_name"], i["severity"], i["location"]["path"]) for i in issues] == [
        (INPUT_ERROR_RULE, "blocker", "bad.yaml"),
        ("image-digest", "major", "pod.yaml"),  # medium, warn
        ("no-latest-tag", "critical", "pod.yaml"),
    ]
    assert {i["location"]["lines"]["begin"] for i in issues[1:]} == {10}
