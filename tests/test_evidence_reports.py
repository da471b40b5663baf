"""The change log and four-eyes approvals in every report that shows them, from
hand-built reports (the end-to-end runs are in tests/test_change_log.py and
tests/test_governance_cli.py)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import jsonschema

from gate.reports import RenderOptions, junit, markdown, sarif, text
from gate.reports import json as json_report
from gate.results import CommitSignature, Report
from tests.report_factory import (
    governance_report,
    make_audit,
    make_change,
    make_commit_record,
    make_override,
    make_policy,
    make_report,
    make_result,
)
from tests.test_reports_json import report_schema
from tests.test_reports_markdown import assert_tables_intact, section, tables

APPROVED = make_override("INC-7", "checkout is down", commit="1" * 40,
                         author="Ann Oncall <ann@example.com>",
                         approved_by="Dana Lead <dana@example.com>", approval_commit="2" * 40)
GOOD = CommitSignature("G", "Dana Lead <dana@example.com>", "F41D9F516A8D9F32",
                       "B806F11E8CE02CD2F8CED4D9F41D9F516A8D9F32")
HOSTILE_SUBJECT = "fix | <img src=x> [link](http://evil) @acme/admins\u202e\x1b[2J"


def evidence_report() -> Report:
    window = make_policy("release-window", controls=("SOC2:CC8.1",), overridable=True)
    log = [
        make_commit_record("2" * 40, author="Dana Lead <dana@example.com>",
                           committer="Dana Lead <dana@example.com>", subject="Approve",
                           signature=GOOD, trailers=(("Gate-Approve", ("INC-7",)),),
                           tickets=()),
        make_commit_record("1" * 40, author="Ann Oncall <ann@example.com>",
                           committer="CI Bot <ci@example.com>", subject=HOSTILE_SUBJECT,
                           trailers=(("Change-Request", ("CHG1", "CHG2")),
                                     ("Gate-Override", ("INC-7 checkout is down",))),
                           tickets=("CHG1", "CHG2")),
    ]
    return make_report(
        [make_result(window, status="overridden", message="prod is frozen",
                     override=APPROVED, new=True)],
        change=make_change(commits=2, commit_log=log),
        audit=make_audit(overrides=[APPROVED]),
    )


def test_json_carries_the_change_log_and_the_approval() -> None:
    data: dict[str, Any] = json.loads(json_report.render(evidence_report(), RenderOptions()))
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    newest, oldest = data["change"]["commit_log"]
    assert newest == {
        "sha": "2" * 40, "author": "Dana Lead <dana@example.com>",
        "authored_at": "2026-12-01T10:00:00+01:00", "committer": "Dana Lead <dana@example.com>",
        "committed_at": "2026-12-01T10:05:00+01:00", "subject": "Approve",
        "signature": {"status": "G", "signer": "Dana Lead <dana@example.com>",
                      "key": "F41D9F516A8D9F32",
                      "fingerprint": "B806F11E8CE02CD2F8CED4D9F41D9F516A8D9F32"},
        "trailers": [{"key": "Gate-Approve", "values": ["INC-7"]}], "tickets": [],
    }
    assert oldest["trailers"] == [{"key": "Change-Request", "values": ["CHG1", "CHG2"]},
                                  {"key": "Gate-Override", "values": ["INC-7 checkout is down"]}]
    assert oldest["subject"] == HOSTILE_SUBJECT  # JSON is lossless
    [result] = data["results"]
    assert (result["override"]["approved_by"], result["override"]["approval_commit"]) == (
        "Dana Lead <dana@example.com>", "2" * 40)
    [used] = data["audit"]["overrides"]
    assert used["approved_by"] == "Dana Lead <dana@example.com>"


def test_the_schema_refuses_an_unknown_signature_status() -> None:
    data: dict[str, Any] = json.loads(json_report.render(evidence_report(), RenderOptions()))
    data["change"]["commit_log"][0]["signature"]["status"] = "Q"
    assert not jsonschema.Draft202012Validator(report_schema()).is_valid(data)


def test_markdown_change_log_table_escapes_hostile_values() -> None:
    rendered = markdown.render(evidence_report(), RenderOptions())
    assert_tables_intact(rendered)
    (table,) = tables(section(rendered, "#### Change log (2)"))
    assert table[0] == ("| Commit | Author | Authored | Committer | Committed | Signature "
                        "| Tickets | Trailers | Subject |")
    newest, oldest = table[2:]
    assert newest.startswith("| `222222222222` | Dana Lead &lt;dana&#64;example.com&gt; |")
    assert ("| **G** Dana Lead &lt;dana&#64;example.com&gt; "
            "\\(B806F11E8CE02CD2F8CED4D9F41D9F516A8D9F32\\) | — | Gate-Approve: INC-7 |") in newest
    assert "| **N** | CHG1, CHG2 |" in oldest
    assert "Change-Request: CHG1; Change-Request: CHG2; Gate-Override: INC-7 checkout is down" \
        in oldest
    for raw in ("<img", "](http", "\u202e", "\x1b", " @acme"):
        assert raw not in oldest
    assert "\\u202e" in oldest and "&#64;acme/admins" in oldest


def test_markdown_names_the_approver_in_the_callout_and_tables() -> None:
    rendered = markdown.render(evidence_report(), RenderOptions())
    approval = ("approved by Dana Lead &lt;dana&#64;example.com&gt; in commit 222222222222")
    callout = [line for line in rendered.splitlines() if line.startswith("> - ")]
    assert any(approval in line for line in callout), callout
    (overridden,) = tables(section(rendered, "### 🚨 Emergency overrides: findings let through"))
    assert approval in overridden[2]
    (overrides,) = tables(section(rendered, "#### 🚨 Emergency overrides (1)"))
    assert f"| Dana Lead &lt;dana&#64;example.com&gt; | `{'2' * 40}` |" in overrides[2]


def test_text_junit_and_sarif_name_the_approver() -> None:
    report = evidence_report()
    expected = "approved by Dana Lead <dana@example.com>, commit 222222222222"
    assert expected in text.render(report, RenderOptions())
    verbose = text.render(report, RenderOptions(verbose=True))
    assert ("commit 222222222222 Dana Lead <dana@example.com> 2026-12-01T10:00:00+01:00, "
            "committed by Dana Lead <dana@example.com> 2026-12-01T10:05:00+01:00; "
            "signature G by Dana Lead <dana@example.com>, key "
            "B806F11E8CE02CD2F8CED4D9F41D9F516A8D9F32: Approve") in verbose
    assert ("commit 111111111111 Ann Oncall <ann@example.com> 2026-12-01T10:00:00+01:00, "
            "committed by CI Bot <ci@example.com> 2026-12-01T10:05:00+01:00; signature N; "
            "tickets CHG1, CHG2: fix | <img src=x>") in verbose
    assert "\x1b" not in verbose and "\u202e" not in verbose
    assert "commit 222222222222 Dana" not in text.render(report, RenderOptions())  # -v only
    root = ET.fromstring(junit.render(report, RenderOptions()).encode("utf-8"))
    values = [p.get("value", "") for p in root.iter("property") if p.get("name") == "overridden"]
    assert any(expected in value for value in values), values
    log = json.loads(sarif.render(report, RenderOptions()))
    [result] = log["runs"][0]["results"]
    [suppression] = result["suppressions"]
    assert expected.replace(", commit 222222222222", f", commit {'2' * 40}") in \
        suppression["justification"]
    assert suppression["properties"]["approved_by"] == "Dana Lead <dana@example.com>"
    assert suppression["properties"]["approval_commit"] == "2" * 40


def test_without_approval_nothing_is_claimed() -> None:
    report = governance_report()
    log = json.loads(sarif.render(report, RenderOptions()))
    suppressions = [s for r in log["runs"][0]["results"] for s in r.get("suppressions", [])
                    if s["justification"].startswith("emergency override")]
    assert suppressions and all("approved_by" not in s.get("properties", {})
                                and "approved by" not in s["justification"]
                                for s in suppressions)
    assert "approved by" not in markdown.render(report, RenderOptions())
