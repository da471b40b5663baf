"""The Markdown report: verdict, tables, hostile values, size limit and determinism."""
from __future__ import annotations

import random
import re

import pytest

from gate.reports import RenderOptions
from gate.reports.markdown import MARKER, render
from gate.reports.markdown_comment import _DROP_ORDER, MAX_CHARS
from gate.reports.markdown_comment import render as render_comment
from gate.reports.markdown_text import escape
from gate.results import FAIL, NOT_RENDERED, OVERRIDDEN, PASS, SKIP, WAIVED, WARN, Report, Result
from tests.report_factory import (
    HELM_NOT_ASKED,
    OVERRIDE,
    UNJUDGED,
    governance_report,
    make_audit,
    make_change,
    make_change_result,
    make_error,
    make_evidence,
    make_note,
    make_override,
    make_policy,
    make_report,
    make_result,
    make_unjudged,
    make_waiver,
    make_waiver_use,
    unjudged_report,
    with_unjudged,
)

ROOT_POLICY = make_policy(
    "K8S001",
    title="Containers must not run as root",
    controls=("CIS-5.2.6", "NIST-AC-6"),
)
PROBE_POLICY = make_policy("K8S002", title="Probes", severity="low", enforcement="warn")
LIMITS_POLICY = make_policy("K8S003", title="Limits", severity="critical", controls=("SOC2-CC7",))

FINDING_COLUMNS = 5
HOSTILE = [
    "a | b || c",
    "`code` ``more``",
    "<script>alert(1)</script>",
    "</details></summary></table>",
    "line one\nline two\r\nline three\rfour",
    "ping @org/team and @someone",
    "[link](http://x)",
    "![img](http://x)",
    "# heading",
    "*bold* _em_ ~~strike~~",
    "back\\slash\\|pipe",
    "&amp; &lt;b&gt; &#64;user",
    "see http://evil.example/x or www.evil.example",
]


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
            make_result(LIMITS_POLICY, status=SKIP, message="nothing to check", kind="ConfigMap"),
        ],
        errors=[make_error("apps/broken.yaml", 7, "could not parse YAML")],
        notes=[make_note("apps/readme.yaml", 1, "skipped: not a Kubernetes object")],
    )


@pytest.fixture()
def markdown() -> str:
    return render(sample_report(), RenderOptions())


def unescaped_pipes(line: str) -> int:
    """``|`` characters not preceded by an odd number of backslashes."""
    count = backslashes = 0
    for char in line:
        if char == "\\":
            backslashes += 1
            continue
        if char == "|" and backslashes % 2 == 0:
            count += 1
        backslashes = 0
    return count


def tables(text: str) -> list[list[str]]:
    """The tables of ``text``: runs of consecutive lines starting with ``|``."""
    found: list[list[str]] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


def section(text: str, heading: str) -> str:
    """The text from the line starting with ``heading`` to the next heading or details block."""
    start = text.index(heading)
    ends = [text.find(mark, start + 1) for mark in ("\n#", "\n<details>")]
    return text[start:min([end for end in ends if end != -1], default=len(text))]


def assert_tables_intact(text: str) -> None:
    for table in tables(text):
        columns = unescaped_pipes(table[0]) - 1
        assert table[1] == "|" + "---|" * columns, table[:2]
        for row in table:
            assert unescaped_pipes(row) == columns + 1, row
            assert row.endswith(" |") or row.endswith("|"), row


# -- head and verdict --------------------------------------------------------------


def test_marker_heading_and_counts(markdown: str) -> None:
    lines = markdown.splitlines()
    assert lines[0] == MARKER == "<!-- gate-report:v1 -->"
    assert lines[1] == "## ❌ gate: failed"
    counts = lines[3]
    for part in ("❌ 2 blocking", "⚠️ 1 warning", "✅ 2 passed", "1 waived", "1 skipped",
                 "1 input error"):
        assert part in counts


def test_passing_report() -> None:
    report = make_report([make_result(ROOT_POLICY, status=PASS)])
    text = render(report, RenderOptions())
    assert text.splitlines()[1] == "## ✅ gate: passed"
    assert "❌ 0 blocking" in text
    assert "### ❌ Blocking findings" not in text
    assert "### ⛔ Input errors" not in text


def test_input_errors_fail_the_gate() -> None:
    report = make_report([], errors=[make_error("x.yaml", None, "unreadable")])
    text = render(report, RenderOptions())
    assert "## ❌ gate: failed" in text
    errors = section(text, "### ⛔ Input errors (1)")
    assert "fails closed" in errors
    assert "| x.yaml | unreadable |" in errors


def test_empty_report() -> None:
    text = render(make_report([]), RenderOptions())
    assert text.startswith(MARKER + "\n## ✅ gate: passed")
    assert_tables_intact(text)


# -- tables ------------------------------------------------------------------------


