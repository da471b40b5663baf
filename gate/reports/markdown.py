"""Markdown report, for compliance officers, pull-request comments and step summaries.

Two forms of one renderer: ``render`` (format ``markdown``) is the whole report, every
row and every value in full, for a file to keep; the format ``markdown-comment``
(gate/reports/markdown_comment.py) is the same report shortened to fit a pull-request
comment or a job summary. A written file is never shortened: only text meant for a
comment is.

Modules: this one builds the head and the sections of findings and results;
gate/reports/markdown_audit.py the change, a release and the audit;
gate/reports/markdown_section.py the tables and the document; gate/reports/markdown_text.py
makes each value inert. What a section lists and counts comes from gate/reports/contents.py
and gate/reports/audit.py, shared with the HTML report.

Layout (GitHub-flavoured Markdown):

* ``<!-- gate-report:v1 -->`` on the first line, so a bot can find and update its
  comment, then a heading, the verdict line with the counts, and a context line.
* When an emergency override let blocking findings through, a callout right under the
  counts, a plain block quote starting ``**🚨 CAUTION: emergency override**`` (who,
  why, which commit, how many findings of which policies), and the overridden findings
  as the first table: nobody may miss one, and truncation never removes the callout.
* The change ``gate diff`` judged, input errors (they fail the gate closed),
  blocking findings, warnings, what gate saw and did not judge ("Not judged": what,
  where, why; also counted in the head), waived results (with the waiver's reason, ticket,
  approver, expiry and source), environments, deleted resources, and a per-policy
  summary with control ids, each as a table. A change policy's finding names
  ``change to <environment>`` as its subject, and a location only when it has one.
  In ``gate diff`` without ``--show-existing``, the existing findings it does not list,
  counted per policy ("Existing findings not listed").
* Passed checks, findings a baseline records (``gate check --baseline``) and skipped
  documents folded in ``<details>`` blocks; the audit says which baseline was used.
* The audit section (when the report has one), for a compliance officer to file (see
  gate/reports/markdown_audit.py).

Portable Markdown: CommonMark and GFM tables, which GitHub, GitLab and other
CommonMark renderers show alike; no GitHub-only syntax (no ``> [!CAUTION]`` alert,
which elsewhere reads as a literal ``[!CAUTION]``). ``<details>`` folds only what may be
shown unfolded (passed checks, skipped documents, the fingerprint's inputs), so a
renderer without it loses nothing. Every state is written in words (``failed``,
``blocking``, ``**NEW**``, ``existing``, ``overridden``, ``not judged``, ``expired``...),
an emoji at most beside them: without an emoji font it is an empty box, and must not be
the only mark of anything.

Every value that comes from a manifest, a message or a waiver is hostile: it is put
on one line, capped in length in the comment form, and escaped (see
gate/reports/markdown_text.py) so it can never become markup. The output is
deterministic: the only time shown is the evaluation time the report carries.
"""
from __future__ import annotations

from collections.abc import Sequence

from gate.loading.resources import InputError, Note
from gate.reports import RenderOptions
from gate.reports.audit import finding_message, overrides
from gate.reports.contents import (
    counted_statuses,
    environment_counts,
    environment_statuses,
    existing_not_listed,
    findings,
    in_order,
    policy_counts,
)
from gate.reports.markdown_audit import (
    audit_sections,
    change_section,
    deleted_section,
    let_through,
    override_cell,
    override_text,
    release_section,
    rollbacks_section,
)
from gate.reports.markdown_section import STATUS_COLUMNS, Section, document, with_count
from gate.reports.markdown_text import escape, place, plural, resource, table_row
from gate.results import (
    BASELINED,
    FAIL,
    OVERRIDDEN,
    PASS,
    SKIP,
    WAIVED,
    WARN,
    Report,
    Result,
    Unjudged,
)

MARKER = "<!-- gate-report:v1 -->"


def render(report: Report, options: RenderOptions) -> str:
    """The whole report as GitHub-flavoured Markdown: every row, every value in full."""
    del options  # no option changes the Markdown output
    sections = report_sections(report)
    return document(report_head(report), sections, {s.key: len(s.rows) for s in sections})


# -- head --------------------------------------------------------------------------


def report_head(report: Report) -> list[str]:
    verdict = "❌ gate: failed" if report.verdict == "fail" else "✅ gate: passed"
    return [MARKER, f"## {verdict}", "", _counts(report), "", *_override_callout(report),
            _context(report), ""]


CALLOUT_OVERRIDES = 5  # overrides named in the callout; the audit section lists them all


