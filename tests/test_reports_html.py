"""The HTML report: one standalone page, whole, escaped, deterministic; read as a browser
reads it (headless Chromium) with no request leaving the page."""
from __future__ import annotations

import dataclasses
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gate.reports import RenderOptions
from gate.reports.audit import SIGNATURE_WORDS
from gate.reports.html import render
from gate.reports.html_page import CONTENT_SECURITY_POLICY
from gate.results import (
    BASELINED,
    FAIL,
    OVERRIDDEN,
    PASS,
    SKIP,
    WAIVED,
    WARN,
    BaselineRecord,
    BaselineUse,
    ChangedFile,
    CommitRecord,
    CommitSignature,
    OverrideRef,
    Report,
    ResourceRef,
    RollbackRecord,
)
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.manifests import POD_LATEST
from tests.processes import run
from tests.releaserepo import build_release_repo, freeze_with_rollbacks, step_sha
from tests.report_factory import (
    HELM_NOT_ASKED,
    OVERRIDE,
    governance_report,
    make_audit,
    make_change,
    make_error,
    make_evidence,
    make_note,
    make_override,
    make_policy,
    make_report,
    make_result,
    make_waiver,
    make_waiver_use,
    with_unjudged,
)

REPO_ROOT = Path(__file__).resolve().parents[1]

# -- a small DOM, from gate's output or from what Chromium rendered ------------------------

VOID = {"meta", "br", "img", "link", "input", "hr", "base", "source", "col", "wbr"}


@dataclasses.dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = dataclasses.field(default_factory=list)

    def text(self) -> str:
        """The text inside, with ``<br>`` as a newline and white space collapsed per line."""
        return "\n".join(" ".join(line.split()) for line in self._raw().split("\n")).strip()

    def _raw(self) -> str:
        return "".join(" ".join(child.split("\n")) if isinstance(child, str) else
                       ("\n" if child.tag == "br" else child._raw())
                       for child in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find_all(self, tag: str) -> list[Node]:
        return [node for node in self.walk() if node.tag == tag]

    def by_id(self, id: str) -> Node:
        [node] = [node for node in self.walk() if node.attrs.get("id") == id]
        return node

    def tables(self) -> list[list[list[str]]]:
        """Every table inside, as rows of cell texts (the header row first)."""
        return [[[cell.text() for cell in row.walk() if cell.tag in ("th", "td")]
                 for row in table.find_all("tr")] for table in self.find_all("table")]

    def table(self) -> list[list[str]]:
        """The first table inside."""
        return self.tables()[0]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html_text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html_text)
    builder.close()
    return builder.root


def section_table(dom: Node, id: str) -> list[list[str]]:
    return dom.by_id(id).table()


# -- reports -----------------------------------------------------------------------------

ROOT_POLICY = make_policy("K8S001", title="Containers must not run as root",
                          controls=("CIS-5.2.6", "NIST-AC-6"))
PROBE_POLICY = make_policy("K8S002", title="Probes", severity="low", enforcement="warn")
LIMITS_POLICY = make_policy("K8S003", title="Limits", severity="critical",
                            controls=("SOC2-CC7",))

SIGNED = CommitRecord(
    sha="1" * 40, author="Dev One <dev1@example.com>", authored_at="2026-12-20T10:00:00+01:00",
    committer="Merge Bot <bot@example.com>", committed_at="2026-12-21T11:30:00+00:00",
    subject="Bump web to 2.0",
    signature=CommitSignature("G", "Dev One <dev1@example.com>", "ABCDEF0123456789",
                              "0123456789ABCDEF0123456789ABCDEF01234567"),
    trailers=(("Change-Ticket", ("CHG-77",)), ("Reviewed-by", ("A <a@x>", "B <b@x>"))),
    tickets=("CHG-77",))
UNSIGNED = CommitRecord(
    sha="2" * 40, author="Dev Two <dev2@example.com>", authored_at="2026-12-19T09:00:00-05:00",
    committer="Dev Two <dev2@example.com>", committed_at="2026-12-19T09:00:00-05:00",
    subject="Freeze hotfix")
ROLLBACK = RollbackRecord("prod", "v1.0.0", ("ms1: 1.1.0 -> 1.0.0",
                                             "Application shop-prod: v1.1.0 -> v1.0.0"),
                          let_through="freeze 'year-end'")
APPROVED = dataclasses.replace(OVERRIDE, approved_by="Cara Approver <cara@example.com>",
                               approval_commit="9" * 40)


def sample_report() -> Report:
    return make_report(
        [
            make_result(ROOT_POLICY, status=FAIL, message="container web runs as root",
                        line=12, finding_line=20, field="spec.template.spec.containers[0]"),
            make_result(LIMITS_POLICY, status=FAIL, message="no memory limit", name="api",
                        file="apps/api.yaml", line=3),
            make_result(ROOT_POLICY, status=PASS, name="api", file="apps/api.yaml", line=3),
            make_result(ROOT_POLICY, status=WAIVED, name="db", file="apps/db.yaml", line=1,
                        waiver="legacy image, ticket SEC-42"),
            make_result(PROBE_POLICY, status=WARN, message="no readinessProbe", line=12),
            make_result(PROBE_POLICY, status=PASS, name="api", file="apps/api.yaml", line=3),
            make_result(LIMITS_POLICY, status=SKIP, message="nothing to check",
                        kind="ConfigMap"),
        ],
        errors=[make_error("apps/broken.yaml", 7, "could not parse YAML")],
        notes=[make_note("apps/readme.yaml", 1, "skipped: not a Kubernetes object")],
    )


