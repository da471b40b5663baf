"""The Markdown report: verdict, tables, hostile values, size limit and determinism."""
from __future__ import annotations

import random
import re

import pytest

from gate.reports import RenderOptions
from gate.reports.markdown import MARKER, MAX_CHARS, escape, render
from gate.results import FAIL, PASS, SKIP, WAIVED, WARN, Report, Result
from tests.report_factory import make_error, make_note, make_policy, make_report, make_result

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
    ends = [text.find(mark, start + 1) for mark in ("\n### ", "\n<details>")]
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

    def result(status: str, finding_line: int | None, **extra: str) -> Result:
        return make_result(policy, status=status, kind=value, name=value, namespace=value,
                           file=value, line=number + 1, finding_line=finding_line, **extra)

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
    assert rows == len(HOSTILE) * 7  # errors, fail, warn, waived, policies, passed, notes


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
    assert escape("a" * 1000, limit=10) == "a" * 9 + "…"
    assert escape("nul\x00here") == "nulhere"


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
    text = render(huge_report(), RenderOptions())
    assert len(text) < MAX_CHARS <= 65_000
    assert len(text.encode("utf-16-le")) // 2 < MAX_CHARS
    # the verdict and counts survive
    assert "## ❌ gate: failed" in text
    assert "**❌ 5,000 blocking**" in text
    assert "⚠️ 2,000 warnings" in text
    assert "✅ 2,000 passed" in text
    # least important content goes first: passed checks and warnings entirely
    assert "… 2,000 passed checks not shown; see the JSON or JUnit report." in text
    assert "… 2,000 warnings not shown; see the JSON or JUnit report." in text
    shown = len(tables(section(text, "### ❌ Blocking findings"))[0]) - 2
    assert 0 < shown < 5_000
    assert f"… {5_000 - shown:,} more blocking findings not shown; see the JSON or JUnit report." \
        in text
    assert f"Shortened to fit 65,000 characters: {5_000 - shown:,} blocking findings" in text
    # the most severe findings are the ones kept
    assert "| K8S003 | critical |" in text
    assert_tables_intact(text)
    assert text.count("<details>") == text.count("</details>")


def test_truncation_keeps_everything_that_fits() -> None:
    text = render(huge_report(failures=100), RenderOptions())
    assert "blocking findings not shown" not in text  # 100 rows fit once passes are gone
    assert len(tables(section(text, "### ❌ Blocking findings"))[0]) - 2 == 100
    assert "… 2,000 passed checks not shown" in text


def test_huge_values_and_many_errors_stay_under_the_limit() -> None:
    value = "@x|`<" * 20_000
    report = make_report(
        [make_result(ROOT_POLICY, status=FAIL, message=value, name=f"n{n}") for n in range(300)],
        errors=[make_error(f"bad{n}.yaml", n, value) for n in range(300)],
    )
    text = render(report, RenderOptions())
    assert len(text) < MAX_CHARS
    assert "input errors" in text
    assert "**❌ 300 blocking**" in text
    assert_tables_intact(text)


def test_small_report_is_not_truncated(markdown: str) -> None:
    assert "not shown" not in markdown
    assert "Shortened" not in markdown


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
