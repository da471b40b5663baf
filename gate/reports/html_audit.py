"""The HTML report's sections of record: the change, a release, and the audit.

The change ``gate diff`` judged (compared refs, changed files, the per-commit change log
with signatures, trailers and tickets, rollbacks) and the resources it deletes, the
certification table of ``gate release verify``, and the audit (the record, one
per-control table per framework, waivers, overrides, change evidence, the fingerprint's
inputs). Also how an emergency override is named, which the callout shares.
"""
from __future__ import annotations

from collections.abc import Sequence

from gate.reports.audit import (
    SIGNATURE_WORDS,
    FrameworkGroup,
    OverrideUse,
    audit_record,
    frameworks,
    identity,
    overrides,
    signature_words,
)
from gate.reports.contents import (
    change_intro,
    changed_path,
    control_statuses,
    deleted_resources,
)
from gate.reports.html_page import state, table, text
from gate.reports.html_section import (
    NONE,
    STATUS_TITLES,
    Section,
    listing,
    mono,
    place,
    quantity,
    untrusted,
)
from gate.results import (
    Audit,
    ChangeSummary,
    CommitRecord,
    OverrideRef,
    ReleaseEvidence,
    Report,
    RollbackRecord,
)

# -- overrides ---------------------------------------------------------------------------


def override_text(override: OverrideRef) -> str:
    """``Gate-Override: INC-1 by who in commit sha: reason; approved by...``, escaped."""
    approval = (f"; approved by {untrusted(override.approved_by)} in commit "
                f"{mono(override.approval_commit or NONE)}" if override.approved_by else
                "; no approval recorded")
    return (f"<strong>{untrusted(override.trailer)}: {untrusted(override.ticket)}</strong> by "
            f"{untrusted(override.author)} in commit {mono(override.commit)}: "
            f"{untrusted(override.reason)}{approval}")


def let_through(use: OverrideUse) -> str:
    per_policy = use.per_policy()
    if not per_policy:
        return "no findings of this report"
    return ", ".join(f"{quantity(count, 'finding')} of {untrusted(policy)}"
                     for policy, count in per_policy)


# -- the change: files, change log, rollbacks, deleted resources; a release ------------


def change_section(report: Report) -> Section:
    change = report.change
    if change is None:
        return Section("change", "Change")
    intro = change_intro(change, text=untrusted, digest=mono, names=listing)
    files = [[untrusted(f.status), untrusted(changed_path(f))] for f in change.files]
    parts = [
        Section("changed-files", "Changed files", table(("Status", "File"), files),
                count=len(files), level=3, keep=True),
        _commit_log_section(change),
        _rollbacks_section(change),
    ]
    content = "".join(part.html() for part in parts if part.shown)
    return Section("change", "Change", content, intro=intro, keep=True)


def _commit_log_section(change: ChangeSummary) -> Section:
    rows = [_commit_row(commit) for commit in change.commit_log]
    return Section("change-log", "Change log", table(
        ("Commit", "Subject", "Author", "Authored", "Committer", "Committed", "Signature",
         "Trailers", "Tickets"), rows),
        intro="Every commit of the change, newest first, as git records it.",
        count=len(rows), level=3)


def _commit_row(commit: CommitRecord) -> list[str]:
    signature = commit.signature
    words = signature_words(signature)
    # A status letter gate does not know is named as a value, not styled as a state.
    signed = state(words) if signature.status in SIGNATURE_WORDS else untrusted(words)
    for label, value in (("signer", signature.signer), ("key", signature.key),
                         ("fingerprint", signature.fingerprint)):
        if value:
            signed += f"<br>{label}: {untrusted(value)}"
    trailers = "<br>".join(f"{untrusted(key)}: {untrusted(value)}"
                           for key, values in commit.trailers for value in values)
    return [mono(commit.sha), untrusted(commit.subject), untrusted(commit.author),
            untrusted(commit.authored_at), untrusted(commit.committer),
            untrusted(commit.committed_at), signed, trailers or NONE, listing(commit.tickets)]


def _rollbacks_section(change: ChangeSummary) -> Section:
    rows = [_rollback_row(rollback) for rollback in change.rollbacks]
    return Section("rollbacks", "Rollbacks", table(
        ("Environment", "Back to release", "Moves", "Let through"), rows),
        intro="Environments this change only moves back to what an earlier release tag "
              "deployed.",
        count=len(rows), level=3)


def _rollback_row(rollback: RollbackRecord) -> list[str]:
    moves = "<br>".join(untrusted(move) for move in rollback.moves) or NONE
    let_through = (state("rollback allowed") + " by " + untrusted(rollback.let_through)
                   if rollback.let_through else NONE)
    return [untrusted(rollback.environment), untrusted(rollback.release), moves, let_through]


