"""The Markdown report's sections of record: the change, a release, and the audit.

The change ``gate diff`` judged (compared refs, changed files, rollbacks, the resources it
deletes), the certification table of ``gate release verify``, and the audit section for
a compliance officer to file: what was judged, when and by which gate, the fingerprint
of the policies and config (its inputs folded), the per-control tables (one per
compliance framework, see ``gate/governance/frameworks.py``), the change log (every commit with its
author, committer, dates, signature status, trailers and tickets), waivers, overrides
(with their four-eyes approval) and change evidence. Also how an emergency override is
named, which the report's head and the overridden findings share.
"""
from __future__ import annotations

from collections.abc import Sequence

from gate.reports.audit import FrameworkGroup, audit_record, frameworks, identity, overrides
from gate.reports.contents import (
    change_intro,
    changed_path,
    control_statuses,
    deleted_resources,
)
from gate.reports.markdown_section import STATUS_COLUMNS, Section, with_count
from gate.reports.markdown_text import capped, escape, place, plural, sha, table_row
from gate.results import (
    EXPIRED,
    STALE,
    Audit,
    CommitRecord,
    OverrideRef,
    ReleaseEvidence,
    Report,
)

# -- overrides ---------------------------------------------------------------------


def override_text(override: OverrideRef) -> str:
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


def let_through(per_policy: Sequence[tuple[str, int]], limit: int = 5) -> str:
    """``2 findings of no-latest-tag, 1 finding of release-window``, escaped; in the
    comment form at most ``limit`` policies are named."""
    if not per_policy:
        return "no findings of this report"
    limit = capped(limit) or len(per_policy)
    text = ", ".join(f"{count:,} {plural(count, 'finding')} of {escape(policy, 100)}"
                     for policy, count in per_policy[:limit])
    if len(per_policy) > limit:
        more = sum(count for _, count in per_policy[limit:])
        text += f" and {more:,} of {len(per_policy) - limit:,} more policies"
    return text


def override_cell(override: OverrideRef | None) -> str:
    if override is None:
        return "—"
    return (f"{escape(override.ticket, 80)} by {escape(override.author, 120)} "
            f"\\({escape(override.commit[:12])}\\){_approval_text(override)}")


# -- the change and a release ------------------------------------------------------


def change_section(report: Report) -> Section:
    change = report.change
    if change is None:
        return Section(key="change", title="", columns=(), rows=(), noun="changed files")
    intro = change_intro(change, text=escape, digest=_short_sha, names=_environment_names)
    rows = tuple(table_row([escape(f.status), escape(changed_path(f))]) for f in change.files)
    return with_count(Section(
        key="change", title="### Change", intro=intro, columns=("Status", "File"), rows=rows,
        noun="changed files", keep=True,
    ))


def rollbacks_section(report: Report) -> Section:
    """Rollbacks next to overrides: each one a calendar rule let through is evidence."""
    rollbacks = report.change.rollbacks if report.change is not None else []
    rows = tuple(
        table_row([escape(r.environment), escape(r.release),
                   escape("; ".join(r.moves)), escape(r.let_through or "-")])
        for r in rollbacks
    )
    return with_count(Section(
        key="rollbacks", title="### Rollbacks",
        intro="The change only moves these environments back to what an earlier release "
              "tag deployed; a freeze or window with allow_rollback lets such a change "
              "through.",
        columns=("Environment", "Back to release", "Moves", "Let through"), rows=rows,
        noun="rollbacks",
    ))


def deleted_section(report: Report) -> Section:
    rows = tuple(
        table_row([escape(r.environment or "-"), escape(identity(r.kind, r.namespace, r.name)),
                   place(r.rendered_by or r.file, None if r.rendered_by else r.line)])
        for r in deleted_resources(report)
    )
    return with_count(Section(
        key="deleted", title="### 🗑️ Resources this change deletes",
        columns=("Environment", "Resource", "Defined in"), rows=rows, noun="deleted resources",
    ))


def release_section(release: ReleaseEvidence | None) -> Section:
    """gate release verify: the per-microservice certification table."""
    if release is None:
        return Section(key="release", title="", columns=(), rows=(), noun="versions")
    rows = tuple(
        table_row([escape(row.microservice), escape(row.environment), escape(row.version),
                   place(row.file, row.line),
                   f"certified ({escape(release.certified_in)} at {escape(row.certified_at)})"
                   if row.certified_at else
                   f"**NOT certified** ({escape(release.certified_in)} never ran it)"])
        for row in release.rows)
    unread = "".join(f" Unread: {escape(item)}." for item in release.unread)
    return Section(
        key="release", title=f"### Release {escape(release.tag)}: certification",
        intro=f"{escape(release.rule)}. Microservice identity: "
              f"{escape(release.microservice_rule)}.{unread}",
        columns=("Microservice", "Environment", "Version", "Set at", "Certification"),
        rows=rows, noun="versions", keep=True)


