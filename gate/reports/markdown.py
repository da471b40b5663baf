"""Markdown report, for compliance officers, pull-request comments and step summaries.

Two forms of one renderer: ``render`` (format ``markdown``) is the whole report, every
row and every value in full, for a file to keep; ``render_comment`` (format
``markdown-comment``, gate/reports/markdown_comment.py) is the same report shortened to
fit a pull-request comment or a job summary (see the end of this docstring). A written
file is never shortened: only text meant for a comment is.

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
* The audit section (when the report has one), for a compliance officer to file:
  what was judged, when and by which gate, the fingerprint of the policies and
  config (its inputs folded), the per-control tables (one per compliance framework,
  see ``gate/frameworks.py``), the change log (every commit with its author, committer,
  dates, signature status, trailers and tickets), waivers, overrides (with their
  four-eyes approval) and change evidence.

Portable Markdown: CommonMark and GFM tables, which GitHub, GitLab and other
CommonMark renderers show alike; no GitHub-only syntax (no ``> [!CAUTION]`` alert,
which elsewhere reads as a literal ``[!CAUTION]``). ``<details>`` folds only what may be
shown unfolded (passed checks, skipped documents, the fingerprint's inputs), so a
renderer without it loses nothing. Every state is written in words (``failed``,
``blocking``, ``**NEW**``, ``existing``, ``overridden``, ``not judged``, ``expired``...),
an emoji at most beside them: without an emoji font it is an empty box, and must not be
the only mark of anything.

Every value that comes from a manifest, a message or a waiver is hostile: it is put
on one line, capped in length in the comment form, and escaped (see ``escape``) so it
can never end a table cell or row, close a ``<details>``, forge a link or an image, start a heading,
mention a user or team, or become a bare ``http://`` / ``www.`` autolink. No
untrusted value goes into a code span: only the audit's hex digests do, once
checked to be hex.

The comment form stays shorter than ``MAX_CHARS`` (counted in UTF-16 code units, never
fewer than the characters): when it would be longer, rows are dropped from
the least important sections first (passed checks, skipped documents, warnings,
waived results, then blocking findings, input errors, policies, evidence and
waivers, then what was not judged, then overridden findings, and last the audit's
control, override and record tables) and every section says how many rows it left
out. The heading, the verdict with its counts and the override callout always remain.
The output is deterministic: the only time shown is the evaluation time the report
carries.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace

from gate.reports import RenderOptions
from gate.reports._escape import one_line, shorten
from gate.reports.audit import (
    FrameworkGroup,
    counted_statuses,
    environment_counts,
    finding_message,
    frameworks,
    identity,
    judged,
    overrides,
    policy_counts,
    subject,
)
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
    CommitRecord,
    OverrideRef,
    ReleaseEvidence,
    Report,
    Result,
    Unjudged,
    severity_rank,
)

MARKER = "<!-- gate-report:v1 -->"
# The report is always shorter than this: below GitHub's 65,536-character limit on a
# comment body, with room for a wrapper to add a line or two.
MAX_CHARS = 65_000
CELL_LIMIT = 300  # characters of one untrusted value, before escaping
SEE_ALSO = "see the whole Markdown, HTML or JSON report"
# Whether the report being rendered is the comment form: values, lists and tables are
# shortened only then. Set by ``render_comment`` for the time it renders.
_SHORTENED: ContextVar[bool] = ContextVar("markdown_shortened", default=False)

# Markdown punctuation that could start markup, each written with a backslash;
# ``&``, ``<``, ``>`` and ``@`` become character references (``&#64;`` because a
# backslash does not stop a mention). One ``str.translate`` pass does it all, so
# nothing is escaped twice.
_ESCAPES = str.maketrans(
    {
        **{char: "\\" + char for char in "\\`*_[]()!#|~"},
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "@": "&#64;",
    }
)
# GFM also links bare ``scheme://`` and ``www.`` text; a backslash before the ``:`` or
# the ``.`` keeps them plain text.
_BARE_LINK = re.compile(r"://|www\.", re.IGNORECASE)


def escape(value: object, limit: int = CELL_LIMIT) -> str:
    """``value`` as inert Markdown text, on one line; in the comment form at most ``limit``
    characters long."""
    text = one_line(str(value))
    if _SHORTENED.get():
        text = shorten(text, limit)
    return _BARE_LINK.sub(_unlink, text.translate(_ESCAPES))


def _cap(limit: int) -> int | None:
    """``limit`` in the comment form; no limit (None) in the whole report."""
    return limit if _SHORTENED.get() else None


def _unlink(match: re.Match[str]) -> str:
    """``\\://`` for ``://``, ``www\\.`` for ``www.`` (in its own case)."""
    found = match[0]
    return "\\://" if found == "://" else found[:3] + "\\."


