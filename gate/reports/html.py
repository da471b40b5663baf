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

Every value from a manifest, a commit, a waiver or the config passes through
:func:`_text`: control and bidirectional characters made visible (gate/reports/_escape.py),
on one line, then HTML-escaped, quotes included; no untrusted value is ever put in an
attribute or a URL. The output is deterministic: the only time shown is the evaluation
time the report carries.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gate.reports import RenderOptions
from gate.reports._escape import one_line
from gate.reports.audit import (
    SIGNATURE_WORDS,
    FrameworkGroup,
    OverrideUse,
    counted_statuses,
    environment_counts,
    finding_message,
    frameworks,
    identity,
    judged,
    location,
    overrides,
    policy_counts,
    signature_words,
    subject,
)
from gate.reports.html_page import document, state, table, text
from gate.resources import InputError, Note
from gate.results import (
    ACTIVE,
    BASELINED,
    EXPIRED,
    FAIL,
    OVERRIDDEN,
    PASS,
    SEVERITIES,
    SKIP,
    STALE,
    WAIVED,
    WARN,
    Audit,
    ChangeSummary,
    CommitRecord,
    OverrideRef,
    ReleaseEvidence,
    Report,
    Result,
    RollbackRecord,
    Unjudged,
    severity_rank,
)

NONE = "—"  # an empty cell, said so

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
        f'<p class="muted">Written by gate {_text(report.tool_version)}. This report is '
        "complete: nothing in it is shortened.</p>\n",
    ]
    return document(f"gate report: {verdict}", "".join(body), STYLE)


# -- sections --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Section:
    """A heading (``h2``, or ``h3`` inside the change and the audit) with an id, an
    optional introduction and its content (HTML)."""

    id: str  # a fixed word: never a value from the report
    title: str  # trusted text
    content: str = ""
    intro: str = ""  # HTML
    count: int | None = None  # rows, shown in the heading
    level: int = 2
    keep: bool = False  # shown even when empty

    @property
    def shown(self) -> bool:
        return self.keep or bool(self.count)

    def html(self) -> str:
        heading = self.title + (f" ({self.count:,})" if self.count is not None else "")
        intro = f"<p>{self.intro}</p>\n" if self.intro else ""
        return (f'<section id="{self.id}">\n<h{self.level}>{text(heading)}</h{self.level}>\n'
                f"{intro}{self.content}</section>\n")


def _contents(sections: Sequence[_Section]) -> str:
    items = "".join(f'<li><a href="#{s.id}">{text(s.title)}</a></li>' for s in sections
                    if s.level == 2)
    return f'<nav aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>\n'


def _sections(report: Report) -> list[_Section]:
    return [
        _overridden_section(report),
        _change_section(report),
        _release_section(report.release),
        _errors_section(report.errors),
        _findings_section(report.by_status(FAIL), "blocking", "Blocking findings"),
        _findings_section(report.by_status(WARN), "warnings", "Warnings"),
        _existing_section(report),
        _unjudged_section(report.unjudged),
        _waived_section(report.by_status(WAIVED)),
        _environments_section(report),
        _deleted_section(report),
        _policies_section(report),
        _results_section(report.by_status(PASS), "passed", "Passed checks"),
        _baselined_section(report.by_status(BASELINED)),
        _results_section(report.by_status(SKIP), "skipped", "Skipped checks",
                         "Policies that applied but found nothing to check."),
        _notes_section(report.notes),
        _audit_section(report),
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
        _count(report.resource_count, "resource"),
        _count(len(report.policies), "policy", "policies"),
        _count(len(report.notes), "skipped document"),
        f"fail on: {_text(report.fail_on)}",
        f"gate {_text(report.tool_version)}",
    ]
    return " · ".join(parts)


def _override_callout(report: Report) -> str:
    """Every override that let blocking findings through: nobody may miss one."""
    count = report.count(OVERRIDDEN)
    if not count:
        return ""
    items = "".join(f"<li>{_override_text(use.override)}; let through "
                    f"{_let_through(use)}</li>" for use in overrides(report))
    return ('<section class="callout" id="caution" role="alert">\n'
            f"<p><strong>CAUTION: emergency override, {_count(count, 'blocking finding')} "
            f"let through.</strong> {'It' if count == 1 else 'They'} would have failed the "
            f"gate.</p>\n<ul>{items}</ul>\n</section>\n")