def evidence_report() -> Report:
    """The governance report of a hotfix with an approved override, a change log of two
    commits (signed and not) and a rollback."""
    report = governance_report()
    results = [dataclasses.replace(r, override=APPROVED) if r.override else r
               for r in report.results]
    assert report.change is not None and report.audit is not None
    change = dataclasses.replace(report.change, commit_log=[SIGNED, UNSIGNED],
                                 rollbacks=[ROLLBACK])
    audit = dataclasses.replace(report.audit, overrides=[APPROVED])
    return make_report(results, change=change, audit=audit, policies=report.policies)


def html_of(report: Report) -> str:
    return render(report, RenderOptions())


# -- the page ------------------------------------------------------------------------------

ALLOWED_TAGS = {"#document", "html", "head", "meta", "title", "style", "body", "h1", "h2",
                "h3", "p", "section", "nav", "ol", "ul", "li", "a", "table", "thead", "tbody",
                "tr", "th", "td", "span", "strong", "br"}


def assert_inert(html_text: str) -> Node:
    """The page loads nothing and runs nothing: only gate's own tags and attributes, links
    only to its own sections, the CSP in force."""
    dom = parse(html_text)
    assert {node.tag for node in dom.walk()} <= ALLOWED_TAGS
    for node in dom.walk():
        for name, value in node.attrs.items():
            assert name in {"lang", "charset", "http-equiv", "content", "name", "class", "id",
                            "href", "role", "aria-label"}, (node.tag, name, value)
            if name == "href":
                assert value is not None and re.fullmatch(r"#[a-z0-9-]+", value), value
            if name in ("class", "id"):
                assert value is not None and re.fullmatch(r"[a-z0-9 -]+", value), value
    [csp] = [m for m in dom.find_all("meta") if m.attrs.get("http-equiv") ==
             "Content-Security-Policy"]
    assert csp.attrs["content"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "<script" not in html_text.lower() and "<link" not in html_text.lower()
    return dom


def test_a_standalone_page_with_verdict_and_counts() -> None:
    text = html_of(sample_report())
    assert text.startswith("<!DOCTYPE html>\n")
    dom = assert_inert(text)
    [title] = dom.find_all("title")
    assert title.text() == "gate report: failed"
    assert dom.find_all("p")[0].text() == "Verdict: failed"
    counts = dict(row for row in dom.find_all("table")[0:1][0].tables()[0][1:])
    assert counts == {"blocking": "2", "warning": "1", "passed": "2", "overridden": "0",
                      "waived": "1", "baselined": "0", "skipped": "1", "input error": "1",
                      "not judged": "0"}
    assert "@media print" in text and "thead { display: table-header-group; }" in text
    passing = parse(html_of(make_report([make_result(ROOT_POLICY, status=PASS)])))
    assert passing.find_all("title")[0].text() == "gate report: passed"


def test_every_section_of_a_check() -> None:
    dom = assert_inert(html_of(sample_report()))
    assert section_table(dom, "errors") == [
        ["Location", "Message"], ["apps/broken.yaml:7", "input error could not parse YAML"]]
    assert section_table(dom, "blocking") == [
        ["Policy", "Severity", "Resource", "Location", "Message"],
        ["K8S003", "critical", "Deployment prod/api", "apps/api.yaml:3", "no memory limit"],
        ["K8S001", "high", "Deployment prod/web", "apps/web.yaml:20",
         "container web runs as root (at spec.template.spec.containers[0])"]]
    assert section_table(dom, "warnings")[1] == [
        "K8S002", "low", "Deployment prod/web", "apps/web.yaml:12", "no readinessProbe"]
    assert section_table(dom, "waived")[1] == [
        "K8S001", "Deployment prod/db", "apps/db.yaml:1", "legacy image, ticket SEC-42",
        "CHG-9", "jane.doe@example.com", "2099-12-31", "waivers.yaml:3"]
    assert section_table(dom, "policies") == [
        ["Policy", "Title", "Severity", "Enforcement", "Controls", "Passed", "Blocking",
         "Warnings", "Waived"],
        ["K8S001", "Containers must not run as root", "high", "block", "CIS-5.2.6, NIST-AC-6",
         "1", "1", "0", "1"],
        ["K8S002", "Probes", "low", "warn", "—", "1", "0", "1", "0"],
        ["K8S003", "Limits", "critical", "block", "SOC2-CC7", "0", "1", "0", "0"]]
    assert section_table(dom, "passed")[1:] == [
        ["K8S001", "Deployment prod/api", "apps/api.yaml:3"],
        ["K8S002", "Deployment prod/api", "apps/api.yaml:3"]]
    assert section_table(dom, "skipped")[1] == ["K8S003", "ConfigMap prod/web",
                                                "apps/web.yaml:1"]
    assert section_table(dom, "notes")[1] == ["apps/readme.yaml:1",
                                              "skipped: not a Kubernetes object"]
    # Headings count their rows; the contents link every section.
    assert dom.by_id("blocking").find_all("h2")[0].text() == "Blocking findings (2)"
    links = [a.attrs["href"] for a in dom.find_all("a")]
    assert links == ["#errors", "#blocking", "#warnings", "#waived", "#policies", "#passed",
                     "#skipped", "#notes"]
    # gate check has neither a change nor an audit here: no such sections.
    assert "change" not in links and "audit" not in links


def test_not_judged_existing_deleted_environments_and_baselined() -> None:
    deleted = ResourceRef("v1", "Service", "old", "shop", "base/old.yaml", 4, "prod")
    change = make_change(files=(ChangedFile("D", "base/old.yaml"),
                                ChangedFile("R", "apps/new.yaml", "apps/old.yaml")))
    change.deleted = [deleted]
    change.existing = {"K8S002": 3}
    change.existing_listed = False
    audit = make_audit()
    audit.baseline = BaselineRecord(".gate-baseline.yaml", [
        BaselineUse(".gate-baseline.yaml:3", "K8S001", "2027-01-31", "active", 1)])
    report = with_unjudged(make_report(
        [make_result(ROOT_POLICY, status=FAIL, environment="prod", message="root", new=True),
         make_result(ROOT_POLICY, status=BASELINED, name="db", environment="prod",
                     message="root too",
                     waiver=make_waiver("baselined", source=".gate-baseline.yaml:3",
                                        expires="2027-01-31")),
         make_result(PROBE_POLICY, status=WARN, environment="staging", new=False)],
        change=change, audit=audit), [HELM_NOT_ASKED])
    dom = assert_inert(html_of(report))
    assert section_table(dom, "unjudged")[1] == [
        "Helm chart", "helm-chart", "not judged not rendered: Helm charts are rendered only "
        "with --helm; its values files are still checked"]
    assert section_table(dom, "existing") == [["Policy", "Existing findings"], ["K8S002", "3"]]
    assert section_table(dom, "deleted")[1] == ["prod", "Service shop/old", "base/old.yaml:4"]
    assert section_table(dom, "changed-files")[1:] == [
        ["R", "apps/old.yaml → apps/new.yaml"], ["D", "base/old.yaml"]]
    assert section_table(dom, "environments") == [
        ["Environment", "Blocking", "Warnings", "Waived", "Baselined", "Passed"],
        ["prod", "1", "0", "0", "1", "0"], ["staging", "0", "1", "0", "0", "0"]]
    assert section_table(dom, "baselined")[1] == [
        "K8S001", "Deployment prod/db (prod)", "apps/web.yaml:1", "root too",
        ".gate-baseline.yaml:3", "2027-01-31"]
    assert section_table(dom, "blocking")[1][-1] == "new root"
    assert section_table(dom, "warnings")[1][-1] == "existing Probes"
    record = dict(section_table(dom, "record")[1:])
    assert record["Baseline"] == (".gate-baseline.yaml: 1 baselined finding; entries: 1 "
                                  "active, 0 expired, 0 stale")


def test_override_callout_names_every_override_and_its_approver() -> None:
    dom = assert_inert(html_of(evidence_report()))
    callout = dom.by_id("caution")
    assert callout.attrs["role"] == "alert"
    assert callout.text().startswith("CAUTION: emergency override, 2 blocking findings let "
                                     "through. They would have failed the gate.")
    [item] = callout.find_all("li")
    assert item.text() == (
        f"Gate-Override: INC-1234 by Ann Oncall <ann@example.com> in commit {OVERRIDE.commit}: "
        f"payment outage; approved by Cara Approver <cara@example.com> in commit {'9' * 40}; "
        "let through 1 finding of no-latest-tag, 1 finding of release-window")
    # Without an approval the callout says so.
    plain = parse(html_of(governance_report())).by_id("caution").text()
    assert "no approval recorded" in plain and "approved by" not in plain
    # The callout comes before any section, the overridden findings first of them.
    text = html_of(evidence_report())
    assert text.index('id="caution"') < text.index('id="overridden"') < text.index(
        'id="change"')
    rows = section_table(dom, "overridden")
    assert rows[0][-1] == "Override" and len(rows) == 3
    assert rows[1][-1] == (f"INC-1234 by Ann Oncall <ann@example.com> ({OVERRIDE.commit}); "
                           "approved by Cara Approver <cara@example.com>")


def test_callout_lists_every_override_however_many() -> None:
    uses = [make_override(f"INC-{n}", commit=f"{n:040x}") for n in range(12)]
    report = make_report([make_result(ROOT_POLICY, status=OVERRIDDEN, name=f"w{n}",
                                      override=override) for n, override in enumerate(uses)],
                         audit=make_audit(overrides=uses))
    dom = parse(html_of(report))
    assert len(dom.by_id("caution").find_all("li")) == 12
    assert len(section_table(dom, "overrides")) == 13


def test_change_log_with_signatures_trailers_and_tickets() -> None:
    dom = assert_inert(html_of(evidence_report()))
    change = dom.by_id("change")
    assert change.find_all("p")[0].text() == (
        f"Compared origin/main ({'d' * 40}) with HEAD ({'c' * 40}): only findings this change "
        "adds block. 2 commits. Environments it reaches: prod, staging.")
    assert section_table(dom, "change-log") == [
        ["Commit", "Subject", "Author", "Authored", "Committer", "Committed", "Signature",
         "Trailers", "Tickets"],
        ["1" * 40, "Bump web to 2.0", "Dev One <dev1@example.com>", "2026-12-20T10:00:00+01:00",
         "Merge Bot <bot@example.com>", "2026-12-21T11:30:00+00:00",
         "good signature\nsigner: Dev One <dev1@example.com>\nkey: ABCDEF0123456789\n"
         "fingerprint: 0123456789ABCDEF0123456789ABCDEF01234567",
         "Change-Ticket: CHG-77\nReviewed-by: A <a@x>\nReviewed-by: B <b@x>", "CHG-77"],
        ["2" * 40, "Freeze hotfix", "Dev Two <dev2@example.com>", "2026-12-19T09:00:00-05:00",
         "Dev Two <dev2@example.com>", "2026-12-19T09:00:00-05:00", "not signed", "—", "—"]]
    assert section_table(dom, "rollbacks") == [
        ["Environment", "Back to release", "Moves", "Let through"],
        ["prod", "v1.0.0", "ms1: 1.1.0 -> 1.0.0\nApplication shop-prod: v1.1.0 -> v1.0.0",
         "rollback allowed by freeze 'year-end'"]]


@pytest.mark.parametrize("status", sorted(SIGNATURE_WORDS))
def test_every_signature_status_is_spelled_out(status: str) -> None:
    commit = dataclasses.replace(UNSIGNED, signature=CommitSignature(status))
    change = make_change()
    change.commit_log = [commit]
    dom = parse(html_of(make_report([], change=change)))
    cell = section_table(dom, "change-log")[1][6]
    assert cell == SIGNATURE_WORDS[status]
    assert re.fullmatch(r"[a-z ,()?]+", cell)  # words, not git's letter
    odd = dataclasses.replace(UNSIGNED, signature=CommitSignature("Q"))
    change.commit_log = [odd]
    assert section_table(parse(html_of(make_report([], change=change))),
                         "change-log")[1][6] == "signature status 'Q' (unknown to gate)"


def test_audit_record_controls_waivers_overrides_evidence_and_inputs() -> None:
    dom = assert_inert(html_of(evidence_report()))
    record = dict(section_table(dom, "record")[1:])
    assert record == {
        "Judged": f"commits {'b' * 40}..{'c' * 40} (origin/main..HEAD)",
        "Merge base": "d" * 40, "Commits": "2", "Environments": "prod, staging",
        "Evaluated at": "2026-12-24T09:00:00Z (time source: --now)",
        "gate version": "9.9.9", "Rules read from": "working tree",
        "sha256 fingerprint": "f" * 64, "Fail on": "info"}
    headings = [h.text() for h in dom.by_id("audit").find_all("h3")]
    assert headings == ["Record", "Controls: SOC 2 Trust Services Criteria 2017 (1)",
                        "Controls: Other (2)", "Waivers (3)", "Emergency overrides (1)",
                        "Change evidence (2)", "Fingerprint inputs (2)"]
    assert section_table(dom, "waivers")[1:] == [
        ["waivers.yaml:12", "required-labels", "active", "1",
         "vendor sidecar pinned by the operator", "SEC-42", "Sam Security <sam@example.com>",
         "2027-01-31"],
        ["waivers.yaml:20", "image-digest", "expired", "2", "legacy image", "CHG-9",
         "jane.doe@example.com", "2026-11-30"],
        ["waivers.yaml:28", "resource-limits", "stale", "0", "legacy image", "CHG-9",
         "jane.doe@example.com", "2099-12-31"]]
    assert section_table(dom, "overrides") == [
        ["Trailer", "Ticket", "Reason", "Author", "Commit", "Approved by", "Approval commit",
         "Let through"],
        ["Gate-Override", "INC-1234", "payment outage", "Ann Oncall <ann@example.com>",
         OVERRIDE.commit, "Cara Approver <cara@example.com>", "9" * 40,
         "1 finding of no-latest-tag, 1 finding of release-window"]]
    assert section_table(dom, "evidence")[1:] == [
        ["Change tickets", "prod", "CHG123, CHG124", "change-ticket"],
        ["Change tickets", "staging", "—", "change-ticket"]]
    assert section_table(dom, "inputs")[1:] == [[".gate.yaml", "1" * 64],
                                                ["builtin:no-latest-tag.yaml", "2" * 64]]


def test_control_tables_one_per_framework() -> None:
    dom = parse(html_of(evidence_report()))
    tables = {h.text(): node.table() for node in dom.by_id("audit").find_all("section")
              for h in node.find_all("h3") if h.text().startswith("Controls: ")}
    header = ["Control", "Title", "Policies", "Passed", "Blocking", "Warnings", "Waived",
              "Overridden"]
    soc2 = tables["Controls: SOC 2 Trust Services Criteria 2017 (1)"]
    assert soc2[0] == header
    assert soc2[1][0] == "CC8.1" and soc2[1][1].startswith("The entity authorizes")
    assert soc2[1][2:] == ["no-latest-tag, release-window", "2", "0", "0", "0", "2"]
    assert tables["Controls: Other (2)"] == [
        header,
        ["ISO27001:A.12.1.2", "—", "change-ticket, release-window", "2", "0", "1", "0", "1"],
        ["(no control)", "—", "promotion-certified, required-labels", "0", "1", "0", "1", "0"]]
    # Only the first table says what they count.
    assert dom.by_id("controls-1").find_all("p")[0].text().startswith("Results per compliance")
    assert dom.by_id("controls-2").find_all("p") == []


# -- hostile values ------------------------------------------------------------------------

HOSTILE = [
    "</table><script>alert(1)</script>",
    "<img src=http://example.invalid/img.png>",
    '" onmouseover="alert(1)" x="',
    "' onfocus='alert(1)",
    "<style>@import url(http://example.invalid/x.css);</style>",
    '<link rel=stylesheet href="http://example.invalid/y.css">',
    "<iframe src=//example.invalid/f></iframe>",
    "</td></tr></tbody></table></section></body></html><p>fake verdict: passed</p>",
    "&amp; &lt;b&gt; &#60;script&#62;",
    "line one\nline two\r\nthree",
    "rtl\u202eevil nul\x00 esc\x1b[31m",
    "<base href=http://example.invalid/>",
    "<meta http-equiv=refresh content='0;url=http://example.invalid/'>",
    "url(http://example.invalid/bg.png) <svg onload=alert(1)>",
]


def hostile_report() -> Report:
    """Every value a report shows, hostile."""
    results = []
    for n, value in enumerate(HOSTILE):
        policy = make_policy(f"p{n:02d}-{value}", title=value, severity="high",
                             controls=(f"CIS-{value}", value))
        override = OverrideRef(value, value, value, value, f"{n:040x}", value,
                               approved_by=value, approval_commit=value)
        common = {"name": value, "namespace": value, "file": value, "message": value,
                  "field": value, "environment": value, "rendered_by": value}
        results += [
            make_result(policy, status=FAIL, new=True, kind=value, **common),
            make_result(policy, status=WARN, new=False, **common),
            make_result(policy, status=WAIVED, waiver=make_waiver(
                value, source=value, ticket=value, approved_by=value, expires=value), **common),
            make_result(policy, status=OVERRIDDEN, override=override, **common),
            make_result(policy, status=PASS, **common),
            make_result(policy, status=BASELINED, waiver=make_waiver(value, source=value),
                        **common),
        ]
    change = make_change(base_ref=HOSTILE[0], head_ref=HOSTILE[1], merge_base=HOSTILE[2],
                         head_sha=HOSTILE[3], environments=HOSTILE,
                         notes=HOSTILE, files=[ChangedFile("M", v, v) for v in HOSTILE])
    change.deleted = [ResourceRef(v, v, v, v, v, 1, v) for v in HOSTILE]
    change.existing = {v: 1 for v in HOSTILE}
    change.existing_listed = False
    change.commit_log = [CommitRecord(v, v, v, v, v, v, CommitSignature(v, v, v, v),
                                      ((v, (v, v)),), (v,)) for v in HOSTILE]
    change.rollbacks = [RollbackRecord(v, v, (v, v), v) for v in HOSTILE]
    audit = make_audit(
        evaluated_at=HOSTILE[0], time_source=HOSTILE[1], fingerprint=HOSTILE[2],
        inputs=[(v, v) for v in HOSTILE],
        waivers=[make_waiver_use(v, source=v, reason=v, ticket=v, approved_by=v, expires=v)
                 for v in HOSTILE],
        overrides=[OverrideRef(v, v, v, v, v, v, v, v) for v in HOSTILE],
        evidence=[make_evidence(v, v, v, (v, v)) for v in HOSTILE])
    audit.rules_from = HOSTILE[4]
    audit.baseline = BaselineRecord(HOSTILE[5], [BaselineUse(HOSTILE[5], HOSTILE[5],
                                                             HOSTILE[5], "active", 1)])
    return with_unjudged(make_report(
        results, errors=[make_error(v, 1, v) for v in HOSTILE],
        notes=[make_note(v, 1, v) for v in HOSTILE], change=change, audit=audit,
        fail_on=HOSTILE[6], tool_version=HOSTILE[7]),
        [dataclasses.replace(HELM_NOT_ASKED, file=v, what=v, reason=v) for v in HOSTILE])


def test_hostile_values_stay_text() -> None:
    text = html_of(hostile_report())
    dom = assert_inert(text)
    # Every hostile value is in the page as text, whole, never as markup.
    body = dom.find_all("body")[0].text()
    for value in HOSTILE:
        shown = " ".join(value.replace("\x00", "\\u0000").replace("\x1b", "\\u001b")
                         .replace("\u202e", "\\u202e").split())
        assert shown in body, value
    assert "<script>alert(1)</script>" not in text
    assert "&lt;/table&gt;&lt;script&gt;" in text
    assert "&quot; onmouseover=&quot;" in text and "&#x27; onfocus=&#x27;" in text
    # The tables keep their shape: each row has as many cells as its header.
    for table in dom.find_all("table"):
        rows = table.tables()[0]
        assert all(len(row) == len(rows[0]) for row in rows), rows[0]
    # One page: one verdict, one body, the hostile "fake verdict" only as text.
    assert len(dom.find_all("body")) == 1 and len(dom.find_all("h1")) == 1
    assert text.count("</table>") == text.count("<table")


def test_controls_and_bidirectional_text_are_made_visible() -> None:
    text = html_of(hostile_report())
    assert "\x00" not in text and "\x1b" not in text and "\u202e" not in text
    assert "rtl\\u202eevil nul\\u0000 esc\\u001b[31m" in text


# -- never shortened, deterministic, in words -----------------------------------------------


def test_a_huge_report_is_whole() -> None:
    long_message = "no limits " + "y" * 20_000
    results = [make_result(ROOT_POLICY, status=FAIL, name=f"app-{n:05d}",
                           message=f"container {n} runs as root") for n in range(3_000)]
    results += [make_result(PROBE_POLICY, status=PASS, name=f"ok-{n:05d}")
                for n in range(3_000)]
    results.append(make_result(LIMITS_POLICY, status=FAIL, name="long", message=long_message))
    text = html_of(make_report(results, audit=make_audit(evidence=[make_evidence(
        values=[f"CHG{n:04d}" for n in range(500)])])))
    dom = parse(text)
    assert len(section_table(dom, "blocking")) == 1 + 3_001
    assert len(section_table(dom, "passed")) == 1 + 3_000
    assert long_message in text
    assert "CHG0499" in section_table(dom, "evidence")[1][2]
    assert "…" not in text and "not shown" not in text


def test_output_is_deterministic() -> None:
    first = html_of(hostile_report())
    report = hostile_report()
    random.Random(5).shuffle(report.results)
    shuffled = make_report(report.results, errors=report.errors, notes=report.notes,
                           change=report.change, audit=report.audit, fail_on=report.fail_on,
                           tool_version=report.tool_version, unjudged=report.unjudged,
                           policies=report.policies)
    assert render(shuffled, RenderOptions(color=True, verbose=True)) == first
    assert html_of(evidence_report()) == html_of(evidence_report())
    # No clock time: the only instants are those the report carries.
    text = html_of(evidence_report())
    assert set(re.findall(r"\d\d:\d\d:\d\d", text)) == {
        "09:00:00", "00:00:00", "10:00:00", "11:30:00"}


# Pictographs, dingbats, arrows and symbols, and the joiners and variation selectors that
# style them: without an emoji font, an empty box.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2190-\u21ff\u2300-\u23ff\u2600-\u27bf"
                   "\u2b00-\u2bff\ufe0e\ufe0f\u200d]")