def render(report: Report, options: RenderOptions) -> str:
    """The whole report as GitHub-flavoured Markdown: every row, every value in full."""
    del options  # no option changes the Markdown output
    sections = _sections(report)
    return _document(_head(report), sections, {s.key: len(s.rows) for s in sections})


def render_comment(report: Report, options: RenderOptions) -> str:
    """The report shortened for a pull-request comment or a job summary: shorter than
    ``MAX_CHARS``, values capped, the least important rows left out first."""
    del options
    shortened = _SHORTENED.set(True)
    try:
        head = _head(report)
        sections = _sections(report)
        return _document(head, sections, _fit(head, sections))
    finally:
        _SHORTENED.reset(shortened)


# -- sections and truncation -------------------------------------------------------


@dataclass(frozen=True)
class _Section:
    """A table of pre-rendered rows, under a heading or folded in ``<details>``."""

    key: str
    title: str  # a heading, or the <summary> text when folded; trusted text only
    columns: tuple[str, ...]
    rows: tuple[str, ...]
    noun: str  # plural, for "… 12 more <noun> not shown"
    folded: bool = False
    intro: str = ""
    keep: bool = False  # shown (title and intro) even without rows

    def lines(self, shown: int) -> list[str]:
        body = self._intro() + self._table(shown) + self._omitted(shown)
        if not self.folded:
            return [self.title, "", *body]
        return [f"<details><summary>{self.title}</summary>", "", *body, "</details>", ""]

    def _intro(self) -> list[str]:
        return [self.intro, ""] if self.intro else []

    def _table(self, shown: int) -> list[str]:
        if shown <= 0:
            return []
        header = "| " + " | ".join(self.columns) + " |"
        rule = "|" + "|".join("---" for _ in self.columns) + "|"
        return [header, rule, *self.rows[:shown], ""]

    def _omitted(self, shown: int) -> list[str]:
        left_out = len(self.rows) - shown
        if left_out <= 0:
            return []
        more = "more " if shown else ""
        return [f"… {left_out:,} {more}{self.noun} not shown; {SEE_ALSO}.", ""]


# Sections lose rows in this order when the report is too long.
# The small summaries of the audit go last: a few rows that say who overrode what and
# how each control fared outweigh the thousandth overridden finding.
# What was not judged goes after the findings: a few rows that say "nobody looked at
# this chart" outweigh the hundredth finding, and a passing verdict must not hide them.
_DROP_ORDER = ("passed", "notes", "baselined", "inputs", "commits", "change", "deleted", "warnings",
               "waived", "blocking", "errors", "environments", "policies", "existing",
               "evidence", "waivers",
               "unjudged", "overridden", "rollbacks", "controls", "overrides", "audit")


def _fit(head: list[str], sections: Sequence[_Section]) -> dict[str, int]:
    """How many rows of each section to show so that the document is short enough."""
    shown = {section.key: len(section.rows) for section in sections}
    for key in _DROP_ORDER:
        # "controls" stands for every "controls:<framework>" section; the last (Other)
        # loses rows first.
        for section_key in reversed([k for k in shown if k.partition(":")[0] == key]):
            if _fits(head, sections, shown):
                return shown
            shown[section_key] = _most_rows(section_key, head, sections, shown)
    return shown


def _most_rows(
    key: str, head: list[str], sections: Sequence[_Section], shown: dict[str, int]
) -> int:
    """The most rows of section ``key`` (fewer than now) that fit, or 0: a binary search."""
    low, high = 0, shown[key] - 1
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(head, sections, {**shown, key: middle}):
            low = middle
        else:
            high = middle - 1
    return max(low, 0)