def _override_text(override: OverrideRef) -> str:
    """``Gate-Override: INC-1 by who in commit sha: reason; approved by...``, escaped."""
    approval = (f"; approved by {_text(override.approved_by)} in commit "
                f"{_mono(override.approval_commit or NONE)}" if override.approved_by else
                "; no approval recorded")
    return (f"<strong>{_text(override.trailer)}: {_text(override.ticket)}</strong> by "
            f"{_text(override.author)} in commit {_mono(override.commit)}: "
            f"{_text(override.reason)}{approval}")


def _let_through(use: OverrideUse) -> str:
    per_policy = use.per_policy()
    if not per_policy:
        return "no findings of this report"
    return ", ".join(f"{_count(count, 'finding')} of {_text(policy)}"
                     for policy, count in per_policy)


# -- findings --------------------------------------------------------------------------


def _findings_section(results: Sequence[Result], id: str, title: str) -> _Section:
    ordered = sorted(results, key=lambda r: (r.resource.environment, _rank(r.policy.severity),
                                             r.sort_key()))
    rows = [[_text(r.policy.id), _text(r.policy.severity), _subject(r), _where(r),
             _marked_message(r)] for r in ordered]
    return _Section(id, title, table(("Policy", "Severity", "Resource", "Location",
                                       "Message"), rows), count=len(rows))


def _marked_message(result: Result) -> str:
    """The message, after ``new`` or ``existing`` in ``gate diff``: in words."""
    marker = ""
    if result.new is not None and result.status != PASS:
        marker = state("new" if result.new else "existing") + " "
    return marker + _text(finding_message(result))


def _overridden_section(report: Report) -> _Section:
    results = sorted(report.by_status(OVERRIDDEN), key=Result.sort_key)
    rows = [[_text(r.policy.id), _text(r.policy.severity), _subject(r), _where(r),
             _marked_message(r), _override_cell(r.override)] for r in results]
    return _Section(
        "overridden", "Emergency overrides: findings let through",
        table(("Policy", "Severity", "Resource", "Location", "Message", "Override"), rows),
        intro="These blocking findings would have failed the gate; an emergency override "
              "(a commit trailer) let them through.",
        count=len(rows))


def _override_cell(override: OverrideRef | None) -> str:
    if override is None:
        return NONE
    cell = f"{_text(override.ticket)} by {_text(override.author)} ({_mono(override.commit)})"
    if override.approved_by:
        cell += f"; approved by {_text(override.approved_by)}"
    return cell


def _errors_section(errors: Sequence[InputError]) -> _Section:
    rows = [[_place(e.file, e.line), state("input error") + " " + _text(e.message)]
            for e in errors]
    return _Section("errors", "Input errors", table(("Location", "Message"), rows),
                    intro="These inputs could not be read, so the gate fails closed.",
                    count=len(rows))


def _existing_section(report: Report) -> _Section:
    change = report.change
    existing = change.existing if change is not None and not change.existing_listed else {}
    total = sum(existing.values())
    rows = [[_text(policy), f"{count:,}"] for policy, count in existing.items()]
    return _Section(
        "existing", "Existing findings not listed",
        table(("Policy", "Existing findings"), rows),
        intro=f"{_count(total, 'finding')} the change did not add, and that do not block, "
              "counted per policy; gate diff --show-existing lists them.",
        count=len(rows))


def _unjudged_section(unjudged: Sequence[Unjudged]) -> _Section:
    rows = [[_text(item.what), _place(item.file, None),
             state("not judged") + " " + _text(f"{item.category}: {item.reason}")]
            for item in unjudged]
    return _Section("unjudged", "Not judged", table(("What", "Where", "Why"), rows),
                    intro="gate saw these but did not judge them, so the verdict says "
                          "nothing about them.",
                    count=len(rows))


def _waived_section(results: Sequence[Result]) -> _Section:
    rows = []
    for result in sorted(results, key=Result.sort_key):
        waiver = result.waiver
        rows.append([
            _text(result.policy.id), _subject(result), _where(result),
            _text(waiver.reason if waiver else "no reason given"),
            _text(waiver.ticket or NONE) if waiver else NONE,
            _text(waiver.approved_by or NONE) if waiver else NONE,
            _text(waiver.expires or NONE) if waiver else NONE,
            _place(waiver.source, None) if waiver else NONE,
        ])
    return _Section("waived", "Waived", table(
        ("Policy", "Resource", "Location", "Waiver reason", "Ticket", "Approved by",
         "Expires", "Waiver"), rows), count=len(rows))