def test_blocking_table_most_severe_first(markdown: str) -> None:
    blocking = section(markdown, "### ❌ Blocking findings (2)")
    (table,) = tables(blocking)
    assert table[0] == "| Policy | Severity | Resource | Location | Message |"
    assert table[2] == (
        "| K8S003 | critical | Deployment prod/api | apps/api.yaml:3 | no memory limit |"
    )
    assert table[3] == (
        "| K8S001 | high | Deployment prod/web | apps/web.yaml:20 "
        "| container web runs as root \\(at spec.template.spec.containers\\[0\\]\\) |"
    )


def test_warnings_table(markdown: str) -> None:
    (table,) = tables(section(markdown, "### ⚠️ Warnings (1)"))
    assert table[2:] == [
        "| K8S002 | low | Deployment prod/web | apps/web.yaml:12 | no readinessProbe |"
    ]


def test_policy_table_has_controls_and_counts(markdown: str) -> None:
    (table,) = tables(section(markdown, "### Policies"))
    assert table[0] == (
        "| Policy | Title | Severity | Enforcement | Controls "
        "| ✅ Pass | ❌ Fail | ⚠️ Warn | Waived |"
    )
    assert table[2:] == [
        "| K8S001 | Containers must not run as root | high | block | CIS-5.2.6, NIST-AC-6 "
        "| 1 | 1 | 0 | 1 |",
        "| K8S002 | Probes | low | warn | — | 1 | 0 | 1 | 0 |",
        "| K8S003 | Limits | critical | block | SOC2-CC7 | 0 | 1 | 0 | 0 |",
    ]


def test_waived_results_with_reason(markdown: str) -> None:
    (table,) = tables(section(markdown, "### Waived (1)"))
    assert table[2:] == [
        "| K8S001 | Deployment prod/db | apps/db.yaml:1 | legacy image, ticket SEC-42 | CHG-9 "
        "| jane.doe&#64;example.com | 2099-12-31 | waivers.yaml:3 |"
    ]


def test_passed_checks_are_folded(markdown: str) -> None:
    start = markdown.index("<details><summary>✅ 2 passed checks</summary>\n\n| Policy |")
    block = markdown[start:markdown.index("</details>", start)]
    assert "| K8S001 | Deployment prod/api | apps/api.yaml:3 |" in block
    assert "| K8S002 | Deployment prod/api | apps/api.yaml:3 |" in block
    assert block.endswith("|\n\n")


def test_skipped_documents_are_folded(markdown: str) -> None:
    assert "<details><summary>1 skipped document (not Kubernetes resources)</summary>" in markdown
    assert "| apps/readme.yaml:1 | skipped: not a Kubernetes object |" in markdown


def test_all_tables_are_well_formed(markdown: str) -> None:
    assert_tables_intact(markdown)
    for table in tables(markdown):  # a blank line before every table
        assert f"\n\n{table[0]}\n" in markdown


# -- hostile values ----------------------------------------------------------------


def hostile_results(number: int, value: str) -> list[Result]:
    """One result of each status, with ``value`` in every field a manifest controls."""
    policy = make_policy(f"P{number:02d}{value}", title=value, controls=(value, "C-1"),
                         severity="high" if number % 2 else "low",
                         enforcement="block" if number % 2 else "warn")

    def result(status: str, finding_line: int | None, message: str = "",
               field: str | None = None, waiver: str | None = None) -> Result:
        return make_result(policy, status=status, kind=value, name=value, namespace=value,
                           file=value, line=number + 1, finding_line=finding_line,
                           message=message, field=field, waiver=waiver)

    return [
        result(FAIL, None, message=value, field=value),
        result(WARN, 99, message=value),
        result(WAIVED, 98, message=value, waiver=value),
        result(PASS, 97),
    ]


def hostile_report() -> Report:
    results = [r for number, value in enumerate(HOSTILE) for r in hostile_results(number, value)]
    return make_report(
        results,
        errors=[make_error(value, 1, value) for value in HOSTILE],
        notes=[make_note(value, 2, value) for value in HOSTILE],
        unjudged=[make_unjudged(value, value, NOT_RENDERED, value) for value in HOSTILE],
        fail_on="high",
    )


@pytest.fixture()
def hostile_markdown() -> str:
    return render(hostile_report(), RenderOptions())


def test_hostile_values_keep_every_table_row_intact(hostile_markdown: str) -> None:
    assert_tables_intact(hostile_markdown)
    widths = {unescaped_pipes(table[0]) - 1 for table in tables(hostile_markdown)}
    assert widths == {2, 3, 5, 8, 9}
    rows = sum(len(table) - 2 for table in tables(hostile_markdown))
    # errors, fail, warn, not judged, waived, policies, passed, notes
    assert rows == len(HOSTILE) * 8


def test_hostile_values_cannot_close_details(hostile_markdown: str) -> None:
    opened = hostile_markdown.count("<details>")
    assert opened == 2
    assert hostile_markdown.count("</details>") == opened
    assert hostile_markdown.count("<summary>") == hostile_markdown.count("</summary>") == opened


