"""A baseline for a repository with debt: ``gate check --create-baseline FILE`` records
today's findings, ``gate check --baseline FILE`` reports them as baselined (not
blocking) until their entries expire, in every format, and a new finding still blocks.

End to end through the CLI, in process (``gate_cli``): no process boundary matters here.
"""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gate.governance.baseline import identity, message_fingerprint
from gate.results import FAIL, WARN
from gate.schema_validation import load_schema
from tests.conftest import RunGate
from tests.manifests import POD_LATEST
from tests.report_factory import make_policy, make_result
from tests.test_reports_junit import JUNIT_XSD, without_file_and_line
from tests.test_reports_sarif import validate as validate_sarif

NOW = "2026-01-10T12:00:00Z"
BASELINE = ".gate-baseline.yaml"
REPORT_SCHEMA = jsonschema.Draft202012Validator(load_schema("report.schema.json"))
BASELINE_SCHEMA = jsonschema.Draft202012Validator(load_schema("baseline.schema.json"))


def validate_junit(path: Path) -> None:
    """Against the Jenkins xUnit schema, when the shared folder has it (apart from the
    testcases' file and line, which GitLab reads and the schema does not know)."""
    if JUNIT_XSD.is_file():
        import xmlschema

        xml = ET.tostring(without_file_and_line(path.read_text(encoding="utf-8")))
        xmlschema.XMLSchema(str(JUNIT_XSD)).validate(xml.decode("utf-8"))


def pod(name: str, image: str = "nginx:latest") -> str:
    """POD_LATEST named ``name``: no-latest-tag blocks at line 10, image-digest warns there."""
    return POD_LATEST.replace("name: web", f"name: {name}").replace("nginx:latest", image)


@pytest.fixture
def indebted(tmp_path: Path) -> Path:
    """A repository whose one Pod has a blocking finding and a warning."""
    (tmp_path / ".git").mkdir()  # the repository root (gate check . covers it all)
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(pod("web"), encoding="utf-8")
    return tmp_path


def check(gate_cli: RunGate, repo: Path, *args: str, now: str = NOW) -> Any:
    """``gate check`` with a JSON report (validated against the schema) on stdout."""
    done = gate_cli("check", *args, "--now", now, "-f", "json", cwd=repo)
    assert "Traceback" not in done.stderr
    if done.returncode == 2:
        return done, None
    report = json.loads(done.stdout)
    REPORT_SCHEMA.validate(report)
    return done, report


def findings(report: dict[str, Any], status: str) -> list[tuple[str, str]]:
    return sorted((r["policy"], r["resource"]["name"]) for r in report["results"]
                  if r["status"] == status)


def create(gate_cli: RunGate, repo: Path, *args: str) -> Any:
    return check(gate_cli, repo, ".", "--create-baseline", BASELINE, *args)


# -- creating ------------------------------------------------------------------------------