def _override_callout(report: Report) -> list[str]:
    """A block quote that starts with CAUTION when an emergency override let findings
    through: plain Markdown, which every renderer shows (GitHub's ``> [!CAUTION]`` alert
    is a literal ``[!CAUTION]`` elsewhere).

    It is part of the head, so truncation never removes it; its size is bounded (at
    most ``CALLOUT_OVERRIDES`` overrides, each value capped by ``escape``).
    """
    count = report.count(OVERRIDDEN)
    if not count:
        return []
    lines = [
        f"> **🚨 CAUTION: emergency override, {count:,} blocking "
        f"{plural(count, 'finding')} let through.** {plural(count, 'It', 'They')} would "
        "have failed the gate.",
    ]
    uses = overrides(report)
    for use in uses[:CALLOUT_OVERRIDES]:
        lines.append(f"> - {override_text(use.override)}; let through "
                     f"{let_through(use.per_policy())}")
    if len(uses) > CALLOUT_OVERRIDES:
        lines.append(f"> - … and {len(uses) - CALLOUT_OVERRIDES:,} more overrides "
                     "(see the audit section)")
    return [*lines, ""]


def _counts(report: Report) -> str:
    errors = len(report.errors)
    counts = [
        f"**❌ {report.count(FAIL):,} blocking**",
        f"⚠️ {report.count(WARN):,} {plural(report.count(WARN), 'warning')}",
        f"✅ {report.count(PASS):,} passed",
        *([f"**🚨 {report.count(OVERRIDDEN):,} overridden**"] if report.count(OVERRIDDEN) else []),
        f"{report.count(WAIVED):,} waived",
        *([f"{report.count(BASELINED):,} baselined"] if report.count(BASELINED) else []),
        f"{report.count(SKIP):,} skipped",
        f"{'**⛔ ' if errors else ''}{errors:,} input {plural(errors, 'error')}"
        f"{'**' if errors else ''}",
        *([f"**{UNJUDGED_MARK} {len(report.unjudged):,} not judged**"] if report.unjudged
          else []),
    ]
    return " · ".join(counts)


def _context(report: Report) -> str:
    parts = [
        f"{report.resource_count:,} {plural(report.resource_count, 'resource')}",
        f"{len(report.policies):,} {plural(len(report.policies), 'policy', 'policies')}",
        f"fail-on: {escape(report.fail_on)}",
        f"gate {escape(report.tool_version)}",
    ]
    if report.notes:
        parts.insert(2, f"{len(report.notes):,} skipped {plural(len(report.notes), 'document')}")
    return " · ".join(parts)


# -- sections ----------------------------------------------------------------------


def report_sections(report: Report) -> list[Section]:
    candidates = [
        _overridden_section(report),
        rollbacks_section(report),
        change_section(report),
        release_section(report.release),
        _errors_section(report.errors),
        _findings_section(findings(report, FAIL), "blocking", "### ❌ Blocking findings"),
        _findings_section(findings(report, WARN), "warnings", "### ⚠️ Warnings"),
        _existing_section(report),
        _unjudged_section(report.unjudged),
        _waived_section(in_order(report, WAIVED)),
        _environments_section(report),
        deleted_section(report),
        _policies_section(report),
        _passed_section(in_order(report, PASS)),
        _baselined_section(in_order(report, BASELINED)),
        _notes_section(report.notes),
        *audit_sections(report),
    ]
    return [section for section in candidates if section.rows or section.keep]


def _overridden_section(report: Report) -> Section:
    """Emergency overrides come first: nobody reading the report may miss one."""
    rows = tuple(
        table_row([escape(r.policy.id), escape(r.policy.severity), resource(r),
                   place(r.location_file, r.location_line), escape(finding_message(r)),
                   override_cell(r.override)])
        for r in in_order(report, OVERRIDDEN)
    )
    return with_count(Section(
        key="overridden", title="### 🚨 Emergency overrides: findings let through",
        intro="These blocking findings would have failed the gate; an emergency override "
              "(a commit trailer) let them through.",
        columns=("Policy", "Severity", "Resource", "Location", "Message", "Override"),
        rows=rows, noun="overridden findings",
    ))


def _errors_section(errors: Sequence[InputError]) -> Section:
    rows = tuple(table_row([place(e.file, e.line), escape(e.message)]) for e in errors)
    return with_count(Section(
        key="errors",
        title="### ⛔ Input errors",
        intro="These inputs could not be read, so the gate fails closed.",
        columns=("Location", "Message"),
        rows=rows,
        noun="input errors",
    ))


UNJUDGED_MARK = "⏭️"


def _unjudged_section(unjudged: Sequence[Unjudged]) -> Section:
    """What gate saw and did not judge, and why: never folded, since a passing verdict
    says nothing about it."""
    rows = tuple(
        table_row([escape(item.what), place(item.file, None),
                   escape(f"{item.category}: {item.reason}")])
        for item in unjudged
    )
    return with_count(Section(
        key="unjudged", title=f"### {UNJUDGED_MARK} Not judged",
        intro="gate saw these but did not judge them, so the verdict says nothing about "
              "them.",
        columns=("What", "Where", "Why"), rows=rows, noun="unjudged items",
    ))


def _findings_section(ordered: Sequence[Result], key: str, title: str) -> Section:
    return with_count(Section(
        key=key,
        title=title,
        columns=("Policy", "Severity", "Resource", "Location", "Message"),
        rows=tuple(_finding_row(result) for result in ordered),
        noun="blocking findings" if key == "blocking" else "warnings",
    ))