def deleted_section(report: Report) -> Section:
    rows = [[untrusted(r.environment or NONE), untrusted(identity(r.kind, r.namespace, r.name)),
             place(r.rendered_by or r.file, None if r.rendered_by else r.line)]
            for r in deleted_resources(report)]
    return Section("deleted", "Resources this change deletes",
                   table(("Environment", "Resource", "Defined in"), rows), count=len(rows))


def release_section(release: ReleaseEvidence | None) -> Section:
    """gate release verify: where the certifying environment ran each production version."""
    if release is None:
        return Section("release", "Release")
    rows = [[untrusted(row.microservice), untrusted(row.environment), mono(row.version),
             place(row.file, row.line),
             state("certified") + f" ({untrusted(release.certified_in)} at "
             f"{untrusted(row.certified_at)})" if row.certified_at else
             state("not certified") + f" ({untrusted(release.certified_in)} never ran it)"]
            for row in release.rows]
    intro = (f"Release tag {untrusted(release.tag)} (commit {mono(release.commit)}). "
             f"{untrusted(release.rule)}. Microservice identity: "
             f"{untrusted(release.microservice_rule)}.")
    if release.unread:
        intro += " " + state("incomplete") + ": not read: " + listing(release.unread) + "."
    return Section("release", f"Release {release.tag}: certification", table(
        ("Microservice", "Environment", "Version", "Set at", "Certification"), rows),
        intro=intro, count=len(rows), keep=True)


# -- the audit ---------------------------------------------------------------------------


def audit_section(report: Report) -> Section:
    audit = report.audit
    if audit is None:
        return Section("audit", "Audit")
    parts = [
        Section("record", "Record", table(("Record", "Value"), _audit_rows(report, audit)),
                level=3, keep=True),
        *_control_sections(report),
        _waivers_section(audit),
        _overrides_section(report),
        _evidence_section(audit),
        Section("inputs", "Fingerprint inputs", table(
            ("Input", "sha256"),
            [[untrusted(name), mono(digest)] for name, digest in audit.inputs]),
            intro="The files the fingerprint covers: policies, config and waivers.",
            count=len(audit.inputs), level=3),
    ]
    return Section("audit", "Audit", "".join(part.html() for part in parts if part.shown),
                   intro="What this run judged, when, and by which rules: the record to "
                          "file as evidence.",
                   keep=True)


def _audit_rows(report: Report, audit: Audit) -> list[list[str]]:
    facts = audit_record(report, audit, text=untrusted, digest=mono, names=listing)
    return [[text(name), value] for name, value in facts]


def _control_sections(report: Report) -> list[Section]:
    statuses = control_statuses(report)
    sections = []
    for position, group in enumerate(frameworks(report)):
        sections.append(Section(
            f"controls-{position + 1}", f"Controls: {group.name}",
            table(("Control", "Title", "Policies",
                    *(STATUS_TITLES[status] for status in statuses)),
                   _control_rows(group, statuses)),
            intro="" if position else
            "Results per compliance control, one table per framework (a policy mapped to "
            "several controls counts in each).",
            count=len(group.rows), level=3))
    return sections


def _control_rows(group: FrameworkGroup, statuses: Sequence[str]) -> list[list[str]]:
    return [[untrusted(group.local_id(row)), untrusted(group.title_of(row) or NONE),
             listing(row.policies), *(f"{row.counts[status]:,}" for status in statuses)]
            for row in group.rows]


def _waivers_section(audit: Audit) -> Section:
    rows = [[place(w.source, None), untrusted(w.policy), state(w.state), f"{w.matched:,}",
             untrusted(w.reason), untrusted(w.ticket or NONE), untrusted(w.approved_by or NONE),
             untrusted(w.expires or NONE)] for w in audit.waivers]
    return Section("waivers", "Waivers", table(
        ("Waiver", "Policy", "State", "Findings", "Reason", "Ticket", "Approved by",
         "Expires"), rows), count=len(rows), level=3)


def _overrides_section(report: Report) -> Section:
    rows = [[untrusted(use.override.trailer), untrusted(use.override.ticket),
             untrusted(use.override.reason), untrusted(use.override.author),
             mono(use.override.commit), untrusted(use.override.approved_by or NONE),
             mono(use.override.approval_commit) if use.override.approval_commit else NONE,
             let_through(use)] for use in overrides(report)]
    return Section("overrides", "Emergency overrides", table(
        ("Trailer", "Ticket", "Reason", "Author", "Commit", "Approved by", "Approval commit",
         "Let through"), rows), count=len(rows), level=3)


def _evidence_section(audit: Audit) -> Section:
    rows = [[untrusted(e.label), untrusted(e.environment or NONE), listing(e.values),
             untrusted(e.policy)] for e in audit.evidence]
    return Section("evidence", "Change evidence",
                   table(("Evidence", "Environment", "Values", "Policy"), rows),
                   count=len(rows), level=3)