def test_hostile_values_cannot_inject_html_mentions_or_links(hostile_markdown: str) -> None:
    text = hostile_markdown
    assert "<script" not in text
    assert re.search(r"@\w", text) is None
    assert "&#64;org/team" in text
    assert "](" not in text.replace("\\](", "")
    assert "![" not in text.replace("\\!\\[", "")
    assert "http://" not in text
    assert "www.evil" not in text
    # every tag left is one the renderer wrote
    tags = set(re.findall(r"</?[a-z]+", text))
    assert tags <= {"<details", "</details", "<summary", "</summary"}


def cells(row: str) -> list[str]:
    """The cells of a table row, split at unescaped pipes."""
    found, current, backslashes = [], "", 0
    for char in row:
        if char == "|" and backslashes % 2 == 0:
            found.append(current)
            current = ""
        else:
            current += char
        backslashes = backslashes + 1 if char == "\\" else 0
    return [cell.strip() for cell in found[1:]]


def test_hostile_values_escape_markdown_specials(hostile_markdown: str) -> None:
    data_cells = [cell for table in tables(hostile_markdown) for row in table[2:]
                  for cell in cells(row)]
    assert len(data_cells) > len(HOSTILE) * 20
    for cell in (cell.replace("&#64;", "@") for cell in data_cells):  # our own entity
        for match in re.finditer(r"[`*_\[\]()!#|~]", cell):
            before = cell[: match.start()]
            backslashes = len(before) - len(before.rstrip("\\"))
            assert backslashes % 2 == 1, f"unescaped {match[0]!r} in {cell!r}"
    assert "&amp;amp;" in hostile_markdown  # "&" is escaped, including in existing entities
    assert "back\\\\slash\\\\\\|pipe" in hostile_markdown  # backslash first, then the pipe


def test_no_headings_or_extra_lines_from_values(hostile_markdown: str) -> None:
    headings = [line for line in hostile_markdown.splitlines() if line.startswith("#")]
    assert all(re.fullmatch(r"##? [^|]*|### [^|]*", line) for line in headings)
    assert not any("line two" in h for h in headings)
    assert "line one line two line three four" in hostile_markdown


def test_escape_function() -> None:
    assert escape("a|b") == "a\\|b"
    assert escape("\\|") == "\\\\\\|"
    assert escape("x\ny") == "x y"
    assert escape("@team") == "&#64;team"
    assert escape("<b>&") == "&lt;b&gt;&amp;"
    assert escape("https://x.y") == "https\\://x.y"
    assert escape("a" * 1000, limit=10) == "a" * 1000  # the whole report caps nothing
    assert escape("nul\x00here") == "nul\\\\u0000here"  # visible: \u0000 once rendered
    assert escape("rtl\u202eevil") == "rtl\\\\u202eevil"


# -- size limit --------------------------------------------------------------------


def huge_report(failures: int = 5_000) -> Report:
    results = [
        make_result(ROOT_POLICY if n % 2 else LIMITS_POLICY, status=FAIL, name=f"app-{n:05d}",
                    message=f"container {n} runs as root", file=f"apps/app-{n:05d}.yaml", line=1)
        for n in range(failures)
    ]
    results += [
        make_result(PROBE_POLICY, status=WARN, name=f"app-{n:05d}", message="no probe",
                    file=f"apps/app-{n:05d}.yaml", line=1)
        for n in range(2_000)
    ]
    results += [
        make_result(PROBE_POLICY, status=PASS, name=f"ok-{n:05d}", file=f"ok/{n:05d}.yaml")
        for n in range(2_000)
    ]
    return make_report(results)


def test_huge_report_is_truncated_with_a_note() -> None:
    text = render_comment(huge_report(), RenderOptions())
    assert len(text) < MAX_CHARS <= 65_000
    assert len(text.encode("utf-16-le")) // 2 < MAX_CHARS
    # the verdict and counts survive
    assert "## ❌ gate: failed" in text
    assert "**❌ 5,000 blocking**" in text
    assert "⚠️ 2,000 warnings" in text
    assert "✅ 2,000 passed" in text
    # least important content goes first: passed checks and warnings entirely
    assert "… 2,000 passed checks not shown; see the whole Markdown, HTML or JSON report." in text
    assert "… 2,000 warnings not shown; see the whole Markdown, HTML or JSON report." in text
    shown = len(tables(section(text, "### ❌ Blocking findings"))[0]) - 2
    assert 0 < shown < 5_000
    assert (f"… {5_000 - shown:,} more blocking findings not shown; see the whole Markdown, "
            "HTML or JSON report.") in text
    assert f"Shortened to fit 65,000 characters: {5_000 - shown:,} blocking findings" in text
    # the most severe findings are the ones kept
    assert "| K8S003 | critical |" in text
    assert_tables_intact(text)
    assert text.count("<details>") == text.count("</details>")


def test_truncation_keeps_everything_that_fits() -> None:
    text = render_comment(huge_report(failures=100), RenderOptions())
    assert "blocking findings not shown" not in text  # 100 rows fit once passes are gone
    assert len(tables(section(text, "### ❌ Blocking findings"))[0]) - 2 == 100
    assert "… 2,000 passed checks not shown" in text