def _fits(head: list[str], sections: Sequence[_Section], shown: dict[str, int]) -> bool:
    return _size(_document(head, sections, shown)) < MAX_CHARS


def _size(text: str) -> int:
    """Length in UTF-16 code units, as JavaScript and most APIs count it."""
    return len(text.encode("utf-16-le")) // 2


def _document(head: list[str], sections: Sequence[_Section], shown: dict[str, int]) -> str:
    lines = [*head, *_truncation_note(sections, shown)]
    for section in sections:
        lines += section.lines(shown[section.key])
    return "\n".join(lines).rstrip("\n") + "\n"


def _truncation_note(sections: Sequence[_Section], shown: dict[str, int]) -> list[str]:
    left_out = [
        f"{len(section.rows) - shown[section.key]:,} {section.noun}"
        for section in sections
        if shown[section.key] < len(section.rows)
    ]
    if not left_out:
        return []
    return [
        f"> ✂️ Shortened to fit {MAX_CHARS:,} characters: {', '.join(left_out)} "
        f"not shown; {SEE_ALSO} for everything.",
        "",
    ]


# -- head --------------------------------------------------------------------------


def _head(report: Report) -> list[str]:
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
        f"{_plural(count, 'finding')} let through.** {_plural(count, 'It', 'They')} would "
        "have failed the gate.",
    ]
    uses = overrides(report)
    for use in uses[:CALLOUT_OVERRIDES]:
        lines.append(f"> - {_override_text(use.override)}; let through "
                     f"{_let_through(use.per_policy())}")
    if len(uses) > CALLOUT_OVERRIDES:
        lines.append(f"> - … and {len(uses) - CALLOUT_OVERRIDES:,} more overrides "
                     "(see the audit section)")
    return [*lines, ""]


def _override_text(override: OverrideRef) -> str:
    """``**Gate-Override: INC-1** by who in commit sha: reason``, escaped."""
    return (f"**{escape(override.trailer, 60)}: {escape(override.ticket, 80)}** by "
            f"{escape(override.author, 120)} in commit {escape(override.commit[:12])}"
            f"{_approval_text(override)}: {escape(override.reason)}")


def _approval_text(override: OverrideRef) -> str:
    """``, approved by NAME in commit SHA`` (four eyes), or ""."""
    if not override.approved_by:
        return ""
    return (f", approved by {escape(override.approved_by, 120)} in commit "
            f"{escape(override.approval_commit[:12])}")


def _let_through(per_policy: Sequence[tuple[str, int]], limit: int = 5) -> str:
    """``2 findings of no-latest-tag, 1 finding of release-window``, escaped; in the
    comment form at most ``limit`` policies are named."""
    if not per_policy:
        return "no findings of this report"
    limit = _cap(limit) or len(per_policy)
    text = ", ".join(f"{count:,} {_plural(count, 'finding')} of {escape(policy, 100)}"
                     for policy, count in per_policy[:limit])
    if len(per_policy) > limit:
        more = sum(count for _, count in per_policy[limit:])
        text += f" and {more:,} of {len(per_policy) - limit:,} more policies"
    return text


def _counts(report: Report) -> str:
    errors = len(report.errors)
    counts = [
        f"**❌ {report.count(FAIL):,} blocking**",
        f"⚠️ {report.count(WARN):,} {_plural(report.count(WARN), 'warning')}",
        f"✅ {report.count(PASS):,} passed",
        *([f"**🚨 {report.count(OVERRIDDEN):,} overridden**"] if report.count(OVERRIDDEN) else []),
        f"{report.count(WAIVED):,} waived",
        *([f"{report.count(BASELINED):,} baselined"] if report.count(BASELINED) else []),
        f"{report.count(SKIP):,} skipped",
        f"{'**⛔ ' if errors else ''}{errors:,} input {_plural(errors, 'error')}"
        f"{'**' if errors else ''}",
        *([f"**{UNJUDGED_MARK} {len(report.unjudged):,} not judged**"] if report.unjudged
          else []),
    ]
    return " · ".join(counts)


