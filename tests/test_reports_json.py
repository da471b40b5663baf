"""The JSON report: its shape follows the shipped JSON Schema, for every kind of outcome."""
from __future__ import annotations

import json
import random
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.reports import RenderOptions
from gate.reports.json import REPORT_VERSION, render
from gate.results import FAIL, PASS, UNJUDGED_CATEGORIES, WAIVED, Report
from tests.processes import gate_process
from tests.report_factory import (
    HELM_NOT_ASKED,
    IMAGE_POLICY,
    OVERRIDE,
    TICKET_POLICY,
    UNJUDGED,
    governance_report,
    make_audit,
    make_change,
    make_change_result,
    make_policy,
    make_report,
    make_result,
    make_unjudged,
    make_waiver,
    unjudged_report,
)

MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app.kubernetes.io/name: web}
spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:latest
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: {app.kubernetes.io/name: web}
---
just: a mapping
"""


def report_schema() -> dict[str, Any]:
    text = resources.files("gate.schemas").joinpath("report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def run_json(tmp_path: Path, *files: Path) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    proc = gate_process("check", *files, "-f", f"json={out}", cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(out.read_text("utf-8"))


def test_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())


@pytest.mark.e2e
def test_report_with_findings_passes_and_skips(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFESTS)
    code, report = run_json(tmp_path, manifest)
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert code == 1
    assert report["version"] == 2
    assert report["tool"]["name"] == "gate"
    assert report["verdict"] == "fail"
    statuses = {(r["policy"], r["resource"]["kind"], r["status"]) for r in report["results"]}
    assert ("no-latest-tag", "Deployment", "fail") in statuses
    assert ("required-labels", "Service", "pass") in statuses
    failure = next(r for r in report["results"]
                   if r["policy"] == "no-latest-tag" and r["status"] == "fail")
    assert failure["field"] == "spec.template.spec.containers[0].image"
    assert failure["line"] == 12
    assert failure["resource"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop",
        "file": "app.yaml", "line": 1, "environment": None, "rendered_by": None,
    }
    assert failure["file"] == "app.yaml"
    assert failure["new"] is None
    assert report["skipped"] == [{
        "file": "app.yaml", "line": 21,
        "message": "skipped: not a Kubernetes object (no apiVersion or kind)",
    }]
    summary = report["summary"]
    assert summary["results"] == len(report["results"])
    assert summary["fail"] == sum(r["status"] == "fail" for r in report["results"])


@pytest.mark.e2e
def test_report_with_input_error_fails_closed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n")
    code, report = run_json(tmp_path, broken)
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert code == 2
    assert report["verdict"] == "fail"
    assert report["errors"][0]["file"] == "broken.yaml"
    assert report["errors"][0]["line"] >= 3
    assert report["results"] == []


@pytest.mark.e2e
def test_clean_report_passes(tmp_path: Path) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        "  labels: {app.kubernetes.io/name: c}\n"
    )
    code, report = run_json(tmp_path, manifest)
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert code == 0
    assert report["verdict"] == "pass"
    assert report["errors"] == []


# -- change governance, rendered from a Report -------------------------------------


def rendered(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(report, RenderOptions()))
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    return data


def results_of(data: dict[str, Any], policy: str) -> list[dict[str, Any]]:
    return [result for result in data["results"] if result["policy"] == policy]


def test_governance_report_validates_and_counts_overridden() -> None:
    data = rendered(governance_report())
    assert data["version"] == REPORT_VERSION == 2
    assert data["verdict"] == "fail"
    assert data["summary"]["overridden"] == 2
    assert data["summary"]["waived"] == 1
    assert data["tool"] == {"name": "gate", "version": "9.9.9"}


def test_overridden_result_carries_its_override() -> None:
    data = rendered(governance_report())
    [image] = [r for r in results_of(data, "no-latest-tag") if r["status"] == "overridden"]
    assert image["override"] == {
        "trailer": "Gate-Override", "value": "INC-1234 payment outage", "ticket": "INC-1234",
        "reason": "payment outage", "commit": OVERRIDE.commit,
        "author": "Ann Oncall <ann@example.com>", "approved_by": "", "approval_commit": "",
    }
    assert image["waiver"] is None
    assert (image["file"], image["line"]) == ("overlays/prod/k.yaml", 9)
    assert image["resource"]["rendered_by"] == "overlays/prod"
    assert all(r["override"] is None for r in data["results"] if r["status"] != "overridden")


def test_waived_result_carries_its_waiver() -> None:
    [waived] = results_of(rendered(governance_report()), "required-labels")
    assert waived["status"] == "waived"
    assert waived["waiver"] == {
        "source": "waivers.yaml:12", "reason": "vendor sidecar pinned by the operator",
        "ticket": "SEC-42", "approved_by": "Sam Security <sam@example.com>",
        "expires": "2027-01-31",
    }


def test_inline_waiver_has_nulls() -> None:
    waiver = make_waiver("sidecar", source="annotation gate.dev/waive.K8S001", ticket=None,
                         approved_by=None, expires=None)
    [result] = rendered(make_report([make_result(make_policy(), status=WAIVED,
                                                 waiver=waiver)]))["results"]
    assert result["waiver"] == {"source": "annotation gate.dev/waive.K8S001",
                                "reason": "sidecar", "ticket": None, "approved_by": None,
                                "expires": None}


def test_change_results_have_a_change_subject_and_null_file_without_one() -> None:
    data = rendered(governance_report())
    [prod, staging] = results_of(data, "release-window")
    assert prod["resource"] == {
        "apiVersion": "gate.dev/v1", "kind": "Change", "name": "prod", "namespace": "",
        "file": None, "line": None, "environment": "prod", "rendered_by": None,
    }
    assert (prod["file"], prod["line"]) == (None, None)
    assert staging["resource"]["name"] == "staging"
    [certified] = results_of(data, "promotion-certified")
    assert certified["resource"]["kind"] == "Change"
    assert certified["resource"]["file"] is None
    assert (certified["file"], certified["line"]) == ("overlays/prod/kustomization.yaml", 14)


def test_change_without_environment_is_named_so() -> None:
    data = rendered(make_report([make_change_result(TICKET_POLICY, "", status=FAIL)]))
    [result] = data["results"]
    assert result["resource"]["name"] == "(no environment)"
    assert result["resource"]["environment"] is None


def test_policies_say_what_they_judge() -> None:
    policies = {p["id"]: p for p in rendered(governance_report())["policies"]}
    assert policies["release-window"]["target"] == "change"
    assert policies["release-window"]["overridable"] is True
    assert policies["required-labels"]["inline_waivers"] is True
    assert policies["no-latest-tag"]["target"] == "resources"


def test_change_environments_and_commits() -> None:
    change = rendered(governance_report())["change"]
    assert change["environments"] == ["prod", "staging"]
    assert change["commits"] == 2


def test_audit_section() -> None:
    audit = rendered(governance_report())["audit"]
    assert audit["range"] == f"{'b' * 40}..{'c' * 40}"
    assert (audit["evaluated_at"], audit["time_source"]) == ("2026-12-24T09:00:00Z", "--now")
    assert audit["gate_version"] == "9.9.9"
    assert audit["fingerprint"] == "f" * 64
    assert audit["inputs"] == [{"name": ".gate.yaml", "sha256": "1" * 64},
                               {"name": "builtin:no-latest-tag.yaml", "sha256": "2" * 64}]
    assert [w["state"] for w in audit["waivers"]] == ["active", "expired", "stale"]
    assert audit["waivers"][1] == {
        "source": "waivers.yaml:20", "policy": "image-digest", "reason": "legacy image",
        "ticket": "CHG-9", "approved_by": "jane.doe@example.com", "expires": "2026-11-30",
        "state": "expired", "matched": 2,
    }
    [override] = audit["overrides"]
    assert override["ticket"] == "INC-1234"
    assert override["policies"] == ["no-latest-tag", "release-window"]
    assert override["findings"] == 2
    assert audit["evidence"] == [
        {"policy": "change-ticket", "label": "Change tickets", "environment": "prod",
         "values": ["CHG123", "CHG124"]},
        {"policy": "change-ticket", "label": "Change tickets", "environment": "staging",
         "values": []},
    ]


def test_audit_controls_are_counted_per_control() -> None:
    controls = rendered(governance_report())["audit"]["controls"]
    assert controls == [
        {"id": "ISO27001:A.12.1.2", "policies": ["change-ticket", "release-window"],
         "pass": 2, "fail": 0, "warn": 1, "waived": 0, "baselined": 0, "overridden": 1, "skip": 0},
        {"id": "SOC2:CC8.1", "policies": ["no-latest-tag", "release-window"],
         "pass": 2, "fail": 0, "warn": 0, "waived": 0, "baselined": 0, "overridden": 2, "skip": 0},
        {"id": "(no control)", "policies": ["promotion-certified", "required-labels"],
         "pass": 0, "fail": 1, "warn": 0, "waived": 1, "baselined": 0, "overridden": 0, "skip": 0},
    ]


def test_audit_of_gate_check_and_of_the_index() -> None:
    check = rendered(make_report([make_result(make_policy(), status=PASS)],
                                 audit=make_audit(inputs=[("gone.yaml", "unreadable")])))
    assert check["change"] is None
    assert check["audit"]["range"] is None
    assert check["audit"]["inputs"] == [{"name": "gone.yaml", "sha256": "unreadable"}]
    staged = rendered(make_report([], audit=make_audit(), change=make_change(
        mode="staged", base_ref="HEAD", base_sha="e" * 40, head_ref="index", head_sha=None,
        merge_base=None, commits=0, environments=())))
    assert staged["audit"]["range"] == "staged"
    assert staged["change"]["commits"] == 0


def test_no_audit_is_null() -> None:
    data = rendered(make_report([]))
    assert data["audit"] is None
    assert data["summary"]["overridden"] == 0


def test_schema_rejects_what_the_renderer_never_writes() -> None:
    data = rendered(governance_report())
    validator = jsonschema.Draft202012Validator(report_schema())
    broken = json.loads(json.dumps(data))
    broken["results"][0]["status"] = "ignored"
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(data))
    broken["audit"]["controls"][0]["extra"] = 1
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(data))
    del broken["audit"]["overrides"][0]["findings"]
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(data))
    broken["results"][0]["waiver"] = "a string, as in version 1"
    assert not validator.is_valid(broken)


def test_output_is_deterministic() -> None:
    original = governance_report()
    results = list(original.results)
    random.Random(13).shuffle(results)
    shuffled = make_report(results, change=original.change, audit=original.audit)
    assert render(shuffled, RenderOptions()) == render(governance_report(), RenderOptions())


# -- what gate did not judge ---------------------------------------------------------


def test_unjudged_items_are_listed_sorted_and_counted() -> None:
    data = rendered(unjudged_report())
    assert data["unjudged"] == [
        {"file": u.file, "what": u.what, "category": u.category, "reason": u.reason}
        for u in UNJUDGED
    ]
    assert data["unjudged"][0] == {
        "file": "apps/web", "what": "Kustomize overlay", "category": "not rendered",
        "reason": "Kustomize rendering is off (--kustomize off)"}
    assert data["summary"]["unjudged"] == 4
    assert data["verdict"] == "pass"  # not judged is not a failure, but it is never silent
    keys = list(data)
    assert keys.index("unjudged") == keys.index("skipped") + 1


def test_no_unjudged_items_is_an_empty_list_and_zero() -> None:
    data = rendered(governance_report())
    assert data["unjudged"] == []
    assert data["summary"]["unjudged"] == 0


def test_schema_knows_every_unjudged_category_and_rejects_others() -> None:
    schema = report_schema()
    assert schema["$defs"]["unjudged"]["properties"]["category"]["enum"] == list(
        UNJUDGED_CATEGORIES)
    assert "unjudged" in schema["required"]
    assert "unjudged" in schema["properties"]["summary"]["required"]
    validator = jsonschema.Draft202012Validator(schema)
    data = rendered(unjudged_report())
    broken = json.loads(json.dumps(data))
    broken["unjudged"][0]["category"] = "ignored"
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(data))
    del broken["unjudged"][0]["reason"]
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(data))
    del broken["summary"]["unjudged"]
    assert not validator.is_valid(broken)


def test_hostile_unjudged_values_round_trip_as_json_strings() -> None:
    hostile = 'a"b\\c\n</script>\u2028\x00{"x": 1}'
    report = make_report([], unjudged=[make_unjudged(hostile, hostile, "not referenced",
                                                     hostile)])
    text = render(report, RenderOptions())
    data = rendered(report)
    assert data["unjudged"] == [{"file": hostile, "what": hostile, "category": "not referenced",
                                 "reason": hostile}]
    # one entry per line: a newline in a value cannot break the layout
    plain = render(make_report([], unjudged=[make_unjudged()]), RenderOptions())
    assert text.count("\n") == plain.count("\n")


def test_unjudged_output_is_byte_identical_whatever_the_input_order() -> None:
    first = render(unjudged_report(), RenderOptions())
    for seed in range(5):
        items = [*UNJUDGED, HELM_NOT_ASKED]
        random.Random(seed).shuffle(items)
        report = make_report([make_result(IMAGE_POLICY, status=PASS)], unjudged=items)
        assert render(report, RenderOptions()) == first


def test_result_lines_are_what_encoding_each_result_whole_gives() -> None:
    """The fast path (parts shared by many results encoded once) is the plain encoding."""
    from gate.reports.json import _dumps, _result, _result_lines

    policy = make_policy("weird\u202epolicy", controls=["CIS:5.2.1", "NIST:\x1bAC-6"])
    other = make_policy("other", enforcement="warn")
    hostile = "line\nbreak \x9b[31m \udcff bidi\u2066 quote\" back\\slash"
    results = [
        *governance_report().results,
        make_result(policy),
        make_result(policy),  # the same resource and outcome twice
        make_result(other),
        make_result(policy, status=FAIL, message=hostile, field="spec.x", finding_line=7),
        make_result(policy, status=FAIL, message=hostile, field="spec.x", finding_line=7,
                    finding_file="overlays/prod/patch.yaml", new=True),
        make_result(policy, name=hostile, file=f"apps/{hostile}.yaml", new=False),
        make_result(other, status=WAIVED, waiver="known, ticket open"),
        make_result(other, status="overridden", override=OVERRIDE),
    ]
    assert list(_result_lines(results)) == [_dumps(_result(result)) for result in results]
    report = make_report(results)
    assert json.loads(render(report, RenderOptions()))["results"] == [
        json.loads(_dumps(_result(result))) for result in report.results]