def _baselined_section(results: Sequence[Result]) -> _Section:
    rows = [[_text(r.policy.id), _subject(r), _where(r), _text(finding_message(r)),
             _place(r.waiver.source, None) if r.waiver else NONE,
             _text(r.waiver.expires or NONE) if r.waiver else NONE]
            for r in sorted(results, key=Result.sort_key)]
    return _Section("baselined", "Baselined findings", table(
        ("Policy", "Resource", "Location", "Message", "Baseline entry", "Expires"), rows),
        intro="Findings the baseline records: they do not block until their entry expires.",
        count=len(rows))


def _results_section(results: Sequence[Result], id: str, title: str,
                     intro: str = "") -> _Section:
    rows = [[_text(r.policy.id), _subject(r), _where(r)]
            for r in sorted(results, key=Result.sort_key)]
    return _Section(id, title, table(("Policy", "Resource", "Location"), rows),
                    intro=intro, count=len(rows))


def _notes_section(notes: Sequence[Note]) -> _Section:
    rows = [[_place(note.file, note.line), _text(note.message)] for note in notes]
    return _Section("notes", "Skipped documents", table(("Location", "Reason"), rows),
                    intro="Documents that are not Kubernetes resources.", count=len(rows))


# -- environments, deleted resources, policies -----------------------------------------

_STATUS_TITLES = {PASS: "Passed", FAIL: "Blocking", WARN: "Warnings", WAIVED: "Waived",
                  BASELINED: "Baselined", OVERRIDDEN: "Overridden", SKIP: "Skipped"}


def _environments_section(report: Report) -> _Section:
    statuses = (FAIL, WARN, WAIVED, *((BASELINED,) if report.count(BASELINED) else ()),
                *((OVERRIDDEN,) if report.count(OVERRIDDEN) else ()), PASS)
    rows = [[_text(name), *(f"{row[status]:,}" for status in statuses)]
            for name, row in environment_counts(report, statuses).items()]
    return _Section("environments", "Environments", table(
        ("Environment", *(_STATUS_TITLES[status] for status in statuses)), rows),
        count=len(rows))


def _deleted_section(report: Report) -> _Section:
    deleted = report.change.deleted if report.change is not None else []
    rows = [[_text(r.environment or NONE), _text(identity(r.kind, r.namespace, r.name)),
             _place(r.rendered_by or r.file, None if r.rendered_by else r.line)]
            for r in deleted]
    return _Section("deleted", "Resources this change deletes",
                    table(("Environment", "Resource", "Defined in"), rows), count=len(rows))


def _policies_section(report: Report) -> _Section:
    counts = policy_counts(report)
    statuses = counted_statuses(report)
    rows = [[_text(policy.id), _text(policy.title), _text(policy.severity),
             _text(policy.enforcement), _list(policy.controls),
             *(f"{counts.get((policy.id, status), 0):,}" for status in statuses)]
            for policy in report.all_policies()]
    return _Section("policies", "Policies", table(
        ("Policy", "Title", "Severity", "Enforcement", "Controls",
         *(_STATUS_TITLES[status] for status in statuses)), rows), count=len(rows))


# -- the change: files, change log, rollbacks --------------------------------------------


def _change_section(report: Report) -> _Section:
    change = report.change
    if change is None:
        return _Section("change", "Change")
    base = _text(change.base_ref) + (f" ({_mono(change.merge_base)})" if change.merge_base
                                     else "")
    head = _text(change.head_ref) + (f" ({_mono(change.head_sha)})" if change.head_sha
                                     else "")
    rule = ("only findings this change adds block" if change.blocking == "new"
            else "every blocking finding blocks")
    intro = f"Compared {base} with {head}: {rule}."
    if change.mode == "commits":
        intro += f" {_count(change.commits, 'commit')}."
    if change.environments:
        intro += f" Environments it reaches: {_list(change.environments)}."
    if change.notes:
        intro += " " + " ".join(_text(note) for note in change.notes)
    files = [[_text(f.status), _text(f.path if not f.old_path else f"{f.old_path} → {f.path}")]
             for f in change.files]
    parts = [
        _Section("changed-files", "Changed files", table(("Status", "File"), files),
                 count=len(files), level=3, keep=True),
        _commit_log_section(change),
        _rollbacks_section(change),
    ]
    content = "".join(part.html() for part in parts if part.shown)
    return _Section("change", "Change", content, intro=intro, keep=True)