def test_create_baseline_records_todays_findings_and_reports_them_baselined(
        gate_cli: RunGate, indebted: Path) -> None:
    before, report = check(gate_cli, indebted, ".")
    assert before.returncode == 1
    assert findings(report, FAIL) == [("no-latest-tag", "web")]

    done, report = create(gate_cli, indebted)
    assert done.returncode == 0, done.stdout
    assert f"wrote 2 finding(s) to {BASELINE}; its entries apply until 2026-04-10" in done.stderr
    assert report["summary"]["fail"] == report["summary"]["warn"] == 0
    assert report["summary"]["baselined"] == 2
    assert findings(report, "baselined") == [("image-digest", "web"), ("no-latest-tag", "web")]

    data = yaml.safe_load((indebted / BASELINE).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(load_schema("baseline.schema.json"))
    BASELINE_SCHEMA.validate(data)
    assert data["version"] == 1 and data["created"] == "2026-01-10"
    assert data["findings"] == [
        {"policy": "image-digest", "kind": "Pod", "name": "web", "file": "apps/web.yaml",
         "field": "spec.containers[0].image", "expires": "2026-04-10"},
        {"policy": "no-latest-tag", "kind": "Pod", "name": "web", "file": "apps/web.yaml",
         "field": "spec.containers[0].image", "expires": "2026-04-10"},
    ]
    assert "line" not in (indebted / BASELINE).read_text(encoding="utf-8").split("findings:")[1]


def test_the_baseline_file_is_the_same_bytes_each_time(gate_cli: RunGate,
                                                       indebted: Path) -> None:
    (indebted / "apps" / "api.yaml").write_text(pod("api"), encoding="utf-8")
    create(gate_cli, indebted, "--baseline-expires", "2026-06-30")
    first = (indebted / BASELINE).read_bytes()
    create(gate_cli, indebted, "--baseline-expires", "2026-06-30", "--jobs", "1")
    assert (indebted / BASELINE).read_bytes() == first
    assert first.count(b"expires: '2026-06-30'") == 4


def test_waived_findings_are_not_recorded(gate_cli: RunGate, indebted: Path) -> None:
    (indebted / "waivers.yaml").write_text(
        "waivers:\n  - policy: image-digest\n    reason: vendor image\n"
        "    approved_by: sec@example.com\n    expires: 2027-01-01\n", encoding="utf-8")
    done, report = create(gate_cli, indebted)
    assert done.returncode == 0
    assert findings(report, "waived") == [("image-digest", "web")]
    data = yaml.safe_load((indebted / BASELINE).read_text(encoding="utf-8"))
    assert [entry["policy"] for entry in data["findings"]] == ["no-latest-tag"]


# -- applying ------------------------------------------------------------------------------


def test_a_new_finding_still_blocks(gate_cli: RunGate, indebted: Path) -> None:
    create(gate_cli, indebted)
    (indebted / "apps" / "api.yaml").write_text(pod("api"), encoding="utf-8")
    done, report = check(gate_cli, indebted, ".", "--baseline", BASELINE)
    assert done.returncode == 1
    assert findings(report, FAIL) == [("no-latest-tag", "api")]
    assert findings(report, "baselined") == [("image-digest", "web"), ("no-latest-tag", "web")]


def test_entries_match_without_lines_and_across_new_values_of_a_field(
        gate_cli: RunGate, indebted: Path) -> None:
    create(gate_cli, indebted)
    # Lines move (a comment on top) and the offending value changes (no tag at all is
    # still :latest): the same finding, on the same field, of the same resource.
    (indebted / "apps" / "web.yaml").write_text("# owned by team web\n\n" + pod("web", "nginx"),
                                                encoding="utf-8")
    done, report = check(gate_cli, indebted, ".", "--baseline", BASELINE)
    assert done.returncode == 0, done.stdout
    assert findings(report, "baselined") == [("image-digest", "web"), ("no-latest-tag", "web")]
    # Another resource is another finding.
    (indebted / "apps" / "web.yaml").write_text(pod("web2"), encoding="utf-8")
    done, report = check(gate_cli, indebted, ".", "--baseline", BASELINE)
    assert done.returncode == 1
    assert findings(report, FAIL) == [("no-latest-tag", "web2")]


def test_a_finding_without_a_field_is_matched_by_its_message() -> None:
    policy = make_policy("service-selects-pods")
    found = make_result(policy, kind="Service", status=WARN, message="selects no pod")
    assert identity(found) == {
        "policy": "service-selects-pods", "kind": "Service", "namespace": "prod",
        "name": "web", "file": "apps/web.yaml",
        "message": message_fingerprint("selects no pod")}
    assert message_fingerprint("selects no pod").startswith("sha256:")
    other = make_result(policy, kind="Service", status=WARN, message="selects 2 pods")
    assert identity(other) != identity(found)
    with_field = make_result(policy, status=FAIL, message="a", field="spec.replicas")
    assert "message" not in identity(with_field)


def test_every_format_reports_baselined_findings_and_the_audit_names_the_baseline(
        gate_cli: RunGate, indebted: Path, tmp_path: Path) -> None:
    create(gate_cli, indebted)
    out = tmp_path / "out"
    out.mkdir()
    done = gate_cli("check", ".", "--baseline", BASELINE, "--now", NOW, "-v",
                    "-f", "text", *(f"-f{fmt}={out / fmt}" for fmt in
                                    ("json", "junit", "markdown", "sarif")), cwd=indebted)
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    assert "apps/web.yaml:10: baselined: [no-latest-tag]" in text
    assert f"({BASELINE}:" in text
    assert text.rstrip().endswith("(1 resource(s), 35 policies)")
    assert "2 baselined" in text.splitlines()[-1]

    report = json.loads((out / "json").read_text(encoding="utf-8"))
    REPORT_SCHEMA.validate(report)
    [entry] = [r for r in report["results"] if r["policy"] == "no-latest-tag"]
    assert entry["status"] == "baselined"
    assert entry["waiver"]["source"].startswith(f"{BASELINE}:")
    assert entry["waiver"]["expires"] == "2026-04-10"
    baseline = report["audit"]["baseline"]
    assert baseline["file"] == BASELINE
    assert sorted((e["policy"], e["state"], e["matched"]) for e in baseline["entries"]) == [
        ("image-digest", "active", 1), ("no-latest-tag", "active", 1)]
    assert BASELINE in {i["name"] for i in report["audit"]["inputs"]}

    validate_junit(out / "junit")
    junit = ET.fromstring((out / "junit").read_bytes())
    [case] = [c for c in junit.iter("testcase") if c.get("classname") == "no-latest-tag"
              and c.find("skipped") is not None]
    assert case.find("skipped").get("message") == "baselined: recorded in the baseline"

    markdown = (out / "markdown").read_text(encoding="utf-8")
    assert "2 baselined" in markdown
    assert "2 baselined findings (recorded in the baseline" in markdown
    assert "| Baseline | .gate-baseline.yaml: 2 baselined findings; entries: 2 active, " \
           "0 expired, 0 stale |" in markdown

    sarif = json.loads((out / "sarif").read_text(encoding="utf-8"))
    validate_sarif(sarif)
    run = sarif["runs"][0]
    [result] = [r for r in run["results"] if r["ruleId"] == "no-latest-tag"]
    assert result["level"] == "error"
    assert result["suppressions"][0]["justification"].startswith("baselined: ")
    assert run["properties"]["baseline"] == {"file": BASELINE, "active": 2, "expired": 0,
                                             "stale": 0}


def test_the_baseline_changes_the_audit_fingerprint(gate_cli: RunGate, indebted: Path) -> None:
    _, plain = check(gate_cli, indebted, ".")
    _, created = create(gate_cli, indebted)
    _, used = check(gate_cli, indebted, ".", "--baseline", BASELINE)
    assert plain["audit"]["baseline"] is None
    assert created["audit"]["fingerprint"] == used["audit"]["fingerprint"]
    assert plain["audit"]["fingerprint"] != used["audit"]["fingerprint"]


# -- expiry and staleness --------------------------------------------------------------------


def test_expired_entries_no_longer_apply_and_are_reported(gate_cli: RunGate,
                                                         indebted: Path) -> None:
    create(gate_cli, indebted, "--baseline-expires", "2026-03-31")
    done, report = check(gate_cli, indebted, ".", "--baseline", BASELINE,
                         now="2026-03-31T23:00:00Z")  # the last day: still in force
    assert done.returncode == 0
    done, report = check(gate_cli, indebted, ".", "--baseline", BASELINE,
                         now="2026-04-01T00:00:00Z")
    assert done.returncode == 1
    [blocking] = [r for r in report["results"] if r["status"] == FAIL]
    assert f"(baseline entry {BASELINE}:" in blocking["message"]
    assert blocking["message"].endswith("expired on 2026-03-31)")
    assert [e["state"] for e in report["audit"]["baseline"]["entries"]] == ["expired"] * 2
    text = gate_cli("check", ".", "--baseline", BASELINE, "--now", "2026-04-01T00:00:00Z",
                    cwd=indebted).stdout
    assert (f"{BASELINE}: warning: 2 baseline entries expired (the last on 2026-03-31): "
            "2 finding(s) they recorded count again") in text


def test_entries_that_match_nothing_are_stale_in_a_whole_repository_check(
        gate_cli: RunGate, indebted: Path) -> None:
    create(gate_cli, indebted)
    (indebted / "apps" / "web.yaml").write_text(pod("web", "nginx:1.27.0@sha256:" + "a" * 64),
                                                encoding="utf-8")
    done, report = check(gate_cli, indebted, ".", "--baseline", BASELINE)
    assert done.returncode == 0
    assert [e["state"] for e in report["audit"]["baseline"]["entries"]] == ["stale"] * 2
    text = gate_cli("check", ".", "--baseline", BASELINE, "--now", NOW, cwd=indebted).stdout
    assert f"{BASELINE}: note: 2 baseline entries matched nothing (stale)" in text
    # Part of the repository: an unmatched entry may name what was not looked at.
    _, report = check(gate_cli, indebted, "apps/web.yaml", "--baseline", BASELINE)
    assert report["audit"]["baseline"]["entries"] == []


# -- mistakes ----------------------------------------------------------------------------------


ENTRY = ("  - policy: no-latest-tag\n    kind: Pod\n    name: web\n    file: apps/web.yaml\n"
         "    field: spec.containers[0].image\n")


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("version: 1\nfindings:\n  - policy: [\n", ":4: error: invalid YAML",
                 id="invalid-yaml"),
    pytest.param("version: 1\nversion: 1\n", ":2: error: ", id="duplicate-key"),
    pytest.param("", ":1: error: the baseline file is empty", id="empty"),
    pytest.param("- 1\n", ":1: error: a baseline file is a mapping", id="not-a-mapping"),
    pytest.param("version: 2\nfindings: []\n", ":1: error: version: 1 was expected",
                 id="unknown-version"),
    pytest.param("version: 1\nfindings:\n" + ENTRY, ":3: error: findings[0]: 'expires' is a "
                 "required property", id="no-expiry"),
    pytest.param("version: 1\nfindings:\n" + ENTRY + "    expires: 2026-02-30\n",
                 ":8: error: findings[0].expires: '2026-02-30' is not a calendar date",
                 id="not-a-date"),
    pytest.param("version: 1\nfindings:\n" + ENTRY + "    expires: 2026-12-31\n    line: 10\n",
                 ":9: error: findings[0]: Additional properties are not allowed",
                 id="unknown-key"),
    pytest.param("version: 1\nfindings:\n" + ENTRY.replace("no-latest-tag", "no-such-policy")
                 + "    expires: 2026-12-31\n",
                 ":3: error: baseline entry for unknown policy 'no-such-policy'",
                 id="unknown-policy"),
    pytest.param("version: 1\nfindings: []\n---\nversion: 1\n",
                 ":4: error: a baseline file holds one YAML document", id="two-documents"),
    pytest.param("version: 1\nfindings:\n" + ENTRY + "    message: sha256:0123456789abcdef\n"
                 "    expires: 2026-12-31\n",
                 ":3: error: findings[0] gives both 'field' and 'message'", id="field-and-message"),
    pytest.param("version: 1\nfindings:\n" + ENTRY.replace("    field: spec.containers[0].image\n",
                                                        "") + "    expires: 2026-12-31\n",
                 ":3: error: findings[0] gives neither 'field' nor 'message'", id="no-identity"),
])
def test_a_malformed_baseline_is_a_one_line_error_naming_file_and_line(
        gate_cli: RunGate, indebted: Path, text: str, expected: str) -> None:
    (indebted / BASELINE).write_text(text, encoding="utf-8")
    done = gate_cli("check", ".", "--baseline", BASELINE, "--now", NOW, cwd=indebted)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(BASELINE + expected), line