# How a gate diff finding says whether the change adds it: words, never an emoji alone.
NEW_MARK = "**NEW**"
EXISTING_MARK = "(existing)"


def _finding_row(result: Result) -> str:
    message = finding_message(result)
    marker = ""
    if result.new is not None and result.status != PASS:
        marker = f"{NEW_MARK} " if result.new else f"{EXISTING_MARK} "
    return table_row([
        escape(result.policy.id),
        escape(result.policy.severity),
        resource(result),
        place(result.location_file, result.location_line),
        marker + escape(message),
    ])


def _waived_section(results: Sequence[Result]) -> Section:
    rows = tuple(
        table_row([
            escape(result.policy.id),
            resource(result),
            place(result.location_file, result.location_line),
            escape(result.waiver.reason if result.waiver else "no reason given"),
            escape(result.waiver.ticket or "—") if result.waiver else "—",
            escape(result.waiver.approved_by or "—") if result.waiver else "—",
            escape(result.waiver.expires or "—") if result.waiver else "—",
            place(result.waiver.source, None) if result.waiver else "—",
        ])
        for result in results
    )
    return with_count(Section(
        key="waived",
        title="### Waived",
        columns=("Policy", "Resource", "Location", "Waiver reason", "Ticket", "Approved by",
                 "Expires", "Waiver"),
        rows=rows,
        noun="waived results",
    ))


def _baselined_section(results: Sequence[Result]) -> Section:
    """Findings the baseline records: existing debt, folded (there may be hundreds)."""
    rows = tuple(
        table_row([escape(result.policy.id), resource(result),
                   place(result.location_file, result.location_line),
                   escape(finding_message(result)),
                   place(result.waiver.source, None) if result.waiver else "—",
                   escape(result.waiver.expires or "—") if result.waiver else "—"])
        for result in results
    )
    return Section(
        key="baselined",
        title=f"{len(rows):,} baselined {plural(len(rows), 'finding')} (recorded in the "
              "baseline: they do not block until their entry expires)",
        columns=("Policy", "Resource", "Location", "Message", "Baseline entry", "Expires"),
        rows=rows, noun="baselined findings", folded=True,
    )


def _existing_section(report: Report) -> Section:
    """gate diff: existing findings counted per policy, when they are not listed."""
    existing = existing_not_listed(report)
    rows = tuple(table_row([escape(policy), f"{count:,}"]) for policy, count in existing.items())
    total = sum(existing.values())
    return Section(
        key="existing", title=f"### Existing findings not listed ({total:,})",
        intro=f"{total:,} {plural(total, 'finding')} the change did not add, and that do "
              "not block, counted per policy; gate diff --show-existing lists them.",
        columns=("Policy", "Existing findings"), rows=rows,
        noun="policies with existing findings",
    )


def _environments_section(report: Report) -> Section:
    statuses = environment_statuses(report)
    rows = tuple(
        table_row([escape(name), *(f"{row[status]:,}" for status in statuses)])
        for name, row in environment_counts(report, statuses).items()
    )
    titles = {**STATUS_COLUMNS, FAIL: "❌ Blocking", WARN: "⚠️ Warnings", PASS: "✅ Passed"}
    return with_count(Section(
        key="environments", title="### Environments",
        columns=("Environment", *(titles[status] for status in statuses)), rows=rows,
        noun="environments",
    ))


def _policies_section(report: Report) -> Section:
    counts = policy_counts(report)
    statuses = counted_statuses(report)
    rows = tuple(
        table_row([
            escape(policy.id),
            escape(policy.title),
            escape(policy.severity),
            escape(policy.enforcement),
            ", ".join(escape(control) for control in policy.controls) or "—",
            *(f"{counts.get((policy.id, status), 0):,}" for status in statuses),
        ])
        for policy in report.all_policies()
    )
    return Section(
        key="policies",
        title="### Policies",
        columns=(
            "Policy", "Title", "Severity", "Enforcement", "Controls",
            *(STATUS_COLUMNS[status] for status in statuses),
        ),
        rows=rows,
        noun="policies",
    )


def _passed_section(results: Sequence[Result]) -> Section:
    rows = tuple(
        table_row([
            escape(result.policy.id),
            resource(result),
            place(result.location_file, result.location_line),
        ])
        for result in results
    )
    return Section(
        key="passed",
        title=f"✅ {len(rows):,} passed {plural(len(rows), 'check')}",
        columns=("Policy", "Resource", "Location"),
        rows=rows,
        noun="passed checks",
        folded=True,
    )


def _notes_section(notes: Sequence[Note]) -> Section:
    rows = tuple(table_row([place(note.file, note.line), escape(note.message)]) for note in notes)
    return Section(
        key="notes",
        title=f"{len(rows):,} skipped {plural(len(rows), 'document')} (not Kubernetes resources)",
        columns=("Location", "Reason"),
        rows=rows,
        noun="skipped documents",
        folded=True,
    )