def _commit_log_section(change: ChangeSummary) -> _Section:
    rows = [_commit_row(commit) for commit in change.commit_log]
    return _Section("change-log", "Change log", table(
        ("Commit", "Subject", "Author", "Authored", "Committer", "Committed", "Signature",
         "Trailers", "Tickets"), rows),
        intro="Every commit of the change, newest first, as git records it.",
        count=len(rows), level=3)


def _commit_row(commit: CommitRecord) -> list[str]:
    signature = commit.signature
    words = signature_words(signature)
    # A status letter gate does not know is named as a value, not styled as a state.
    signed = state(words) if signature.status in SIGNATURE_WORDS else _text(words)
    for label, value in (("signer", signature.signer), ("key", signature.key),
                         ("fingerprint", signature.fingerprint)):
        if value:
            signed += f"<br>{label}: {_text(value)}"
    trailers = "<br>".join(f"{_text(key)}: {_text(value)}"
                           for key, values in commit.trailers for value in values)
    return [_mono(commit.sha), _text(commit.subject), _text(commit.author),
            _text(commit.authored_at), _text(commit.committer), _text(commit.committed_at),
            signed, trailers or NONE, _list(commit.tickets)]


def _rollbacks_section(change: ChangeSummary) -> _Section:
    rows = [_rollback_row(rollback) for rollback in change.rollbacks]
    return _Section("rollbacks", "Rollbacks", table(
        ("Environment", "Back to release", "Moves", "Let through"), rows),
        intro="Environments this change only moves back to what an earlier release tag "
              "deployed.",
        count=len(rows), level=3)


def _rollback_row(rollback: RollbackRecord) -> list[str]:
    moves = "<br>".join(_text(move) for move in rollback.moves) or NONE
    let_through = (state("rollback allowed") + " by " + _text(rollback.let_through)
                   if rollback.let_through else NONE)
    return [_text(rollback.environment), _text(rollback.release), moves, let_through]


def _release_section(release: ReleaseEvidence | None) -> _Section:
    """gate release verify: where the certifying environment ran each production version."""
    if release is None:
        return _Section("release", "Release")
    rows = [[_text(row.microservice), _text(row.environment), _mono(row.version),
             _place(row.file, row.line),
             state("certified") + f" ({_text(release.certified_in)} at "
             f"{_text(row.certified_at)})" if row.certified_at else
             state("not certified") + f" ({_text(release.certified_in)} never ran it)"]
            for row in release.rows]
    intro = (f"Release tag {_text(release.tag)} (commit {_mono(release.commit)}). "
             f"{_text(release.rule)}. Microservice identity: {_text(release.microservice_rule)}.")
    if release.unread:
        intro += " " + state("incomplete") + ": not read: " + _list(release.unread) + "."
    return _Section("release", f"Release {release.tag}: certification", table(
        ("Microservice", "Environment", "Version", "Set at", "Certification"), rows),
        intro=intro, count=len(rows), keep=True)


# -- the audit ---------------------------------------------------------------------------


def _audit_section(report: Report) -> _Section:
    audit = report.audit
    if audit is None:
        return _Section("audit", "Audit")
    parts = [
        _Section("record", "Record", table(("Record", "Value"), _audit_rows(report, audit)),
                 level=3, keep=True),
        *_control_sections(report),
        _waivers_section(audit),
        _overrides_section(report),
        _evidence_section(audit),
        _Section("inputs", "Fingerprint inputs", table(
            ("Input", "sha256"), [[_text(name), _mono(digest)] for name, digest in audit.inputs]),
            intro="The files the fingerprint covers: policies, config and waivers.",
            count=len(audit.inputs), level=3),
    ]
    return _Section("audit", "Audit", "".join(part.html() for part in parts if part.shown),
                    intro="What this run judged, when, and by which rules: the record to "
                          "file as evidence.",
                    keep=True)