def test_no_emoji_states_in_words() -> None:
    for report in (sample_report(), evidence_report()):
        text = html_of(report)
        # The only arrow is a rename's, in a value's place; no state is an emoji.
        assert not EMOJI.search(text.replace("→", "")), EMOJI.findall(text)
    dom = parse(html_of(evidence_report()))
    states = sorted({span.text() for span in dom.find_all("span")
                     if "state" in (span.attrs.get("class") or "").split()})
    assert states == ["active", "baselined", "blocking", "expired", "failed",
                      "good signature", "input error", "new", "not judged", "not signed",
                      "overridden", "passed", "rollback allowed", "skipped", "stale",
                      "waived", "warning"]


# -- the command line -----------------------------------------------------------------------


def test_check_writes_html_to_a_file_and_to_standard_output(gate_cli: RunGate,
                                                            tmp_path: Path) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(POD_LATEST, encoding="utf-8")
    out = tmp_path / "report.html"
    done = gate_cli("check", "apps", f"-f=html={out}", "--now", "2026-12-24T09:00:00Z",
                    cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    text = out.read_text(encoding="utf-8")
    dom = assert_inert(text)
    assert dom.find_all("title")[0].text() == "gate report: failed"
    [row] = [r for r in section_table(dom, "blocking")[1:] if r[0] == "no-latest-tag"]
    assert row[2:4] == ["Pod web", "apps/web.yaml:10"]
    assert dict(section_table(dom, "record")[1:])["Judged"] == "the files given to gate check"
    again = gate_cli("check", "apps", "-f", "html", "--now", "2026-12-24T09:00:00Z",
                     cwd=tmp_path)
    assert again.stdout == text  # byte-identical, to a file or to standard output


@pytest.mark.e2e
def test_diff_writes_the_change_into_the_html(run_gate: RunGate, tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("apps/web.yaml", POD_LATEST.replace("nginx:latest", "nginx:1.27"))
    repo.commit("Add web")
    repo.git("branch", "base")
    repo.write("apps/web.yaml", POD_LATEST)
    repo.commit("Use </table><script>alert(1)</script> latest\n\nChange-Ticket: CHG-1")
    out = tmp_path / "diff.html"
    done = run_gate("diff", "--base", "base", "-f", f"html={out}", "-f",
                    f"markdown-comment={tmp_path / 'comment.md'}", cwd=repo.path)
    assert done.returncode == 1, done.stderr
    dom = assert_inert(out.read_text(encoding="utf-8"))
    assert section_table(dom, "changed-files")[1] == ["M", "apps/web.yaml"]
    assert any(row[0] == "no-latest-tag" and row[-1].startswith("new ")
               for row in section_table(dom, "blocking")[1:])
    assert dict(section_table(dom, "record")[1:])["Commits"] == "1"
    comment = (tmp_path / "comment.md").read_text(encoding="utf-8")
    assert comment.startswith("<!-- gate-report:v1 -->")


# -- headless Chromium ----------------------------------------------------------------------

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--no-default-browser-check", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-extensions",
                  "--disable-default-apps", "--disable-domain-reliability",
                  "--metrics-recording-only", "--disable-breakpad", "--mute-audio",
                  "--disable-client-side-phishing-detection", "--no-service-autorun",
                  "--password-store=basic", "--use-mock-keychain",
                  "--disable-features=Translate,OptimizationHints,MediaRouter,"
                  "NetworkTimeServiceQuerying,AutofillServerCommunication,"
                  "CertificateTransparencyComponentUpdater,DialMediaRouteProvider",
                  "--hide-scrollbars")
CHROMIUM_TIMEOUT = 120


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="module")
def chromium() -> str:
    found = _find_chromium()
    if found is None:
        # Tests read no network, so they do not install it themselves: .ci/run does.
        can_install = shutil.which("apt-get") is not None and (
            os.geteuid() == 0 or shutil.which("sudo") is not None)
        pytest.skip("chromium is not installed: " + (
            "install Debian's `chromium` package (.ci/run does, as root or with sudo)"
            if can_install else "and cannot be installed here (no apt-get, or neither root "
                                "nor sudo)"))
    return found


