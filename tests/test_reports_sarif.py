"""The SARIF report: valid SARIF 2.1.0 (the official schema) that GitHub code scanning takes."""
from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.commands.check import parse_formats
from gate.reports import FORMATS, RenderOptions
from gate.reports.sarif import INPUT_ERROR_RULE, SCHEMA_URI, fingerprints, render, rule_name
from gate.results import (
    FAIL,
    NOT_REFERENCED,
    OVERRIDDEN,
    PASS,
    SKIP,
    WAIVED,
    WARN,
    ChangedFile,
    Report,
)
from tests.conftest import RunGate
from tests.manifests import POD_LATEST
from tests.report_factory import (
    HELM_NOT_ASKED,
    IMAGE_POLICY,
    OVERRIDE,
    TICKET_POLICY,
    UNJUDGED,
    WAIVER,
    WINDOW_POLICY,
    governance_report,
    make_audit,
    make_change,
    make_change_result,
    make_error,
    make_override,
    make_policy,
    make_report,
    make_result,
    make_unjudged,
    make_waiver,
    unjudged_report,
    with_unjudged,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-schema-2.1.0.json"
needs_schema = pytest.mark.skipif(not SCHEMA_PATH.is_file(),
                                  reason=f"the SARIF 2.1.0 schema is not at {SCHEMA_PATH}")


@cache
def _validator() -> jsonschema.protocols.Validator | None:
    if not SCHEMA_PATH.is_file():
        return None
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate(log: Any) -> None:
    """Validate ``log`` against the official schema (when the shared folder has it)."""
    validator = _validator()
    if validator is not None:
        validator.validate(log)


def sarif(report: Report) -> dict[str, Any]:
    text = render(report, RenderOptions())
    assert text.endswith("}\n")
    log: dict[str, Any] = json.loads(text)
    validate(log)
    return log


def run_of(report: Report) -> dict[str, Any]:
    [run] = sarif(report)["runs"]
    return run


def rules_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}