@pytest.mark.parametrize(("args", "expected"), [
    pytest.param(("--baseline", "missing.yaml"), "missing.yaml: error: baseline file not found",
                 id="missing"),
    pytest.param(("--baseline", BASELINE, "--create-baseline", "other.yaml"),
                 "not allowed with argument", id="both"),
    pytest.param(("--baseline-expires", "2026-12-31"),
                 "gate: error: --baseline-expires goes with --create-baseline", id="lone-expiry"),
    pytest.param(("--create-baseline", "b.yaml", "--baseline-expires", "2026-01-09"),
                 "is before the evaluation date 2026-01-10", id="past-expiry"),
    pytest.param(("--create-baseline", "b.yaml", "--baseline-expires", "2026-13-01"),
                 "'2026-13-01' is not a calendar date", id="bad-expiry"),
])
def test_baseline_options_refuse_mistakes(gate_cli: RunGate, indebted: Path,
                                          args: tuple[str, ...], expected: str) -> None:
    (indebted / BASELINE).write_text("version: 1\nfindings: []\n", encoding="utf-8")
    done = gate_cli("check", ".", *args, "--now", NOW, cwd=indebted)
    assert done.returncode == 2
    assert expected in done.stderr
    assert not (indebted / "b.yaml").exists()


def test_the_baseline_is_never_written_through_a_link(gate_cli: RunGate, indebted: Path,
                                                     tmp_path: Path) -> None:
    target = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    target.write_text("untouched\n", encoding="utf-8")
    os.symlink(target, indebted / BASELINE)
    done = gate_cli("check", ".", "--create-baseline", BASELINE, "--now", NOW, cwd=indebted)
    assert done.returncode == 2
    assert "cannot write baseline" in done.stderr
    assert target.read_text(encoding="utf-8") == "untouched\n"