def test_huge_values_and_many_errors_stay_under_the_limit() -> None:
    value = "@x|`<" * 20_000
    report = make_report(
        [make_result(ROOT_POLICY, status=FAIL, message=value, name=f"n{n}") for n in range(300)],
        errors=[make_error(f"bad{n}.yaml", n, value) for n in range(300)],
    )
    text = render_comment(report, RenderOptions())
    assert len(text) < MAX_CHARS
    assert "input errors" in text
    assert "**❌ 300 blocking**" in text
    assert_tables_intact(text)


def test_small_report_is_not_truncated(markdown: str) -> None:
    assert "not shown" not in markdown
    assert "Shortened" not in markdown
    # A small report is the same in both forms.
    assert render_comment(sample_report(), RenderOptions()) == markdown


def test_the_whole_report_is_never_shortened() -> None:
    """-f markdown writes a file to keep: every row and every value, whatever its size."""
    long_message = "runs as root " + "x" * 5_000
    report = huge_report()
    report = make_report([*report.results,
                          make_result(LIMITS_POLICY, status=FAIL, message=long_message,
                                      name="long")],
                         audit=make_audit(evidence=[make_evidence(
                             values=[f"CHG{n:03d}" for n in range(120)])]))
    text = render(report, RenderOptions())
    assert len(text) > MAX_CHARS
    assert "not shown" not in text and "Shortened" not in text and "…" not in text
    assert len(tables(section(text, "### ❌ Blocking findings"))[0]) - 2 == 5_001
    assert len(tables(section(text, "### ⚠️ Warnings"))[0]) - 2 == 2_000
    assert text.count("| K8S002 | Deployment prod/ok-") == 2_000  # every passed check
    assert "runs as root " + "x" * 5_000 + " |" in text
    assert "CHG119" in text and "more" not in section(text, "#### Change evidence")
    assert_tables_intact(text)
    # The comment form of the same report is shortened, and says so.
    comment = render_comment(report, RenderOptions())
    assert len(comment) < MAX_CHARS and "Shortened to fit" in comment
    assert "x" * 400 not in comment


def test_the_comment_form_caps_values() -> None:
    report = make_report([make_result(ROOT_POLICY, status=FAIL, message="m" * 1_000)])
    assert "m" * 299 + "…" in render_comment(report, RenderOptions())
    assert "m" * 1_000 in render(report, RenderOptions())
    # The cap holds only while the comment is rendered.
    assert escape("a" * 1_000, limit=10) == "a" * 1_000


# -- determinism -------------------------------------------------------------------


def test_output_is_deterministic() -> None:
    first = render(hostile_report(), RenderOptions())
    report = hostile_report()
    random.Random(3).shuffle(report.results)
    assert render(report, RenderOptions(color=True, verbose=True)) == first
    assert render(huge_report(), RenderOptions()) == render(huge_report(), RenderOptions())
    # No clock time: the only date is the waiver's own expiry.
    assert set(re.findall(r"\d{4}-\d{2}-\d{2}", first)) <= {"2099-12-31"}


def test_statuses_are_all_counted() -> None:
    report = sample_report()
    text = render(report, RenderOptions())
    for status in (FAIL, WARN, PASS, WAIVED, SKIP):
        assert report.count(status) > 0
    assert "1 skipped document" in text


# -- change governance: overrides, waivers, change subjects ----------------------------


@pytest.fixture()
def governance_markdown() -> str:
    return render(governance_report(), RenderOptions())


def test_override_callout_right_under_the_counts(governance_markdown: str) -> None:
    lines = governance_markdown.splitlines()
    assert "**🚨 2 overridden**" in lines[3]
    assert lines[5:8] == [
        "> **🚨 CAUTION: emergency override, 2 blocking findings let through.** They would "
        "have failed the gate.",
        "> - **Gate-Override: INC-1234** by Ann Oncall &lt;ann&#64;example.com&gt; in commit "
        "0123456789ab: payment outage; let through 1 finding of no-latest-tag, 1 finding of "
        "release-window",
        "",
    ]


def test_no_callout_without_overridden_results(markdown: str) -> None:
    assert "[!CAUTION]" not in markdown
    assert "overridden" not in markdown.lower()
    assert "🚨" not in markdown


def test_overridden_findings_are_the_first_table(governance_markdown: str) -> None:
    first = tables(governance_markdown)[0]
    assert first[0] == "| Policy | Severity | Resource | Location | Message | Override |"
    override = "INC-1234 by Ann Oncall &lt;ann&#64;example.com&gt; \\(0123456789ab\\)"
    assert first[2:] == [
        "| release-window | critical | change to prod | — "
        f"| prod is frozen until 2027-01-04T00:00:00Z | {override} |",
        "| no-latest-tag | high | Deployment prod/web \\(prod, overlays/prod\\) "
        f"| overlays/prod/k.yaml:9 | image 'web' uses 'latest' | {override} |",
    ]
    heading = "### 🚨 Emergency overrides: findings let through (2)"
    assert governance_markdown.index(heading) < governance_markdown.index("### Change")