# -- the audit ---------------------------------------------------------------------


def audit_sections(report: Report) -> list[Section]:
    audit = report.audit
    if audit is None:
        return []
    waiver_rows = tuple(
        table_row([place(w.source, None), escape(w.policy), _WAIVER_STATE.get(w.state, "")
                   + escape(w.state), f"{w.matched:,}", escape(w.reason), escape(w.ticket or "—"),
                   escape(w.approved_by or "—"), escape(w.expires or "—")])
        for w in audit.waivers
    )
    override_rows = tuple(
        table_row([escape(use.override.ticket), escape(use.override.reason),
                   escape(use.override.author), sha(use.override.commit),
                   escape(use.override.approved_by or "—", 120),
                   sha(use.override.approval_commit) if use.override.approval_commit else "—",
                   let_through(use.per_policy(), limit=20)])
        for use in overrides(report)
    )
    values = capped(50)
    evidence_rows = tuple(
        table_row([escape(e.label), escape(e.environment or "—"),
                   ", ".join(escape(v, 100) for v in e.values[:values])
                   + (f" and {len(e.values) - values:,} more"
                 if values is not None and len(e.values) > values else "")
                   or "—", escape(e.policy)])
        for e in audit.evidence
    )
    input_rows = tuple(table_row([escape(name), sha(digest)]) for name, digest in audit.inputs)
    return [
        Section(key="audit", title="### 📋 Audit",
                intro="What this run judged, when, and by which rules: the record to file "
                       "as evidence.",
                columns=("Record", "Value"), rows=_audit_rows(report, audit), noun="audit facts",
                keep=True),
        _commit_log_section(report),
        *_control_sections(report),
        with_count(Section(key="waivers", title="#### Waivers",
                             columns=("Waiver", "Policy", "State", "Findings", "Reason",
                                      "Ticket", "Approved by", "Expires"),
                             rows=waiver_rows, noun="waivers")),
        with_count(Section(key="overrides", title="#### 🚨 Emergency overrides",
                             columns=("Ticket", "Reason", "Author", "Commit", "Approved by",
                                      "Approval commit", "Let through"),
                             rows=override_rows, noun="overrides")),
        with_count(Section(key="evidence", title="#### Change evidence",
                             columns=("Evidence", "Environment", "Values", "Policy"),
                             rows=evidence_rows, noun="evidence rows")),
        Section(key="inputs",
                title=f"Fingerprint inputs: {len(input_rows):,} "
                       f"{plural(len(input_rows), 'file')} (policies, config, waivers)",
                columns=("Input", "sha256"), rows=input_rows, noun="inputs", folded=True),
    ]


def _audit_rows(report: Report, audit: Audit) -> tuple[str, ...]:
    """The record: what was judged, when, by which gate and rules."""
    facts = audit_record(report, audit, text=escape, digest=sha, names=_environment_names)
    return tuple(table_row([name, value]) for name, value in facts)


def _short_sha(digest: str) -> str:
    return escape(digest[:12])


def _environment_names(names: Sequence[str]) -> str:
    return ", ".join(escape(name, 100) for name in names) or "—"


def _commit_log_section(report: Report) -> Section:
    """The change log: every commit of the change, newest first, as git recorded and
    verified it."""
    records = report.change.commit_log if report.change is not None else []
    return with_count(Section(
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
    return table_row([sha(record.sha[:12]), escape(record.author, 120),
                      escape(record.authored_at), escape(record.committer, 120),
                      escape(record.committed_at), signed,
                      ", ".join(escape(ticket, 80) for ticket in record.tickets) or "—",
                      trailers or "—", escape(record.subject)])


def _control_sections(report: Report) -> list[Section]:
    """The per-control table, one per framework (``#### Controls: <framework> (n)``), in
    the registry's order with ``Other`` last; the first says what the tables count."""
    sections = []
    statuses = control_statuses(report)
    for position, group in enumerate(frameworks(report)):
        sections.append(with_count(Section(
            key=f"controls:{group.id}", title=f"#### Controls: {group.name}",
            intro="" if position else
            "Results per compliance control, one table per framework (a policy mapped to "
            "several controls counts in each).",
            columns=("Control", "Title", "Policies",
                     *(STATUS_COLUMNS[status] for status in statuses)),
            rows=_control_rows(group, statuses), noun=f"controls of {group.name}")))
    return sections


def _control_rows(group: FrameworkGroup, statuses: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        table_row([escape(group.local_id(row)), escape(group.title_of(row) or "—"),
                   ", ".join(escape(p) for p in row.policies) or "—",
                   *(f"{row.counts[status]:,}" for status in statuses)])
        for row in group.rows
    )


_WAIVER_STATE = {EXPIRED: "⚠️ ", STALE: "💤 "}