def _context(report: Report) -> str:
    parts = [
        f"{report.resource_count:,} {_plural(report.resource_count, 'resource')}",
        f"{len(report.policies):,} {_plural(len(report.policies), 'policy', 'policies')}",
        f"fail-on: {escape(report.fail_on)}",
        f"gate {escape(report.tool_version)}",
    ]
    if report.notes:
        parts.insert(2, f"{len(report.notes):,} skipped {_plural(len(report.notes), 'document')}")
    return " · ".join(parts)


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return singular if count == 1 else (plural or singular + "s")


# -- building the sections ---------------------------------------------------------


def _sections(report: Report) -> list[_Section]:
    candidates = [
        _overridden_section(report),
        _rollbacks_section(report),
        _change_section(report),
        _release_section(report.release),
        _errors_section(report.errors),
        _findings_section(report.by_status(FAIL), "blocking", "### ❌ Blocking findings"),
        _findings_section(report.by_status(WARN), "warnings", "### ⚠️ Warnings"),
        _existing_section(report),
        _unjudged_section(report.unjudged),
        _waived_section(sorted(report.by_status(WAIVED), key=Result.sort_key)),
        _environments_section(report),
        _deleted_section(report),
        _policies_section(report),
        _passed_section(sorted(report.by_status(PASS), key=Result.sort_key)),
        _baselined_section(sorted(report.by_status(BASELINED), key=Result.sort_key)),
        _notes_section(report.notes),
        *_audit_sections(report),
    ]
    return [section for section in candidates if section.rows or section.keep]


def _overridden_section(report: Report) -> _Section:
    """Emergency overrides come first: nobody reading the report may miss one."""
    results = sorted(report.by_status(OVERRIDDEN), key=Result.sort_key)
    rows = tuple(
        _row([escape(r.policy.id), escape(r.policy.severity), _resource(r),
              _location(r.location_file, r.location_line), escape(_message(r)),
              _override_cell(r.override)])
        for r in results
    )
    return _with_count(_Section(
        key="overridden", title="### 🚨 Emergency overrides: findings let through",
        intro="These blocking findings would have failed the gate; an emergency override "
              "(a commit trailer) let them through.",
        columns=("Policy", "Severity", "Resource", "Location", "Message", "Override"),
        rows=rows, noun="overridden findings",
    ))


def _override_cell(override: OverrideRef | None) -> str:
    if override is None:
        return "—"
    return (f"{escape(override.ticket, 80)} by {escape(override.author, 120)} "
            f"\\({escape(override.commit[:12])}\\){_approval_text(override)}")


def _release_section(release: ReleaseEvidence | None) -> _Section:
    """gate release verify: the per-microservice certification table."""
    if release is None:
        return _Section(key="release", title="", columns=(), rows=(), noun="versions")
    rows = tuple(
        _row([escape(row.microservice), escape(row.environment), escape(row.version),
              _location(row.file, row.line),
              f"certified ({escape(release.certified_in)} at {escape(row.certified_at)})"
              if row.certified_at else
              f"**NOT certified** ({escape(release.certified_in)} never ran it)"])
        for row in release.rows)
    unread = "".join(f" Unread: {escape(item)}." for item in release.unread)
    return _Section(
        key="release", title=f"### Release {escape(release.tag)}: certification",
        intro=f"{escape(release.rule)}. Microservice identity: "
              f"{escape(release.microservice_rule)}.{unread}",
        columns=("Microservice", "Environment", "Version", "Set at", "Certification"),
        rows=rows, noun="versions", keep=True)