def test_callout_names_at_most_a_few_overrides() -> None:
    results = [
        make_result(ROOT_POLICY, status=OVERRIDDEN, name=f"app{n}",
                    override=make_override(f"INC-{n}", commit=f"{n:040x}"))
        for n in range(8)
    ]
    text = render(make_report(results), RenderOptions())
    callout = [line for line in text.splitlines() if line.startswith("> ")]
    assert len(callout) == 1 + 5 + 1
    assert callout[-1] == "> - … and 3 more overrides (see the audit section)"


def test_change_findings_name_the_change_as_subject(governance_markdown: str) -> None:
    (blocking,) = tables(section(governance_markdown, "### ❌ Blocking findings (1)"))
    assert blocking[2:] == [
        "| promotion-certified | high | change to prod | overlays/prod/kustomization.yaml:14 "
        "| **NEW** image ghcr.io/acme/web:2.0 was never deployed to staging |"
    ]
    (warnings,) = tables(section(governance_markdown, "### ⚠️ Warnings (1)"))
    assert warnings[2:] == [
        "| change-ticket | medium | change to staging | — "
        "| **NEW** no change ticket in the commit messages |"
    ]


def test_waived_findings_show_the_whole_waiver(governance_markdown: str) -> None:
    (table,) = tables(section(governance_markdown, "### Waived (1)"))
    assert table[2:] == [
        "| required-labels | Deployment prod/web \\(prod, overlays/prod\\) | base/web.yaml:1 "
        "| vendor sidecar pinned by the operator | SEC-42 | Sam Security "
        "&lt;sam&#64;example.com&gt; | 2027-01-31 | waivers.yaml:12 |"
    ]


def test_inline_waiver_without_approver_or_expiry() -> None:
    waiver = make_waiver("sidecar", source="annotation gate.dev/waive.K8S001", ticket=None,
                         approved_by=None, expires=None)
    text = render(make_report([make_result(ROOT_POLICY, status=WAIVED, waiver=waiver)]),
                  RenderOptions())
    (table,) = tables(section(text, "### Waived (1)"))
    assert table[2] == ("| K8S001 | Deployment prod/web | apps/web.yaml:1 | sidecar | — | — | — "
                        "| annotation gate.dev/waive.K8S001 |")


def test_change_section_says_commits_and_environments(governance_markdown: str) -> None:
    change = section(governance_markdown, "### Change (1)")
    assert ("Compared origin/main (dddddddddddd) with HEAD (cccccccccccc): only findings this "
            "change adds block. 2 commits. Environments it reaches: prod, staging.") in change


def test_tables_count_overridden_only_when_there_are_some(governance_markdown: str) -> None:
    (policies,) = tables(section(governance_markdown, "### Policies"))
    assert policies[0].endswith("| ✅ Pass | ❌ Fail | ⚠️ Warn | Waived | 🚨 Overridden |")
    assert ("| release-window | Release window | critical | block "
            "| SOC2:CC8.1, ISO27001:A.12.1.2 | 1 | 0 | 0 | 0 | 1 |") in policies
    (environments,) = tables(section(governance_markdown, "### Environments (2)"))
    assert environments == [
        "| Environment | ❌ Blocking | ⚠️ Warnings | Waived | 🚨 Overridden | ✅ Passed |",
        "|---|---|---|---|---|---|",
        "| prod | 1 | 0 | 1 | 2 | 2 |",
        "| staging | 0 | 1 | 0 | 0 | 1 |",
    ]


def test_governance_report_is_well_formed(governance_markdown: str) -> None:
    assert_tables_intact(governance_markdown)
    assert governance_markdown.count("<details>") == governance_markdown.count("</details>") == 2


# -- the audit section -------------------------------------------------------------


def audit_section(text: str) -> str:
    return text[text.index("### 📋 Audit"):]


def test_audit_records_range_time_version_and_fingerprint(governance_markdown: str) -> None:
    facts = tables(audit_section(governance_markdown))[0]
    assert facts == [
        "| Record | Value |",
        "|---|---|",
        f"| Judged | commits {'b' * 40}..{'c' * 40} \\(origin/main..HEAD\\) |",
        f"| Merge base | `{'d' * 40}` |",
        "| Commits | 2 |",
        "| Environments | prod, staging |",
        "| Evaluated at | 2026-12-24T09:00:00Z \\(time source: --now\\) |",
        "| gate version | 9.9.9 |",
        "| Rules read from | working tree |",
        f"| sha256 fingerprint | `{'f' * 64}` |",
        "| Fail on | info |",
    ]


def test_audit_of_gate_check_and_of_staged_changes() -> None:
    check = render(make_report([], audit=make_audit()), RenderOptions())
    facts = tables(audit_section(check))[0]
    assert facts[2] == "| Judged | the files given to gate check |"
    assert not any(row.startswith(("| Merge base", "| Commits")) for row in facts)
    staged = make_report([], audit=make_audit(), change=make_change(
        mode="staged", base_ref="HEAD", base_sha="e" * 40, head_ref="index", head_sha=None,
        merge_base=None, commits=0))
    facts = tables(audit_section(render(staged, RenderOptions())))[0]
    assert facts[2] == f"| Judged | staged changes: the index against HEAD {'e' * 40} |"
    assert not any(row.startswith(("| Merge base", "| Commits")) for row in facts)


