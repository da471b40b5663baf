"""HTML report: one standalone page an auditor can file, mail and print.

What the Markdown report holds, whole (never shortened: every row, every value), in the
frame of gate/reports/html_page.py: no script, no external stylesheet, font, image or
link target, a Content-Security-Policy that allows only the inline style, a print style
sheet, and every state in words (``failed``, ``blocking``, ``new``, ``overridden``,
``not judged``, ``not signed``...), so the page reads the same without emoji fonts and in
black and white.

Layout, top to bottom: the verdict and a table of counts, the emergency-override callout
(every override: who, why, which commit, who approved it, what it let through), a list
of contents, then the sections, each a table under a heading with its row count:
overridden findings, the change (compared refs, changed files, the per-commit change log
with signatures, trailers and tickets, rollbacks), input errors, blocking findings,
warnings, existing findings not listed, not judged, waived, environments, deleted
resources, policies with controls, passed checks, baselined findings, skipped documents,
and the audit (the record, one per-control table per framework, waivers, overrides,
change evidence, the fingerprint's inputs).

Modules: this one builds the head and the sections of findings and results;
gate/reports/html_audit.py the change, a release and the audit; gate/reports/html_section.py
the section and how each value is written: every value from a manifest, a commit, a
waiver or the config passes through its ``untrusted`` (controls made visible, on one
line, HTML-escaped, quotes included), and no untrusted value is ever put in an attribute
or a URL. What a section lists and counts comes from gate/reports/contents.py and
gate/reports/audit.py, shared with the Markdown report. The output is deterministic: the
only time shown is the evaluation time the report carries.
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
from gate.reports.html_audit import (
    audit_section,
    change_section,
    deleted_section,
    let_through,
    override_text,
    release_section,
)
from gate.reports.html_page import document, state, table, text
from gate.reports.html_section import (
    NONE,
    STATUS_TITLES,
    Section,
    listing,
    mono,
    place,
    quantity,
    resource,
    untrusted,
    where,
)
from gate.results import (
    BASELINED,
    FAIL,
    OVERRIDDEN,
    PASS,
    SKIP,
    WAIVED,
    WARN,
    OverrideRef,
    Report,
    Result,
    Unjudged,
)

# Extra style of the report (the frame has the rest): the callout, the verdict, the list
# of contents, and table headers repeated on every printed page.
STYLE = """
.verdict { font-size: 1.15em; margin: .2em 0 .8em; }
.callout { border: 2px solid #a40e26; padding: .4em 1em; margin: 1em 0; }
.callout p { margin: .4em 0; }
nav ol { columns: 2; margin: .3em 0; }
table.counts { width: auto; }
thead { display: table-header-group; }
th { overflow-wrap: normal; }
@media print {
  .callout { border-color: #000; }
  nav { display: none; }
}
"""


def render(report: Report, options: RenderOptions) -> str:
    """The whole report as one standalone HTML page."""
    del options  # no option changes the HTML output
    verdict = "failed" if report.verdict == "fail" else "passed"
    sections = [section for section in _sections(report) if section.shown]
    body = [
        f'<p class="verdict">Verdict: {state(verdict)}</p>\n',
        _counts(report),
        f'<p class="muted">{_context(report)}</p>\n',
        _override_callout(report),
        _contents(sections),
        *(section.html() for section in sections),
        f'<p class="muted">Written by gate {untrusted(report.tool_version)}. This report is '
        "complete: nothing in it is shortened.</p>\n",
    ]
    return document(f"gate report: {verdict}", "".join(body), STYLE)


# -- sections --------------------------------------------------------------------------


def _contents(sections: Sequence[Section]) -> str:
    items = "".join(f'<li><a href="#{s.id}">{text(s.title)}</a></li>' for s in sections
                    if s.level == 2)
    return f'<nav aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>\n'


def _sections(report: Report) -> list[Section]:
    return [
        _overridden_section(report),
        change_section(report),
        release_section(report.release),
        _errors_section(report.errors),
        _findings_section(findings(report, FAIL), "blocking", "Blocking findings"),
        _findings_section(findings(report, WARN), "warnings", "Warnings"),
        _existing_section(report),
        _unjudged_section(report.unjudged),
        _waived_section(in_order(report, WAIVED)),
        _environments_section(report),
        deleted_section(report),
        _policies_section(report),
        _results_section(in_order(report, PASS), "passed", "Passed checks"),
        _baselined_section(in_order(report, BASELINED)),
        _results_section(in_order(report, SKIP), "skipped", "Skipped checks",
                         "Policies that applied but found nothing to check."),
        _notes_section(report.notes),
        audit_section(report),
    ]


# -- head ------------------------------------------------------------------------------


def _counts(report: Report) -> str:
    rows = [
        (state("blocking"), report.count(FAIL)),
        (state("warning"), report.count(WARN)),
        (state("passed"), report.count(PASS)),
        (state("overridden"), report.count(OVERRIDDEN)),
        (state("waived"), report.count(WAIVED)),
        (state("baselined"), report.count(BASELINED)),
        (state("skipped"), report.count(SKIP)),
        (state("input error"), len(report.errors)),
        (state("not judged"), len(report.unjudged)),
    ]
    if report.change is not None:
        rows.append((state("new"), sum(1 for r in report.results if r.new)))
    return table(("State", "Count"), ((label, f"{count:,}") for label, count in rows),
                 css_class="counts")


def _context(report: Report) -> str:
    parts = [
        quantity(report.resource_count, "resource"),
        quantity(len(report.policies), "policy", "policies"),
        quantity(len(report.notes), "skipped document"),
        f"fail on: {untrusted(report.fail_on)}",
        f"gate {untrusted(report.tool_version)}",
    ]
    return " · ".join(parts)


def _override_callout(report: Report) -> str:
    """Every override that let blocking findings through: nobody may miss one."""
    count = report.count(OVERRIDDEN)
    if not count:
        return ""
    items = "".join(f"<li>{override_text(use.override)}; let through "
                    f"{let_through(use)}</li>" for use in overrides(report))
    return ('<section class="callout" id="caution" role="alert">\n'
            f"<p><strong>CAUTION: emergency override, {quantity(count, 'blocking finding')} "
            f"let through.</strong> {'It' if count == 1 else 'They'} would have failed the "
            f"gate.</p>\n<ul>{items}</ul>\n</section>\n")


# -- findings --------------------------------------------------------------------------


def _findings_section(ordered: Sequence[Result], id: str, title: str) -> Section:
    rows = [[untrusted(r.policy.id), untrusted(r.policy.severity), resource(r), where(r),
             _marked_message(r)] for r in ordered]
    return Section(id, title, table(("Policy", "Severity", "Resource", "Location",
                                      "Message"), rows), count=len(rows))


def _marked_message(result: Result) -> str:
    """The message, after ``new`` or ``existing`` in ``gate diff``: in words."""
    marker = ""
    if result.new is not None and result.status != PASS:
        marker = state("new" if result.new else "existing") + " "
    return marker + untrusted(finding_message(result))


def _overridden_section(report: Report) -> Section:
    rows = [[untrusted(r.policy.id), untrusted(r.policy.severity), resource(r), where(r),
             _marked_message(r), _override_cell(r.override)]
            for r in in_order(report, OVERRIDDEN)]
    return Section(
        "overridden", "Emergency overrides: findings let through",
        table(("Policy", "Severity", "Resource", "Location", "Message", "Override"), rows),
        intro="These blocking findings would have failed the gate; an emergency override "
              "(a commit trailer) let them through.",
        count=len(rows))


def _override_cell(override: OverrideRef | None) -> str:
    if override is None:
        return NONE
    cell = (f"{untrusted(override.ticket)} by {untrusted(override.author)} "
            f"({mono(override.commit)})")
    if override.approved_by:
        cell += f"; approved by {untrusted(override.approved_by)}"
    return cell


def _errors_section(errors: Sequence[InputError]) -> Section:
    rows = [[place(e.file, e.line), state("input error") + " " + untrusted(e.message)]
            for e in errors]
    return Section("errors", "Input errors", table(("Location", "Message"), rows),
                   intro="These inputs could not be read, so the gate fails closed.",
                   count=len(rows))


def _existing_section(report: Report) -> Section:
    existing = existing_not_listed(report)
    total = sum(existing.values())
    rows = [[untrusted(policy), f"{count:,}"] for policy, count in existing.items()]
    return Section(
        "existing", "Existing findings not listed",
        table(("Policy", "Existing findings"), rows),
        intro=f"{quantity(total, 'finding')} the change did not add, and that do not block, "
              "counted per policy; gate diff --show-existing lists them.",
        count=len(rows))


def _unjudged_section(unjudged: Sequence[Unjudged]) -> Section:
    rows = [[untrusted(item.what), place(item.file, None),
             state("not judged") + " " + untrusted(f"{item.category}: {item.reason}")]
            for item in unjudged]
    return Section("unjudged", "Not judged", table(("What", "Where", "Why"), rows),
                   intro="gate saw these but did not judge them, so the verdict says "
                          "nothing about them.",
                   count=len(rows))


def _waived_section(results: Sequence[Result]) -> Section:
    rows = []
    for result in results:
        waiver = result.waiver
        rows.append([
            untrusted(result.policy.id), resource(result), where(result),
            untrusted(waiver.reason if waiver else "no reason given"),
            untrusted(waiver.ticket or NONE) if waiver else NONE,
            untrusted(waiver.approved_by or NONE) if waiver else NONE,
            untrusted(waiver.expires or NONE) if waiver else NONE,
            place(waiver.source, None) if waiver else NONE,
        ])
    return Section("waived", "Waived", table(
        ("Policy", "Resource", "Location", "Waiver reason", "Ticket", "Approved by",
         "Expires", "Waiver"), rows), count=len(rows))


def _baselined_section(results: Sequence[Result]) -> Section:
    rows = [[untrusted(r.policy.id), resource(r), where(r), untrusted(finding_message(r)),
             place(r.waiver.source, None) if r.waiver else NONE,
             untrusted(r.waiver.expires or NONE) if r.waiver else NONE]
            for r in results]
    return Section("baselined", "Baselined findings", table(
        ("Policy", "Resource", "Location", "Message", "Baseline entry", "Expires"), rows),
        intro="Findings the baseline records: they do not block until their entry expires.",
        count=len(rows))


def _results_section(results: Sequence[Result], id: str, title: str,
                     intro: str = "") -> Section:
    rows = [[untrusted(r.policy.id), resource(r), where(r)] for r in results]
    return Section(id, title, table(("Policy", "Resource", "Location"), rows),
                   intro=intro, count=len(rows))


def _notes_section(notes: Sequence[Note]) -> Section:
    rows = [[place(note.file, note.line), untrusted(note.message)] for note in notes]
    return Section("notes", "Skipped documents", table(("Location", "Reason"), rows),
                   intro="Documents that are not Kubernetes resources.", count=len(rows))


# -- environments, policies ------------------------------------------------------------


def _environments_section(report: Report) -> Section:
    statuses = environment_statuses(report)
    rows = [[untrusted(name), *(f"{row[status]:,}" for status in statuses)]
            for name, row in environment_counts(report, statuses).items()]
    return Section("environments", "Environments", table(
        ("Environment", *(STATUS_TITLES[status] for status in statuses)), rows),
        count=len(rows))


def _policies_section(report: Report) -> Section:
    counts = policy_counts(report)
    statuses = counted_statuses(report)
    rows = [[untrusted(policy.id), untrusted(policy.title), untrusted(policy.severity),
             untrusted(policy.enforcement), listing(policy.controls),
             *(f"{counts.get((policy.id, status), 0):,}" for status in statuses)]
            for policy in report.all_policies()]
    return Section("policies", "Policies", table(
        ("Policy", "Title", "Severity", "Enforcement", "Controls",
         *(STATUS_TITLES[status] for status in statuses)), rows), count=len(rows))