def _audit_sections(report: Report) -> list[_Section]:
    audit = report.audit
    if audit is None:
        return []
    waiver_rows = tuple(
        _row([_location(w.source, None), escape(w.policy), _WAIVER_STATE.get(w.state, "")
              + escape(w.state), f"{w.matched:,}", escape(w.reason), escape(w.ticket or "—"),
              escape(w.approved_by or "—"), escape(w.expires or "—")])
        for w in audit.waivers
    )
    override_rows = tuple(
        _row([escape(use.override.ticket), escape(use.override.reason),
              escape(use.override.author), _sha(use.override.commit),
              escape(use.override.approved_by or "—", 120),
              _sha(use.override.approval_commit) if use.override.approval_commit else "—",
              _let_through(use.per_policy(), limit=20)])
        for use in overrides(report)
    )
    values = _cap(50)
    evidence_rows = tuple(
        _row([escape(e.label), escape(e.environment or "—"),
              ", ".join(escape(v, 100) for v in e.values[:values])
              + (f" and {len(e.values) - values:,} more"
                 if values is not None and len(e.values) > values else "")
              or "—", escape(e.policy)])
        for e in audit.evidence
    )
    input_rows = tuple(_row([escape(name), _sha(digest)]) for name, digest in audit.inputs)
    return [
        _Section(key="audit", title="### 📋 Audit",
                 intro="What this run judged, when, and by which rules: the record to file "
                       "as evidence.",
                 columns=("Record", "Value"), rows=_audit_rows(report, audit), noun="audit facts",
                 keep=True),
        _commit_log_section(report),
        *_control_sections(report),
        _with_count(_Section(key="waivers", title="#### Waivers",
                             columns=("Waiver", "Policy", "State", "Findings", "Reason",
                                      "Ticket", "Approved by", "Expires"),
                             rows=waiver_rows, noun="waivers")),
        _with_count(_Section(key="overrides", title="#### 🚨 Emergency overrides",
                             columns=("Ticket", "Reason", "Author", "Commit", "Approved by",
                                      "Approval commit", "Let through"),
                             rows=override_rows, noun="overrides")),
        _with_count(_Section(key="evidence", title="#### Change evidence",
                             columns=("Evidence", "Environment", "Values", "Policy"),
                             rows=evidence_rows, noun="evidence rows")),
        _Section(key="inputs",
                 title=f"Fingerprint inputs: {len(input_rows):,} "
                       f"{_plural(len(input_rows), 'file')} (policies, config, waivers)",
                 columns=("Input", "sha256"), rows=input_rows, noun="inputs", folded=True),
    ]


def _commit_log_section(report: Report) -> _Section:
    """The change log: every commit of the change, newest first, as git recorded and
    verified it."""
    records = report.change.commit_log if report.change is not None else []
    return _with_count(_Section(
        key="commits", title="#### Change log",
        intro="Every commit of the change, newest first: signature status as git verified "
              "it (G good, U good of unknown validity, E cannot be checked, N unsigned; "
              "see docs/reports.md).",
        columns=("Commit", "Author", "Authored", "Committer", "Committed", "Signature",
                 "Tickets", "Trailers", "Subject"),
        rows=tuple(_commit_row(record) for record in records), noun="commits"))


def _commit_row(record: CommitRecord) -> str:
    signature = record.signature
    signed = f"**{escape(signature.status, 1)}**"
    if signature.signer or signature.key:
        signed += f" {escape(signature.signer or '?', 120)}"
        if signature.key:
            signed += f" \\({escape(signature.fingerprint or signature.key, 64)}\\)"
    trailers = "; ".join(f"{escape(key, 60)}: {escape(value, 120)}"
                         for key, values in record.trailers[:20] for value in values[:20])
    return _row([_sha(record.sha[:12]), escape(record.author, 120),
                 escape(record.authored_at), escape(record.committer, 120),
                 escape(record.committed_at), signed,
                 ", ".join(escape(ticket, 80) for ticket in record.tickets) or "—",
                 trailers or "—", escape(record.subject)])


def _control_sections(report: Report) -> list[_Section]:
    """The per-control table, one per framework (``#### Controls: <framework> (n)``), in
    the registry's order with ``Other`` last; the first says what the tables count."""
    sections = []
    statuses = (PASS, FAIL, WARN, WAIVED, *((BASELINED,) if report.count(BASELINED) else ()),
                OVERRIDDEN)
    for position, group in enumerate(frameworks(report)):
        sections.append(_with_count(_Section(
            key=f"controls:{group.id}", title=f"#### Controls: {group.name}",
            intro="" if position else
            "Results per compliance control, one table per framework (a policy mapped to "
            "several controls counts in each).",
            columns=("Control", "Title", "Policies",
                     *(_STATUS_COLUMNS[status] for status in statuses)),
            rows=_control_rows(group, statuses), noun=f"controls of {group.name}")))
    return sections