def _audit_rows(report: Report, audit: Audit) -> list[list[str]]:
    change = report.change
    facts = [("Judged", _text(judged(report)))]
    if change is not None:
        if change.merge_base:
            facts.append(("Merge base", _mono(change.merge_base)))
        if change.mode == "commits":
            facts.append(("Commits", f"{change.commits:,}"))
        facts.append(("Environments", _list(change.environments)))
    facts += [
        ("Evaluated at", f"{_text(audit.evaluated_at)} (time source: "
                         f"{_text(audit.time_source)})"),
        ("gate version", _text(report.tool_version)),
        ("Rules read from", _text(audit.rules_from)),
        ("sha256 fingerprint", _mono(audit.fingerprint)),
        ("Fail on", _text(report.fail_on)),
    ]
    if audit.baseline is not None:
        record = audit.baseline
        findings = sum(use.matched for use in record.entries if use.state == ACTIVE)
        facts.append(("Baseline", f"{_text(record.file)}: "
                                  f"{_count(findings, 'baselined finding')}; entries: "
                                  f"{record.count(ACTIVE):,} active, "
                                  f"{record.count(EXPIRED):,} expired, "
                                  f"{record.count(STALE):,} stale"))
    return [[text(name), value] for name, value in facts]


def _control_sections(report: Report) -> list[_Section]:
    statuses = (PASS, FAIL, WARN, WAIVED, *((BASELINED,) if report.count(BASELINED) else ()),
                OVERRIDDEN)
    sections = []
    for position, group in enumerate(frameworks(report)):
        sections.append(_Section(
            f"controls-{position + 1}", f"Controls: {group.name}",
            table(("Control", "Title", "Policies",
                    *(_STATUS_TITLES[status] for status in statuses)),
                   _control_rows(group, statuses)),
            intro="" if position else
            "Results per compliance control, one table per framework (a policy mapped to "
            "several controls counts in each).",
            count=len(group.rows), level=3))
    return sections


def _control_rows(group: FrameworkGroup, statuses: Sequence[str]) -> list[list[str]]:
    return [[_text(group.local_id(row)), _text(group.title_of(row) or NONE),
             _list(row.policies), *(f"{row.counts[status]:,}" for status in statuses)]
            for row in group.rows]


def _waivers_section(audit: Audit) -> _Section:
    rows = [[_place(w.source, None), _text(w.policy), state(w.state), f"{w.matched:,}",
             _text(w.reason), _text(w.ticket or NONE), _text(w.approved_by or NONE),
             _text(w.expires or NONE)] for w in audit.waivers]
    return _Section("waivers", "Waivers", table(
        ("Waiver", "Policy", "State", "Findings", "Reason", "Ticket", "Approved by",
         "Expires"), rows), count=len(rows), level=3)


def _overrides_section(report: Report) -> _Section:
    rows = [[_text(use.override.trailer), _text(use.override.ticket),
             _text(use.override.reason), _text(use.override.author),
             _mono(use.override.commit), _text(use.override.approved_by or NONE),
             _mono(use.override.approval_commit) if use.override.approval_commit else NONE,
             _let_through(use)] for use in overrides(report)]
    return _Section("overrides", "Emergency overrides", table(
        ("Trailer", "Ticket", "Reason", "Author", "Commit", "Approved by", "Approval commit",
         "Let through"), rows), count=len(rows), level=3)


def _evidence_section(audit: Audit) -> _Section:
    rows = [[_text(e.label), _text(e.environment or NONE), _list(e.values), _text(e.policy)]
            for e in audit.evidence]
    return _Section("evidence", "Change evidence",
                    table(("Evidence", "Environment", "Values", "Policy"), rows),
                    count=len(rows), level=3)


# -- values ------------------------------------------------------------------------------


def _text(value: object) -> str:
    """An untrusted value as HTML text: controls made visible, on one line, escaped."""
    return text(one_line(str(value)))


def _mono(value: str) -> str:
    """A sha or digest, in full, in a monospace font (escaped like any value)."""
    return f'<span class="mono">{_text(value)}</span>'


def _list(values: Iterable[str]) -> str:
    return ", ".join(_text(value) for value in values) or NONE


def _place(file: str, line: int | None) -> str:
    return _text(location(file, line) or NONE)


def _where(result: Result) -> str:
    return _place(result.location_file, result.location_line)


def _subject(result: Result) -> str:
    return _text(subject(result))


def _count(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


def _rank(severity: str) -> int:
    return severity_rank(severity) if severity in SEVERITIES else len(SEVERITIES)