def test_audit_control_tables_one_per_framework(governance_markdown: str) -> None:
    header = ("| Control | Title | Policies | ✅ Pass | ❌ Fail | ⚠️ Warn | Waived "
              "| 🚨 Overridden |")
    (soc2,) = tables(section(governance_markdown,
                             "#### Controls: SOC 2 Trust Services Criteria 2017 (1)"))
    assert soc2[0] == header
    assert soc2[2:] == [
        "| CC8.1 | The entity authorizes, designs, develops or acquires, configures, documents, "
        "tests, approves, and implements changes to infrastructure, data, software, and "
        "procedures to meet its objectives. | no-latest-tag, release-window "
        "| 2 | 0 | 0 | 0 | 2 |",
    ]
    (other,) = tables(section(governance_markdown, "#### Controls: Other (2)"))
    assert other[2:] == [
        "| ISO27001:A.12.1.2 | — | change-ticket, release-window | 2 | 0 | 1 | 0 | 1 |",
        "| \\(no control\\) | — | promotion-certified, required-labels | 0 | 1 | 0 | 1 | 0 |",
    ]
    assert governance_markdown.index("#### Controls: SOC 2") < governance_markdown.index(
        "#### Controls: Other")


def test_audit_waivers_overrides_and_evidence(governance_markdown: str) -> None:
    (waivers,) = tables(section(governance_markdown, "#### Waivers (3)"))
    assert waivers[0] == ("| Waiver | Policy | State | Findings | Reason | Ticket | Approved by "
                          "| Expires |")
    assert waivers[2:] == [
        "| waivers.yaml:12 | required-labels | active | 1 | vendor sidecar pinned by the "
        "operator | SEC-42 | Sam Security &lt;sam&#64;example.com&gt; | 2027-01-31 |",
        "| waivers.yaml:20 | image-digest | ⚠️ expired | 2 | legacy image | CHG-9 "
        "| jane.doe&#64;example.com | 2026-11-30 |",
        "| waivers.yaml:28 | resource-limits | 💤 stale | 0 | legacy image | CHG-9 "
        "| jane.doe&#64;example.com | 2099-12-31 |",
    ]
    (overrides,) = tables(section(governance_markdown, "#### 🚨 Emergency overrides (1)"))
    assert overrides[0] == ("| Ticket | Reason | Author | Commit | Approved by | Approval commit "
                            "| Let through |")
    assert overrides[2:] == [
        f"| INC-1234 | payment outage | Ann Oncall &lt;ann&#64;example.com&gt; "
        f"| `{OVERRIDE.commit}` | — | — | 1 finding of no-latest-tag, 1 finding of "
        "release-window |"
    ]
    (evidence,) = tables(section(governance_markdown, "#### Change evidence (2)"))
    assert evidence[2:] == [
        "| Change tickets | prod | CHG123, CHG124 | change-ticket |",
        "| Change tickets | staging | — | change-ticket |",
    ]


def test_audit_inputs_are_folded(governance_markdown: str) -> None:
    start = governance_markdown.index(
        "<details><summary>Fingerprint inputs: 2 files (policies, config, waivers)</summary>")
    block = governance_markdown[start:governance_markdown.index("</details>", start)]
    assert f"| .gate.yaml | `{'1' * 64}` |" in block
    assert f"| builtin:no-latest-tag.yaml | `{'2' * 64}` |" in block


def test_audit_without_policies_still_shows_its_record() -> None:
    text = render(make_report([], audit=make_audit(inputs=[("gone.yaml", "unreadable")])),
                  RenderOptions())
    assert "### 📋 Audit" in text
    assert "#### Controls" not in text
    assert "| gone.yaml | unreadable |" in text  # not a digest: no code span


def hostile_audit_report() -> Report:
    results = [r for number, value in enumerate(HOSTILE) for r in hostile_results(number, value)]
    overrides = [make_override(value, value, author=value, commit=f"{n:040x}")
                 for n, value in enumerate(HOSTILE)]
    results += [make_change_result(LIMITS_POLICY, value, status=OVERRIDDEN, message=value,
                                   override=override, file=value, line=3)
                for value, override in zip(HOSTILE, overrides, strict=True)]
    return make_report(
        results,
        change=make_change(environments=HOSTILE, notes=HOSTILE, base_ref=HOSTILE[0],
                           head_ref=HOSTILE[2]),
        audit=make_audit(
            time_source=HOSTILE[5], evaluated_at=HOSTILE[6], fingerprint=HOSTILE[3],
            inputs=[(value, value) for value in HOSTILE],
            waivers=[make_waiver_use(value, source=value, reason=value, ticket=value,
                                     approved_by=value, expires=value) for value in HOSTILE],
            overrides=overrides,
            evidence=[make_evidence(value, value, value, (value, value)) for value in HOSTILE],
        ),
        tool_version=HOSTILE[4],
    )