def _control_rows(group: FrameworkGroup, statuses: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        _row([escape(group.local_id(row)), escape(group.title_of(row) or "—"),
              ", ".join(escape(p) for p in row.policies) or "—",
              *(f"{row.counts[status]:,}" for status in statuses)])
        for row in group.rows
    )


_WAIVER_STATE = {EXPIRED: "⚠️ ", STALE: "💤 "}
_SHA = re.compile(r"[0-9a-f]{7,64}")


def _sha(digest: str) -> str:
    """A hex digest in a code span; anything else (e.g. ``unreadable``) as escaped text."""
    return f"`{digest}`" if _SHA.fullmatch(digest) else escape(digest)


def _audit_rows(report: Report, audit: Audit) -> tuple[str, ...]:
    """The record: what was judged, when, by which gate and rules."""
    change = report.change
    facts = [("Judged", escape(judged(report)))]
    if change is not None:
        if change.merge_base:
            facts.append(("Merge base", _sha(change.merge_base)))
        if change.mode == "commits":
            facts.append(("Commits", f"{change.commits:,}"))
        facts.append(("Environments",
                      ", ".join(escape(e, 100) for e in change.environments) or "—"))
    facts += [
        ("Evaluated at", f"{escape(audit.evaluated_at)} \\(time source: "
                         f"{escape(audit.time_source)}\\)"),
        ("gate version", escape(report.tool_version)),
        ("Rules read from", escape(audit.rules_from)),
        ("sha256 fingerprint", _sha(audit.fingerprint)),
        ("Fail on", escape(report.fail_on)),
    ]
    if audit.baseline is not None:
        record = audit.baseline
        findings = sum(use.matched for use in record.entries if use.state == ACTIVE)
        facts.append(("Baseline", f"{escape(record.file)}: {findings:,} baselined "
                                  f"{_plural(findings, 'finding')}; entries: "
                                  f"{record.count(ACTIVE):,} active, "
                                  f"{record.count(EXPIRED):,} expired, "
                                  f"{record.count(STALE):,} stale"))
    return tuple(_row([name, value]) for name, value in facts)


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _with_count(section: _Section) -> _Section:
    return replace(section, title=f"{section.title} ({len(section.rows):,})")


def _errors_section(errors: Sequence[InputError]) -> _Section:
    rows = tuple(_row([_location(e.file, e.line), escape(e.message)]) for e in errors)
    return _with_count(_Section(
        key="errors",
        title="### ⛔ Input errors",
        intro="These inputs could not be read, so the gate fails closed.",
        columns=("Location", "Message"),
        rows=rows,
        noun="input errors",
    ))


UNJUDGED_MARK = "⏭️"


def _unjudged_section(unjudged: Sequence[Unjudged]) -> _Section:
    """What gate saw and did not judge, and why: never folded, since a passing verdict
    says nothing about it."""
    rows = tuple(
        _row([escape(item.what), _location(item.file, None),
              escape(f"{item.category}: {item.reason}")])
        for item in unjudged
    )
    return _with_count(_Section(
        key="unjudged", title=f"### {UNJUDGED_MARK} Not judged",
        intro="gate saw these but did not judge them, so the verdict says nothing about "
              "them.",
        columns=("What", "Where", "Why"), rows=rows, noun="unjudged items",
    ))


