"""The per-control CSV export: parsed back with Python's csv module, as a spreadsheet
would read it."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from gate.reports import RenderOptions
from gate.reports.csv import COLUMNS, cell, render
from gate.results import FAIL
from tests.conftest import RunGate
from tests.manifests import POD_LATEST
from tests.report_factory import (
    OVERRIDE,
    governance_report,
    make_override,
    make_policy,
    make_report,
    make_result,
)


def parsed(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_one_row_per_control_and_result_in_framework_order() -> None:
    text = render(governance_report(), RenderOptions())
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = parsed(text)
    keys = [(r["framework"], r["control"], r["policy"], r["status"], r["environment"])
            for r in rows]
    assert keys == [
        # SOC 2 (registered) first, its control's policies by id, results in report order.
        ("SOC2", "SOC2:CC8.1", "no-latest-tag", "passed", "prod"),
        ("SOC2", "SOC2:CC8.1", "no-latest-tag", "overridden", "prod"),
        ("SOC2", "SOC2:CC8.1", "release-window", "overridden", "prod"),
        ("SOC2", "SOC2:CC8.1", "release-window", "passed", "staging"),
        # Then Other: an unregistered framework's control (release-window again: a
        # policy mapped to two controls gives each result two rows).
        ("Other", "ISO27001:A.12.1.2", "change-ticket", "passed", "prod"),
        ("Other", "ISO27001:A.12.1.2", "change-ticket", "warning", "staging"),
        ("Other", "ISO27001:A.12.1.2", "release-window", "overridden", "prod"),
        ("Other", "ISO27001:A.12.1.2", "release-window", "passed", "staging"),
        # Last: results of policies mapped to no control.
        ("", "", "promotion-certified", "failed", "prod"),
        ("", "", "required-labels", "waived", "prod"),
    ]


def test_rows_carry_the_control_title_waiver_and_override() -> None:
    rows = parsed(render(governance_report(), RenderOptions()))
    overridden = next(r for r in rows if r["policy"] == "no-latest-tag"
                      and r["status"] == "overridden")
    assert overridden["framework_title"] == "SOC 2 Trust Services Criteria 2017"
    assert overridden["control_title"].startswith("The entity authorizes, designs")
    assert (overridden["resource"], overridden["file"], overridden["line"]) == (
        "Deployment/prod/web", "overlays/prod/k.yaml", "9")
    assert overridden["new"] == "new"
    assert overridden["override"] == "INC-1234 payment outage"
    assert (overridden["override_author"], overridden["override_commit"]) == (
        "Ann Oncall <ann@example.com>", OVERRIDE.commit)
    window = next(r for r in rows if r["policy"] == "release-window"
                  and r["status"] == "overridden")
    assert (window["resource"], window["file"], window["line"]) == ("change to prod", "", "")
    waived = next(r for r in rows if r["status"] == "waived")
    assert waived["waiver"] == "waivers.yaml:12: vendor sidecar pinned by the operator"
    assert (waived["waiver_ticket"], waived["waiver_approved_by"], waived["waiver_expires"]) \
        == ("SEC-42", "Sam Security <sam@example.com>", "2027-01-31")


def test_an_approved_override_names_its_approver() -> None:
    policy = make_policy("release-window", controls=("SOC2:CC8.1",), overridable=True)
    override = make_override(approved_by="Dana Lead <dana@example.com>",
                             approval_commit="f" * 40)
    report = make_report([make_result(policy, status="overridden", message="frozen",
                                      override=override)])
    [row] = parsed(render(report, RenderOptions()))
    assert (row["override_approved_by"], row["override_approval_commit"]) == (
        "Dana Lead <dana@example.com>", "f" * 40)


def test_formula_injection_is_neutralised_and_quoting_round_trips() -> None:
    policy = make_policy("labels", title="=HYPERLINK(\"http://evil\",\"x\")",
                         controls=("SOC2:CC8.1",))
    hostile = [
        "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR",
        'a, "quoted" value\nover two lines', "plain",
    ]
    report = make_report([make_result(policy, status=FAIL, message=m, name=f"n{i}")
                          for i, m in enumerate(hostile)])
    rows = parsed(render(report, RenderOptions()))
    messages = {r["resource"]: r["message"] for r in rows}
    assert messages == {
        "Deployment/prod/n0": "'=cmd|' /C calc'!A0",
        "Deployment/prod/n1": "'+1+1",
        "Deployment/prod/n2": "'-2+3",
        "Deployment/prod/n3": "'@SUM(A1)",
        "Deployment/prod/n4": "'\tTAB",
        "Deployment/prod/n5": "'\nCR",
        "Deployment/prod/n6": 'a, "quoted" value\nover two lines',
        "Deployment/prod/n7": "plain",
    }
    assert {r["policy_title"] for r in rows} == {"'=HYPERLINK(\"http://evil\",\"x\")"}
    # A terminal escape is shown, never kept raw.
    assert cell("\x1b[31mred") == "\\u001b[31mred"


def test_the_export_is_deterministic() -> None:
    assert render(governance_report(), RenderOptions()) == render(governance_report(),
                                                                 RenderOptions())


def test_gate_check_writes_the_csv_file(tmp_path: Path, gate_cli: RunGate) -> None:
    (tmp_path / "pod.yaml").write_text(POD_LATEST, encoding="utf-8")
    out = tmp_path / "controls.csv"
    done = gate_cli("check", "pod.yaml", "-f", f"csv={out}", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    data = out.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")  # no byte-order mark
    rows = parsed(data.decode("utf-8"))
    latest = [r for r in rows if r["policy"] == "no-latest-tag"]
    assert latest and {r["status"] for r in latest} == {"failed"}
    assert {r["file"] for r in latest} == {"pod.yaml"}
    # Every control of the policy gives the result a row of its own.
    from gate.evaluation.policy_loading import load_builtin

    [policy] = [p for p in load_builtin() if p.id == "no-latest-tag"]
    assert sorted(r["control"] for r in latest) == sorted(set(policy.info.controls))
    assert any(r["status"] == "passed" for r in rows)