def test_hostile_audit_values_are_escaped() -> None:
    text = render(hostile_audit_report(), RenderOptions())
    assert_tables_intact(text)
    assert "<script" not in text
    assert re.search(r"@\w", text) is None
    assert "http://" not in text and "www.evil" not in text
    assert set(re.findall(r"</?[a-z]+", text)) <= {"<details", "</details", "<summary",
                                                  "</summary"}
    assert text.count("<details>") == text.count("</details>")
    # code spans hold only hex digests the renderer checked
    assert all(re.fullmatch(r"[0-9a-f]+", span) for span in re.findall(r"`([^`]*)`",
                                                                       text.replace("\\`", "")))
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert all(re.fullmatch(r"#{2,4} [^|]*", line) for line in headings)
    assert not any("line two" in heading for heading in headings)
    callout = [line for line in text.splitlines() if line.startswith(">")]
    assert callout[0].startswith("> **🚨 CAUTION: emergency override, ") and len(callout) == (
        1 + 5 + 1)
    data_cells = [cell for table in tables(text) for row in table[2:] for cell in cells(row)]
    for cell in (cell.replace("&#64;", "@") for cell in data_cells):
        unquoted = re.sub(r"`[0-9a-f]+`", "", cell)
        for match in re.finditer(r"[`*_\[\]()!#|~]", unquoted):
            before = unquoted[: match.start()]
            backslashes = len(before) - len(before.rstrip("\\"))
            assert backslashes % 2 == 1, f"unescaped {match[0]!r} in {cell!r}"


def test_huge_report_keeps_the_callout_and_the_audit_record() -> None:
    big = huge_report()
    override = make_override()
    results = [*big.results, *(
        make_result(ROOT_POLICY, status=OVERRIDDEN, name=f"hot-{n:05d}", override=override,
                    message=f"finding {n}", file=f"hot/{n:05d}.yaml")
        for n in range(3_000))]
    report = make_report(results, audit=make_audit(overrides=[override], inputs=[
        (f"policies/p{n:04d}.yaml", f"{n:064x}") for n in range(2_000)]))
    text = render_comment(report, RenderOptions())
    assert len(text.encode("utf-16-le")) // 2 < MAX_CHARS
    assert "> **🚨 CAUTION: emergency override, 3,000 blocking findings let through.**" in text
    assert "**🚨 3,000 overridden**" in text
    assert "### 📋 Audit" in text and f"| sha256 fingerprint | `{'f' * 64}` |" in text
    assert "… 2,000 inputs not shown; see the whole Markdown, HTML or JSON report." in text
    # overridden findings are the last rows to go
    shown = len(tables(section(text, "### 🚨 Emergency overrides"))[0]) - 2
    assert shown > 0
    assert_tables_intact(text)


def test_governance_output_is_deterministic(governance_markdown: str) -> None:
    original = governance_report()
    results = list(original.results)
    random.Random(9).shuffle(results)
    shuffled = make_report(results, change=original.change, audit=original.audit)
    assert render(shuffled, RenderOptions(verbose=True)) == governance_markdown
    # the only instant shown is the evaluation time the report carries
    assert "2026-12-24T09:00:00Z" in governance_markdown
    assert set(re.findall(r"\d\d:\d\d:\d\d", governance_markdown)) == {"09:00:00", "00:00:00"}


# -- what gate did not judge ---------------------------------------------------------

NOT_JUDGED = "### ⏭️ Not judged"


def test_not_judged_section_lists_every_item_in_order() -> None:
    text = render(unjudged_report(), RenderOptions())
    lines = text.splitlines()
    assert lines[1] == "## ✅ gate: passed"  # not judged does not fail the gate...
    assert lines[3].endswith(" · **⏭️ 4 not judged**")  # ...but the head says so
    part = section(text, f"{NOT_JUDGED} (4)")
    assert "the verdict says nothing about them" in part
    [table] = tables(part)
    assert table[:2] == ["| What | Where | Why |", "|---|---|---|"]
    assert table[2:] == [
        "| Kustomize overlay | apps/web | not rendered: Kustomize rendering is off "
        "\\(--kustomize off\\) |",
        "| Kustomize component | components/extra | not referenced: no overlay uses it; its 3 "
        "file\\(s\\) are not judged on their own |",
        "| Helm chart | helm-chart | not rendered: Helm charts are rendered only with --helm; "
        "its values files are still checked |",
        "| Helm chart | helm-chart | not rendered: no helm binary on PATH \\(set GATE\\_HELM\\) |",
    ]
    assert_tables_intact(text)


def test_not_judged_follows_the_findings_unfolded() -> None:
    text = render(unjudged_report(governance_report()), RenderOptions())
    order = [text.index(heading) for heading in (
        "### ❌ Blocking findings", "### ⚠️ Warnings", NOT_JUDGED, "### Waived",
        "### Policies")]
    assert order == sorted(order)
    before = text[: text.index(NOT_JUDGED)]
    assert before.count("<details>") == before.count("</details>")  # not folded away


def test_no_not_judged_section_or_count_without_items(markdown: str) -> None:
    assert "Not judged" not in markdown and "not judged" not in markdown