def _change_section(report: Report) -> _Section:
    change = report.change
    if change is None:
        return _Section(key="change", title="", columns=(), rows=(), noun="changed files")
    base = escape(change.base_ref) + (f" ({escape(change.merge_base[:12])})"
                                      if change.merge_base else "")
    head = escape(change.head_ref) + (f" ({escape(change.head_sha[:12])})"
                                      if change.head_sha else "")
    rule = ("only findings this change adds block" if change.blocking == "new"
            else "every blocking finding blocks")
    intro = f"Compared {base} with {head}: {rule}."
    if change.mode == "commits":
        intro += f" {change.commits:,} {_plural(change.commits, 'commit')}."
    if change.environments:
        reached = ", ".join(escape(environment, 100) for environment in change.environments)
        intro += f" Environments it reaches: {reached}."
    if change.notes:
        intro += " " + " ".join(escape(note) for note in change.notes)
    rows = tuple(
        _row([escape(f.status), escape(f.path if not f.old_path else f"{f.old_path} → {f.path}")])
        for f in change.files
    )
    return _with_count(_Section(
        key="change", title="### Change", intro=intro, columns=("Status", "File"), rows=rows,
        noun="changed files", keep=True,
    ))


def _rollbacks_section(report: Report) -> _Section:
    """Rollbacks next to overrides: each one a calendar rule let through is evidence."""
    rollbacks = report.change.rollbacks if report.change is not None else []
    rows = tuple(
        _row([escape(r.environment), escape(r.release),
              escape("; ".join(r.moves)), escape(r.let_through or "-")])
        for r in rollbacks
    )
    return _with_count(_Section(
        key="rollbacks", title="### Rollbacks",
        intro="The change only moves these environments back to what an earlier release "
              "tag deployed; a freeze or window with allow_rollback lets such a change "
              "through.",
        columns=("Environment", "Back to release", "Moves", "Let through"), rows=rows,
        noun="rollbacks",
    ))


def _deleted_section(report: Report) -> _Section:
    change = report.change
    deleted = change.deleted if change is not None else []
    rows = tuple(
        _row([escape(r.environment or "-"), escape(_identity(r.kind, r.namespace, r.name)),
              _location(r.rendered_by or r.file, None if r.rendered_by else r.line)])
        for r in deleted
    )
    return _with_count(_Section(
        key="deleted", title="### 🗑️ Resources this change deletes",
        columns=("Environment", "Resource", "Defined in"), rows=rows, noun="deleted resources",
    ))


def _environments_section(report: Report) -> _Section:
    statuses = (FAIL, WARN, WAIVED, *((BASELINED,) if report.count(BASELINED) else ()),
                *((OVERRIDDEN,) if report.count(OVERRIDDEN) else ()), PASS)
    rows = tuple(
        _row([escape(name), *(f"{row[status]:,}" for status in statuses)])
        for name, row in environment_counts(report, statuses).items()
    )
    titles = {**_STATUS_COLUMNS, FAIL: "❌ Blocking", WARN: "⚠️ Warnings", PASS: "✅ Passed"}
    return _with_count(_Section(
        key="environments", title="### Environments",
        columns=("Environment", *(titles[status] for status in statuses)), rows=rows,
        noun="environments",
    ))


_identity = identity


def _findings_section(results: Sequence[Result], key: str, title: str) -> _Section:
    ordered = sorted(results, key=lambda r: (r.resource.environment, _rank(r.policy.severity),
                                             r.sort_key()))
    return _with_count(_Section(
        key=key,
        title=title,
        columns=("Policy", "Severity", "Resource", "Location", "Message"),
        rows=tuple(_finding_row(result) for result in ordered),
        noun="blocking findings" if key == "blocking" else "warnings",
    ))


_message = finding_message


# How a gate diff finding says whether the change adds it: words, never an emoji alone.
NEW_MARK = "**NEW**"
EXISTING_MARK = "(existing)"


def _finding_row(result: Result) -> str:
    message = _message(result)
    marker = ""
    if result.new is not None and result.status != PASS:
        marker = f"{NEW_MARK} " if result.new else f"{EXISTING_MARK} "
    return _row([
        escape(result.policy.id),
        escape(result.policy.severity),
        _resource(result),
        _location(result.location_file, result.location_line),
        marker + escape(message),
    ])


def _waived_section(results: Sequence[Result]) -> _Section:
    rows = tuple(
        _row([
            escape(result.policy.id),
            _resource(result),
            _location(result.location_file, result.location_line),
            escape(result.waiver.reason if result.waiver else "no reason given"),
            escape(result.waiver.ticket or "—") if result.waiver else "—",
            escape(result.waiver.approved_by or "—") if result.waiver else "—",
            escape(result.waiver.expires or "—") if result.waiver else "—",
            _location(result.waiver.source, None) if result.waiver else "—",
        ])
        for result in results
    )
    return _with_count(_Section(
        key="waived",
        title="### Waived",
        columns=("Policy", "Resource", "Location", "Waiver reason", "Ticket", "Approved by",
                 "Expires", "Waiver"),
        rows=rows,
        noun="waived results",
    ))