class ConnectionRecorder:
    """A proxy that lets nothing through: it records the first line of every request
    (``GET http://...`` or ``CONNECT host:443``) and answers 404."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with client:
                client.settimeout(5)
                try:
                    first = client.recv(4096).split(b"\r\n", 1)[0]
                    self.requests.append(first.decode("latin-1"))
                    client.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                   b"Connection: close\r\n\r\n")
                except OSError:
                    self.requests.append("(connection without a request)")

    def close(self) -> None:
        self.server.close()

    def page_requests(self) -> list[str]:
        """What was asked for but Chromium's own service calls (its component updater and
        account checks go to Google's hosts whatever the flags; no page loads from there)."""
        return [request for request in self.requests
                if not BROWSER_SERVICE.match(request)]


# The first line of a request Chromium makes for itself, not for a page.
BROWSER_SERVICE = re.compile(
    r"(GET|POST|CONNECT) (http://)?([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com)"
    r"[:/ ]")


@pytest.fixture
def recorder() -> Iterator[ConnectionRecorder]:
    proxy = ConnectionRecorder()
    try:
        yield proxy
    finally:
        proxy.close()


def run_chromium(chromium: str, *args: str, proxy: ConnectionRecorder | None = None,
                 ) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="gate-chromium-") as profile:
        argv = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                "--virtual-time-budget=5000"]
        if proxy is not None:
            # Every request, loopback included, goes to the recorder.
            argv += [f"--proxy-server=http://127.0.0.1:{proxy.port}",
                     "--proxy-bypass-list=<-loopback>"]
        done = run([*argv, *args], env={**os.environ, "HOME": profile}, timeout=CHROMIUM_TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("GATE_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.e2e
def test_chromium_renders_every_table_and_loads_nothing(
    chromium: str, recorder: ConnectionRecorder, tmp_path: Path
) -> None:
    """The page as a browser builds it: the text and tables are there, and no request
    leaves it, though hostile values name http://example.invalid/ resources."""
    report = hostile_report()
    evidence = evidence_report()
    page = tmp_path / "report.html"
    # The evidence report, with the hostile values' sections appended as a second page
    # would be: two files, each rendered by Chromium through the recording proxy.
    page.write_text(html_of(evidence), encoding="utf-8")
    hostile_page = tmp_path / "hostile.html"
    hostile_page.write_text(html_of(report), encoding="utf-8")

    dom = parse(run_chromium(chromium, "--dump-dom", page.as_uri(), proxy=recorder).stdout)
    assert dom.find_all("title")[0].text() == "gate report: failed"
    assert "CAUTION: emergency override, 2 blocking findings let through." in (
        dom.by_id("caution").text())
    assert section_table(dom, "change-log")[1][6].startswith("good signature\nsigner: Dev One")
    assert section_table(dom, "rollbacks")[1][:2] == ["prod", "v1.0.0"]
    assert section_table(dom, "blocking")[1] == [
        "promotion-certified", "high", "change to prod", "overlays/prod/kustomization.yaml:14",
        "new image ghcr.io/acme/web:2.0 was never deployed to staging"]
    assert dict(section_table(dom, "record")[1:])["sha256 fingerprint"] == "f" * 64
    assert section_table(dom, "overrides")[1][5] == "Cara Approver <cara@example.com>"

    hostile = parse(run_chromium(chromium, "--dump-dom", hostile_page.as_uri(),
                                 proxy=recorder).stdout)
    # Chromium built no element from a value: no script, image, frame, link or base.
    tags = {node.tag for node in hostile.walk()}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    body = hostile.find_all("body")[0].text()
    assert "</table><script>alert(1)</script>" in body
    assert "<img src=http://example.invalid/img.png>" in body
    for table in hostile.find_all("table"):
        rows = table.tables()[0]
        assert all(len(row) == len(rows[0]) for row in rows), rows[0]
    assert recorder.page_requests() == []
    assert not [request for request in recorder.requests if "example.invalid" in request]


@pytest.mark.e2e
def test_the_connection_recorder_sees_a_page_that_loads_something(
    chromium: str, recorder: ConnectionRecorder, tmp_path: Path
) -> None:
    """The control of the test above: the same Chromium and proxy do record a page's
    request for an external image, so an empty record means nothing was asked for."""
    page = tmp_path / "loads.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p>'
                    '<img src="http://example.invalid/pixel.png"></body></html>',
                    encoding="utf-8")
    run_chromium(chromium, "--dump-dom", page.as_uri(), proxy=recorder)
    assert any("example.invalid" in request for request in recorder.page_requests()), \
        recorder.requests


@pytest.mark.e2e
def test_chromium_screenshot_and_print_are_kept_as_artifacts(
    chromium: str, recorder: ConnectionRecorder, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    page.write_text(html_of(evidence_report()), encoding="utf-8")
    folder = artifacts_dir()
    screenshot = folder / "html-report.png"
    screenshot.unlink(missing_ok=True)
    run_chromium(chromium, f"--screenshot={screenshot}", "--window-size=1280,2400",
                 page.as_uri(), proxy=recorder)
    data = screenshot.read_bytes()
    assert len(data) > 10_000
    assert png_size(data) == (1280, 2400)
    printed = folder / "html-report.pdf"
    printed.unlink(missing_ok=True)
    run_chromium(chromium, f"--print-to-pdf={printed}", "--no-pdf-header-footer",
                 page.as_uri(), proxy=recorder)
    pdf = printed.read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 5_000
    assert recorder.page_requests() == []


@pytest.mark.e2e
def test_chromium_shows_a_real_rollback_with_its_change_log(
    chromium: str, recorder: ConnectionRecorder, gate_cli: RunGate, tmp_path: Path
) -> None:
    """The release fixture's c10 (prod back from the hotfix release v1.1.1 to v1.0.0) in a
    freeze that lets rollbacks through: the page a compliance officer files for it, from a
    real gate diff, as Chromium renders it."""
    path = build_release_repo(tmp_path / "repo")
    # The rules come from the working tree: a freeze over the day c10 merged.
    freeze_with_rollbacks(path)
    page = tmp_path / "rollback.html"
    done = gate_cli("diff", "--base", step_sha(path, "c9"), "--head", step_sha(path, "c10"),
                    "--kustomize", "builtin", "--at", "commit", "-f", f"html={page}", cwd=path)
    assert done.returncode == 0, done.stdout + done.stderr
    dom = parse(run_chromium(chromium, "--dump-dom", page.as_uri(), proxy=recorder).stdout)
    [header, row] = section_table(dom, "change-log")
    assert header[:4] == ["Commit", "Subject", "Author", "Authored"]
    assert row[0] == step_sha(path, "c10")
    assert row[1:4] == ["Roll prod back to v1.0.0", "Alice Release <alice@example.com>",
                        "2026-01-14T09:00:00+00:00"]
    assert row[6] == "not signed"
    assert row[-1] == "CHG-108"
    [_, rollback] = section_table(dom, "rollbacks")
    assert rollback[:2] == ["prod", "v1.0.0"]
    assert "registry.example.com/shop/ms2: 1.3.1 -> 1.3.0" in rollback[2]
    assert rollback[3] == "rollback allowed by hotfix-review"
    assert recorder.page_requests() == []
    screenshot = artifacts_dir() / "html-rollback.png"
    screenshot.unlink(missing_ok=True)
    run_chromium(chromium, f"--screenshot={screenshot}", "--window-size=1280,1800",
                 page.as_uri(), proxy=recorder)
    assert png_size(screenshot.read_bytes()) == (1280, 1800)