def results_of(run: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [result for result in run["results"] if result["ruleId"] == rule_id]


def physical(result: dict[str, Any]) -> dict[str, Any]:
    [location] = result["locations"]
    found: dict[str, Any] = location["physicalLocation"]
    return found


def place(result: dict[str, Any]) -> tuple[str, int | None]:
    where = physical(result)
    return where["artifactLocation"]["uri"], where.get("region", {}).get("startLine")


# -- the log and its schema -----------------------------------------------------------


@needs_schema
def test_schema_is_the_official_one_and_its_declared_draft() -> None:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    assert "2.1.0" in schema["title"]
    validator = _validator()
    assert validator is not None
    assert type(validator) is jsonschema.validators.validator_for(schema)


@needs_schema
def test_schema_rejects_what_code_scanning_would() -> None:
    log = sarif(governance_report())
    del log["runs"][0]["tool"]["driver"]["name"]
    with pytest.raises(jsonschema.ValidationError):
        validate(log)


def test_format_is_registered() -> None:
    assert FORMATS["sarif"] == "gate.reports.sarif"
    assert parse_formats(["sarif=gate.sarif"]) == [("sarif", "gate.sarif")]


def test_log_header_and_driver() -> None:
    log = sarif(governance_report())
    assert log["$schema"] == SCHEMA_URI == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "gate"
    assert driver["version"] == driver["semanticVersion"] == "9.9.9"
    assert driver["informationUri"].startswith("https://")


def test_empty_report_is_a_valid_log_with_no_results() -> None:
    run = run_of(make_report([], policies=[make_policy()]))
    assert run["results"] == []
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["K8S001"]
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert run["properties"] == {"verdict": "pass", "fail_on": "info"}


# -- rules ----------------------------------------------------------------------------


def test_one_rule_per_policy_sorted_with_its_documentation() -> None:
    report = governance_report()
    run = run_of(report)
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [p.id for p in report.all_policies()]
    assert [rule["id"] for rule in rules] == sorted(rule["id"] for rule in rules)
    window = rules_of(run)["release-window"]
    assert window["name"] == "ReleaseWindow"
    assert window["shortDescription"] == {"text": "Release window"}
    assert window["fullDescription"] == {"text": WINDOW_POLICY.description}
    for text in (WINDOW_POLICY.description, WINDOW_POLICY.rationale,
                 WINDOW_POLICY.remediation):
        assert text in window["help"]["text"]
        assert text in window["help"]["markdown"]
    markdown = window["help"]["markdown"]
    assert markdown.index("## What it checks") < markdown.index("## Why it matters") \
        < markdown.index("## How to fix it")
    properties = window["properties"]
    assert properties["tags"] == ["SOC2:CC8.1", "ISO27001:A.12.1.2", "compliance", "security"]
    assert properties["precision"] == "very-high"
    assert properties["security-severity"] == "9.5"


@pytest.mark.parametrize(("severity", "score"), [
    ("critical", "9.5"), ("high", "8.0"), ("medium", "5.5"), ("low", "3.0"), ("info", "1.0"),
])
def test_security_severity_is_a_string_from_the_severity(severity: str, score: str) -> None:
    rules = rules_of(run_of(make_report([], policies=[make_policy(severity=severity)])))
    assert rules["K8S001"]["properties"]["security-severity"] == score


def test_default_level_from_enforcement_and_severity() -> None:
    policies = [make_policy("a-block"), make_policy("b-warn", enforcement="warn"),
                make_policy("c-info", severity="info")]
    rules = rules_of(run_of(make_report([], policies=policies)))
    levels = {rule_id: rule["defaultConfiguration"]["level"] for rule_id, rule in rules.items()}
    assert levels == {"a-block": "error", "b-warn": "warning", "c-info": "note"}


def test_rule_names() -> None:
    assert rule_name("no-latest-tag") == "NoLatestTag"
    assert rule_name("K8S001") == "K8S001"
    assert rule_name("helm.values_image-tag") == "HelmValuesImageTag"


# -- results --------------------------------------------------------------------------


def test_every_finding_and_no_pass_or_skip() -> None:
    policy = make_policy()
    report = make_report([
        make_result(policy, status=FAIL, name="a", message="bad"),
        make_result(policy, status=WARN, name="b", message="meh"),
        make_result(policy, status=WAIVED, name="c", message="ok", waiver="legacy"),
        make_result(policy, status=OVERRIDDEN, name="d", message="hot", override=OVERRIDE),
        make_result(policy, status=PASS, name="e"),
        make_result(policy, status=SKIP, name="f"),
    ])
    results = run_of(report)["results"]
    assert [r["properties"]["status"] for r in results] == [FAIL, WARN, WAIVED, OVERRIDDEN]
    assert all(r["ruleId"] == "K8S001" and r["ruleIndex"] == 0 for r in results)


def test_levels_by_status_and_enforcement() -> None:
    block, warn = make_policy("a-block"), make_policy("b-warn", enforcement="warn")
    low = make_policy("c-low", severity="low")
    report = make_report([
        make_result(block, status=FAIL, name="fail", message="x"),
        make_result(warn, status=WARN, name="warn", message="x"),
        make_result(block, status=WAIVED, name="waived-block", message="x", waiver="w"),
        make_result(warn, status=WAIVED, name="waived-warn", message="x", waiver="w"),
        make_result(low, status=WAIVED, name="waived-below", message="x", waiver="w"),
        make_result(block, status=OVERRIDDEN, name="overridden", message="x",
                    override=OVERRIDE),
    ], fail_on="medium")
    levels = {r["properties"]["resource"]["name"]: r["level"] for r in run_of(report)["results"]}
    assert levels == {"fail": "error", "warn": "warning", "waived-block": "error",
                      "waived-warn": "warning", "waived-below": "warning",
                      "overridden": "error"}


def test_result_located_at_the_offending_field() -> None:
    report = make_report([
        make_result(make_policy(), status=FAIL, message="image uses latest", file="apps/web.yaml",
                    line=1, finding_line=12, field="spec.template.spec.containers[0].image"),
        make_result(make_policy(), status=FAIL, name="api", message="m",
                    file="base/api.yaml", line=3, finding_file="overlays/prod/kustomization.yaml",
                    finding_line=9, environment="prod", rendered_by="overlays/prod"),
    ])
    web, api = run_of(report)["results"]  # sorted by environment first
    assert physical(web) == {"artifactLocation": {"uri": "apps/web.yaml", "uriBaseId": "%SRCROOT%"},
                             "region": {"startLine": 12}}
    assert web["message"]["text"] == "Deployment/prod/web: image uses latest"
    assert web["properties"]["field"] == "spec.template.spec.containers[0].image"
    assert place(api) == ("overlays/prod/kustomization.yaml", 9)
    assert api["message"]["text"] == "Deployment/prod/api (prod, overlays/prod): m"
    assert api["properties"]["environment"] == "prod"
    assert api["properties"]["rendered_by"] == "overlays/prod"


def test_uris_are_encoded_and_absolute_paths_are_file_uris() -> None:
    report = make_report([
        make_result(make_policy(), status=FAIL, name="a", message="m", file="my apps/web#1.yaml"),
        make_result(make_policy(), status=FAIL, name="b", message="m", file="/srv/repo/b.yaml"),
    ])
    absolute, relative = run_of(report)["results"]  # "/" sorts before "m"
    assert physical(relative)["artifactLocation"] == {"uri": "my%20apps/web%231.yaml",
                                                      "uriBaseId": "%SRCROOT%"}
    assert physical(absolute)["artifactLocation"] == {"uri": "file:///srv/repo/b.yaml"}


def test_new_findings_have_a_baseline_state() -> None:
    policy = make_policy()
    report = make_report([
        make_result(policy, status=FAIL, name="a", message="m", new=True),
        make_result(policy, status=FAIL, name="b", message="m", new=False),
        make_result(policy, status=FAIL, name="c", message="m"),
    ])
    states = [(r.get("baselineState"), r["properties"].get("new"))
              for r in run_of(report)["results"]]
    assert states == [("new", True), ("unchanged", False), (None, None)]


def test_waived_finding_is_suppressed_with_its_waiver() -> None:
    [waived] = results_of(run_of(governance_report()), "required-labels")
    assert waived["properties"]["status"] == WAIVED
    [suppression] = waived["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["status"] == "accepted"
    for part in (WAIVER.reason, "SEC-42", "Sam Security <sam@example.com>", "2027-01-31",
                 "waivers.yaml:12"):
        assert part in suppression["justification"]
    assert suppression["properties"]["approved_by"] == "Sam Security <sam@example.com>"


def test_inline_waiver_is_an_in_source_suppression() -> None:
    waiver = make_waiver("sidecar", source="annotation gate.dev/waive.K8S001", ticket=None,
                         approved_by=None, expires=None)
    [result] = run_of(make_report([make_result(make_policy(), status=WAIVED, message="m",
                                               waiver=waiver)]))["results"]
    [suppression] = result["suppressions"]
    assert suppression["kind"] == "inSource"
    assert suppression["properties"] == {"source": "annotation gate.dev/waive.K8S001",
                                         "reason": "sidecar"}


def test_overridden_finding_is_suppressed_with_its_override() -> None:
    run = run_of(governance_report())
    overridden = [r for r in run["results"] if r["properties"]["status"] == OVERRIDDEN]
    assert {r["ruleId"] for r in overridden} == {"no-latest-tag", "release-window"}
    for result in overridden:
        assert result["level"] == "error"
        [suppression] = result["suppressions"]
        assert suppression["kind"] == "external"
        assert suppression["status"] == "accepted"
        for part in ("INC-1234", "payment outage", "Ann Oncall <ann@example.com>",
                     OVERRIDE.commit):
            assert part in suppression["justification"]
    # SARIF §3.27.23: a run's results have suppressions all null or all non-null.
    assert all(r["suppressions"] == [] for r in run["results"]
               if r["properties"]["status"] in (FAIL, WARN))


# -- change policies ------------------------------------------------------------------


def test_change_findings_are_located_and_say_they_are_about_the_change() -> None:
    run = run_of(governance_report())
    [window] = results_of(run, "release-window")
    assert window["message"]["text"] == "change to prod: prod is frozen until 2027-01-04T00:00:00Z"
    assert place(window) == ("overlays/prod/kustomization.yaml", 1)
    assert window["properties"]["environment"] == "prod"
    assert "resource" not in window["properties"]
    [certified] = results_of(run, "promotion-certified")
    assert place(certified) == ("overlays/prod/kustomization.yaml", 14)
    assert certified["message"]["text"].startswith("change to prod: image ")


def test_change_finding_goes_to_a_changed_file_of_its_environment() -> None:
    change = make_change(files=[ChangedFile("D", "apps/gone.yaml"),
                                ChangedFile("M", "overlays/prod/kustomization.yaml"),
                                ChangedFile("M", "overlays/staging/kustomization.yaml")],
                         environments=("prod", "staging"))
    report = make_report([
        make_change_result(TICKET_POLICY, "staging", status=WARN, message="no ticket"),
        make_change_result(TICKET_POLICY, "prod", status=FAIL, message="no ticket"),
        make_change_result(TICKET_POLICY, "qa", status=FAIL, message="no ticket"),
    ], change=change)
    where = {r["properties"]["environment"]: place(r) for r in run_of(report)["results"]}
    assert where == {"prod": ("overlays/prod/kustomization.yaml", 1),
                     "staging": ("overlays/staging/kustomization.yaml", 1),
                     "qa": ("overlays/prod/kustomization.yaml", 1)}


def test_change_finding_prefers_a_changed_file_its_environment_renders() -> None:
    change = make_change(files=[ChangedFile("M", "base/web.yaml"),
                                ChangedFile("M", "overlays/prod/kustomization.yaml")])
    report = make_report([
        make_result(IMAGE_POLICY, status=PASS, file="base/web.yaml", environment="staging",
                    rendered_by="overlays/staging"),
        make_change_result(TICKET_POLICY, "staging", status=FAIL, message="no ticket"),
    ], change=change)
    [result] = run_of(report)["results"]
    assert place(result) == ("base/web.yaml", 1)


def test_change_finding_without_changed_files_goes_to_the_config() -> None:
    for change in (None, make_change(files=[ChangedFile("D", "apps/gone.yaml")])):
        report = make_report([make_change_result(WINDOW_POLICY, "prod", status=FAIL,
                                                 message="frozen")], change=change)
        [result] = run_of(report)["results"]
        assert place(result) == (".gate.yaml", 1)
        assert result["message"]["text"] == "change to prod: frozen"


# -- input errors ---------------------------------------------------------------------


def test_input_errors_fail_the_invocation_and_are_results() -> None:
    report = make_report(
        [make_result(make_policy(), status=FAIL, message="bad")],
        errors=[make_error("apps/broken.yaml", 3, "invalid YAML: oops"),
                make_error("apps/binary.yaml", None, "binary content")],
    )
    run = run_of(report)
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["K8S001", INPUT_ERROR_RULE]
    assert rules[1]["defaultConfiguration"] == {"level": "error"}
    errors = results_of(run, INPUT_ERROR_RULE)
    assert [(e["level"], e["ruleIndex"], e["message"]["text"]) for e in errors] == [
        ("error", 1, "binary content"), ("error", 1, "invalid YAML: oops")]
    assert [place(e) for e in errors] == [("apps/binary.yaml", None), ("apps/broken.yaml", 3)]
    assert "region" not in physical(errors[0])
    assert all(e["suppressions"] == [] for e in errors)
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    notifications = invocation["toolExecutionNotifications"]
    assert [(n["level"], n["message"]["text"]) for n in notifications] == [
        ("error", "binary content"), ("error", "invalid YAML: oops")]
    assert notifications[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}
    assert notifications[0]["associatedRule"] == {"id": INPUT_ERROR_RULE, "index": 1}
    assert run["properties"]["verdict"] == "fail"


def test_no_input_error_rule_without_errors() -> None:
    run = run_of(governance_report())
    assert INPUT_ERROR_RULE not in rules_of(run)
    assert run["invocations"][0]["executionSuccessful"] is True
    assert "toolExecutionNotifications" not in run["invocations"][0]


# -- fingerprints, audit, determinism -------------------------------------------------


def fingerprints_of(report: Report) -> list[str]:
    return [r["partialFingerprints"]["gate/v1"] for r in run_of(report)["results"]]


def test_fingerprints_are_stable_and_distinct() -> None:
    first, second = fingerprints_of(governance_report()), fingerprints_of(governance_report())
    assert first == second
    assert len(set(first)) == len(first) == 5
    assert all(len(fingerprint.partition(":")[0]) == 64 for fingerprint in first)


def test_fingerprint_ignores_the_line_but_not_the_finding() -> None:
    policy = make_policy()

    def one(**changes: Any) -> str:
        fields: dict[str, Any] = {"status": FAIL, "message": "m", "field": "spec.a",
                                  "finding_line": 12, **changes}
        [fingerprint] = fingerprints_of(make_report([make_result(policy, **fields)]))
        return fingerprint

    base = one()
    assert one(finding_line=40, line=30) == base
    assert one(message="other words") == base  # the field names the finding
    assert one(field="spec.b") != base
    assert one(name="api") != base
    assert one(environment="prod") != base
    assert one(field=None) != one(field=None, message="other words")


def test_identical_findings_get_numbered_fingerprints() -> None:
    assert fingerprints(["a", "b", "a", "a"]) == ["a:1", "b:1", "a:2", "a:3"]
    policy = make_policy()
    report = make_report([make_result(policy, status=FAIL, message="dup", finding_line=line)
                          for line in (5, 9)])
    assert [f.partition(":")[2] for f in fingerprints_of(report)] == ["1", "2"]


def test_audit_and_commit_range_in_the_run() -> None:
    run = run_of(governance_report())
    assert run["invocations"][0]["endTimeUtc"] == "2026-12-24T09:00:00Z"
    properties = run["properties"]
    assert properties["fingerprint"] == "f" * 64
    assert properties["range"] == f"{'b' * 40}..{'c' * 40}"
    assert properties["change"]["head_sha"] == "c" * 40
    assert properties["change"]["environments"] == ["prod", "staging"]
    plain = run_of(make_report([make_result(make_policy(), status=FAIL, message="m")]))
    assert "endTimeUtc" not in plain["invocations"][0]
    assert "fingerprint" not in plain["properties"]
    audited = run_of(make_report([], policies=[make_policy()], audit=make_audit()))
    assert audited["properties"]["fingerprint"] == "f" * 64
    assert "range" not in audited["properties"]


def test_same_report_gives_byte_identical_output() -> None:
    original = governance_report()
    results = list(original.results)
    random.Random(7).shuffle(results)
    shuffled = make_report(results, change=original.change, audit=original.audit)
    assert render(shuffled, RenderOptions()) == render(governance_report(), RenderOptions())


def test_hostile_text_is_cleaned() -> None:
    policy = make_policy(title="T\x1b[31m", description="line one\nline two\x00")
    override = make_override("INC-1", "why\x07")
    report = make_report([make_result(policy, status=OVERRIDDEN, name="w\udcff",
                                      message="msg \x1b]8;;x\x07", override=override)])
    text = render(report, RenderOptions())
    text.encode("utf-8")
    assert "\x1b" not in text and "\x07" not in text and "\x00" not in text
    validate(json.loads(text))
    assert json.loads(text)["runs"][0]["tool"]["driver"]["rules"][0]["fullDescription"] == {
        "text": "line one\nline two\\u0000"}


# -- what gate did not judge ----------------------------------------------------------


def test_unjudged_items_are_warning_notifications_at_their_path() -> None:
    run = run_of(unjudged_report())
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is True  # gate ran; it just did not look
    notifications = invocation["toolExecutionNotifications"]
    assert [(n["level"], n["message"]["text"]) for n in notifications] == [
        ("warning", f"{u.file}: not judged: {u.what} {u.category}: {u.reason}")
        for u in UNJUDGED
    ]
    assert notifications[1]["message"]["text"] == (
        "components/extra: not judged: Kustomize component not referenced: no overlay uses "
        "it; its 3 file(s) are not judged on their own")
    assert [place(n) for n in notifications] == [(u.file, None) for u in UNJUDGED]
    assert all(physical(n)["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
               for n in notifications)
    assert notifications[0]["properties"] == {
        "what": "Kustomize overlay", "category": "not rendered",
        "reason": "Kustomize rendering is off (--kustomize off)"}
    assert run["results"] == []  # no finding: code scanning must not open alerts for them


def test_unjudged_notifications_follow_the_input_errors() -> None:
    report = unjudged_report(make_report([], errors=[make_error("bad.yaml", 2, "oops")]))
    notifications = run_of(report)["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notifications] == ["error", *["warning"] * len(UNJUDGED)]
    assert "associatedRule" not in notifications[1]


def test_unjudged_locations_are_uris_and_need_a_path() -> None:
    report = make_report([], unjudged=[
        make_unjudged("", reason="why"),
        make_unjudged("charts/my chart#1", reason="why"),
        make_unjudged("/abs/chart", reason="why"),
    ])
    notifications = run_of(report)["invocations"][0]["toolExecutionNotifications"]
    assert "locations" not in notifications[0]
    assert notifications[0]["message"]["text"] == (
        "(no path): not judged: Helm chart not rendered: why")
    # sorted by path: "", then the absolute one, as a file: URI like a result's
    assert physical(notifications[1])["artifactLocation"] == {"uri": "file:///abs/chart"}
    assert physical(notifications[2])["artifactLocation"] == {
        "uri": "charts/my%20chart%231", "uriBaseId": "%SRCROOT%"}


def test_hostile_unjudged_text_is_cleaned() -> None:
    hostile = "x\n\x1b[31m\x00\udcff<b>`y`"
    report = make_report([], unjudged=[make_unjudged("apps/x", hostile, NOT_REFERENCED,
                                                     hostile)])
    text = render(report, RenderOptions())
    text.encode("utf-8")
    assert "\x1b" not in text and "\x00" not in text
    [notification] = sarif(report)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"] == (
        "apps/x: not judged: x \\u001b[31m\\u0000\\xff<b>`y` not referenced: "
        "x \\u001b[31m\\u0000\\xff<b>`y`")
    assert notification["properties"]["reason"] == "x\n\\u001b[31m\\u0000\\xff<b>`y`"


def test_unjudged_output_is_byte_identical_whatever_the_input_order() -> None:
    first = render(unjudged_report(governance_report()), RenderOptions())
    for seed in range(5):
        items = [*UNJUDGED, HELM_NOT_ASKED]
        random.Random(seed).shuffle(items)
        report = with_unjudged(governance_report(), items)
        assert render(report, RenderOptions()) == first
    validate(json.loads(first))


# -- end to end -----------------------------------------------------------------------


def test_check_writes_valid_sarif_and_fails(tmp_path: Path, gate_cli: RunGate) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "pod.yaml").write_text(POD_LATEST)
    proc = gate_cli("check", ".", "-f", "sarif=out.sarif", "--now", "2026-12-24T09:00:00Z",
                    cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    log = json.loads((tmp_path / "out.sarif").read_text("utf-8"))
    validate(log)
    [run] = log["runs"]
    [latest] = results_of(run, "no-latest-tag")
    assert latest["level"] == "error"
    assert place(latest) == ("apps/pod.yaml", 10)
    assert physical(latest)["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert latest["message"]["text"].startswith("Pod/web: container 'web' image 'nginx:latest'")
    [digest] = results_of(run, "image-digest")
    assert digest["level"] == "warning"
    rules = rules_of(run)
    assert {"no-latest-tag", "image-digest", "resource-limits"} <= set(rules)
    assert "help" in rules["no-latest-tag"] and rules["no-latest-tag"]["help"]["markdown"]
    assert run["invocations"][0] == {"executionSuccessful": True,
                                     "endTimeUtc": "2026-12-24T09:00:00Z"}
    assert len(run["properties"]["fingerprint"]) == 64
    again = gate_cli("check", ".", "-f", "sarif=again.sarif", "--now", "2026-12-24T09:00:00Z",
                     cwd=tmp_path)
    assert again.returncode == 1
    assert (tmp_path / "again.sarif").read_bytes() == (tmp_path / "out.sarif").read_bytes()


def test_check_with_unreadable_input_fails_closed(tmp_path: Path, gate_cli: RunGate) -> None:
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n")
    proc = gate_cli("check", ".", "-f", "sarif", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    log = json.loads(proc.stdout)
    validate(log)
    [run] = log["runs"]
    [error] = results_of(run, INPUT_ERROR_RULE)
    assert error["level"] == "error"
    uri, line = place(error)
    assert uri == "broken.yaml" and line is not None and line >= 3
    assert run["invocations"][0]["executionSuccessful"] is False