def test_not_judged_survives_shortening_longer_than_findings() -> None:
    assert _DROP_ORDER.index("unjudged") > max(
        _DROP_ORDER.index(key) for key in ("blocking", "warnings", "errors", "waived"))
    items = [make_unjudged(f"charts/c{n:03d}", reason="Helm charts are rendered only with "
                           "--helm; its values files are still checked") for n in range(200)]
    text = render_comment(with_unjudged(huge_report(), items), RenderOptions())
    assert len(text) < MAX_CHARS
    assert "**⏭️ 200 not judged**" in text
    assert "blocking findings not shown" in text  # the findings were cut...
    [table] = tables(section(text, f"{NOT_JUDGED} (200)"))
    assert len(table) - 2 == 200  # ...but not what nobody looked at
    assert "unjudged items not shown" not in text
    assert_tables_intact(text)


def test_hostile_values_in_not_judged_rows(hostile_markdown: str) -> None:
    part = section(hostile_markdown, f"{NOT_JUDGED} ({len(HOSTILE)})")
    [table] = tables(part)
    assert len(table) - 2 == len(HOSTILE)
    assert all(len(cells(row)) == 3 for row in table)
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in part
    assert "line one line two line three four" in part
    assert "&#64;org/team" in part


def test_not_judged_output_is_deterministic() -> None:
    first = render(unjudged_report(), RenderOptions())
    for seed in range(5):
        items = [*UNJUDGED, HELM_NOT_ASKED]
        random.Random(seed).shuffle(items)
        assert render(with_unjudged(unjudged_report(), items), RenderOptions()) == first


# -- portable Markdown: no GitHub-only syntax, no emoji as the only mark -------------------

# What a renderer without an emoji font shows as an empty box (or nothing): pictographs,
# dingbats, arrows and symbols, and the joiners and variation selectors that style them.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2190-\u21ff\u2300-\u23ff\u2600-\u27bf"
                   "\u2b00-\u2bff\ufe0e\ufe0f\u200d]")


def portable_documents() -> dict[str, str]:
    """Reports showing every state: diff findings new and existing, overrides, input
    errors, waivers in force, expired and stale, what was not judged, a shortened one."""
    diff = make_report(
        [make_result(ROOT_POLICY, status=FAIL, message="new one", new=True),
         make_result(ROOT_POLICY, status=FAIL, message="old one", name="api", new=False),
         make_result(PROBE_POLICY, status=WARN, message="old warning", new=False),
         make_result(ROOT_POLICY, status=PASS, name="db", new=False)],
        change=make_change())
    return {
        "sample": render(sample_report(), RenderOptions()),
        "governance": render(governance_report(), RenderOptions()),
        "unjudged": render(unjudged_report(sample_report()), RenderOptions()),
        "diff": render(diff, RenderOptions()),
        "passing": render(make_report([make_result(ROOT_POLICY, status=PASS)]), RenderOptions()),
        "huge": render_comment(huge_report(), RenderOptions()),
    }


def test_no_github_only_syntax() -> None:
    for name, text in portable_documents().items():
        # GitHub's alerts (> [!NOTE], > [!CAUTION]...) read as literal text elsewhere.
        assert not re.search(r"^>\s*\[!", text, re.M), name
        # <details> folds only what may as well be shown unfolded.
        folded = re.findall(r"<details><summary>(.*?)</summary>", text)
        assert all(re.fullmatch(r"(✅ [\d,]+ passed checks?|[\d,]+ skipped documents? \(not "
                                r"Kubernetes resources\)|Fingerprint inputs: .*)", summary)
                   for summary in folded), (name, folded)
        assert set(re.findall(r"</?[a-z]+", text)) <= {"<details", "</details", "<summary",
                                                      "</summary"}, name


def test_no_emoji_is_the_only_mark_of_a_state() -> None:
    for name, text in portable_documents().items():
        for line in text.splitlines():
            # Each table cell, and each item of the counts line, says what it says in words.
            for part in re.split(r"(?<!\\)\||\s·\s", line):
                if EMOJI.search(part):
                    assert re.search(r"[A-Za-z]", EMOJI.sub("", part)), (name, part, line)


def test_states_read_the_same_without_an_emoji_font() -> None:
    documents = {name: EMOJI.sub("", text) for name, text in portable_documents().items()}
    assert documents["sample"].splitlines()[1] == "##  gate: failed"
    assert documents["passing"].splitlines()[1] == "##  gate: passed"
    counts = documents["governance"].splitlines()[3]
    for words in ("1 blocking", "1 warning", "3 passed", "2 overridden", "1 waived",
                  "0 input errors"):
        assert words in counts, counts
    assert "CAUTION: emergency override, 2 blocking findings let through." in (
        documents["governance"])
    assert "| **NEW** new one |" in documents["diff"]
    assert "| (existing) old one |" in documents["diff"]
    assert "| (existing) old warning |" in documents["diff"]
    assert "4 not judged" in documents["unjudged"].splitlines()[3]
    assert re.search(r"\| +expired \|", documents["governance"])
    assert re.search(r"\| +stale \|", documents["governance"])
    assert "Shortened to fit" in documents["huge"]