def _baselined_section(results: Sequence[Result]) -> _Section:
    """Findings the baseline records: existing debt, folded (there may be hundreds)."""
    rows = tuple(
        _row([escape(result.policy.id), _resource(result),
              _location(result.location_file, result.location_line),
              escape(_message(result)),
              _location(result.waiver.source, None) if result.waiver else "—",
              escape(result.waiver.expires or "—") if result.waiver else "—"])
        for result in results
    )
    return _Section(
        key="baselined",
        title=f"{len(rows):,} baselined {_plural(len(rows), 'finding')} (recorded in the "
              "baseline: they do not block until their entry expires)",
        columns=("Policy", "Resource", "Location", "Message", "Baseline entry", "Expires"),
        rows=rows, noun="baselined findings", folded=True,
    )


def _existing_section(report: Report) -> _Section:
    """gate diff: existing findings counted per policy, when they are not listed."""
    change = report.change
    existing = change.existing if change is not None and not change.existing_listed else {}
    rows = tuple(_row([escape(policy), f"{count:,}"]) for policy, count in existing.items())
    total = sum(existing.values())
    return _Section(
        key="existing", title=f"### Existing findings not listed ({total:,})",
        intro=f"{total:,} {_plural(total, 'finding')} the change did not add, and that do "
              "not block, counted per policy; gate diff --show-existing lists them.",
        columns=("Policy", "Existing findings"), rows=rows,
        noun="policies with existing findings",
    )


def _policies_section(report: Report) -> _Section:
    counts = policy_counts(report)
    statuses = _counted_statuses(report)
    rows = tuple(
        _row([
            escape(policy.id),
            escape(policy.title),
            escape(policy.severity),
            escape(policy.enforcement),
            ", ".join(escape(control) for control in policy.controls) or "—",
            *(f"{counts.get((policy.id, status), 0):,}" for status in statuses),
        ])
        for policy in report.all_policies()
    )
    return _Section(
        key="policies",
        title="### Policies",
        columns=(
            "Policy", "Title", "Severity", "Enforcement", "Controls",
            *(_STATUS_COLUMNS[status] for status in statuses),
        ),
        rows=rows,
        noun="policies",
    )


_STATUS_COLUMNS = {PASS: "✅ Pass", FAIL: "❌ Fail", WARN: "⚠️ Warn", WAIVED: "Waived",
                   BASELINED: "Baselined", OVERRIDDEN: "🚨 Overridden"}


_counted_statuses = counted_statuses


def _passed_section(results: Sequence[Result]) -> _Section:
    rows = tuple(
        _row([
            escape(result.policy.id),
            _resource(result),
            _location(result.location_file, result.location_line),
        ])
        for result in results
    )
    return _Section(
        key="passed",
        title=f"✅ {len(rows):,} passed {_plural(len(rows), 'check')}",
        columns=("Policy", "Resource", "Location"),
        rows=rows,
        noun="passed checks",
        folded=True,
    )


def _notes_section(notes: Sequence[Note]) -> _Section:
    rows = tuple(_row([_location(note.file, note.line), escape(note.message)]) for note in notes)
    return _Section(
        key="notes",
        title=f"{len(rows):,} skipped {_plural(len(rows), 'document')} (not Kubernetes resources)",
        columns=("Location", "Reason"),
        rows=rows,
        noun="skipped documents",
        folded=True,
    )


# -- values ------------------------------------------------------------------------


def _resource(result: Result) -> str:
    return escape(subject(result))


def _location(file: str, line: int | None) -> str:
    if not file:
        return "—"
    return escape(file if line is None else f"{file}:{line}")


def _rank(severity: str) -> int:
    return severity_rank(severity) if severity in SEVERITIES else len(SEVERITIES)
