"""The audit section's figures, computed once for every format that shows them.

Markdown, HTML and JSON all show the per-control table, what each emergency override let
through and what the run judged, and name findings, resources and commit signatures
alike; they take these from here so that they never disagree.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gate.governance.frameworks import FRAMEWORKS, OTHER, Framework, framework_of, sort_key, split
from gate.results import (
    ACTIVE,
    BASELINED,
    EXPIRED,
    FAIL,
    OVERRIDDEN,
    PASS,
    SKIP,
    STALE,
    WAIVED,
    WARN,
    Audit,
    CommitSignature,
    OverrideRef,
    Report,
    Result,
    RollbackRecord,
)

NO_CONTROL = "(no control)"
COUNTED = (PASS, FAIL, WARN, WAIVED, BASELINED, OVERRIDDEN, SKIP)


@dataclass
class ControlRow:
    """One compliance control: the policies mapped to it and how their results came out."""

    id: str
    policies: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))


def controls(report: Report) -> list[ControlRow]:
    """A row per control id the report's policies name, sorted by id, then one row
    (``NO_CONTROL``) for the policies that name none; each counts the results of its
    policies by status. A policy mapped to two controls counts in both rows."""
    rows: dict[str, ControlRow] = {}
    by_policy: dict[str, list[ControlRow]] = {}
    for policy in report.all_policies():
        for control in dict.fromkeys(policy.controls or (NO_CONTROL,)):
            row = rows.setdefault(control, ControlRow(control))
            row.policies.append(policy.id)
            by_policy.setdefault(policy.id, []).append(row)
    for result in report.results:
        for row in by_policy.get(result.policy.id, []):
            row.counts[result.status] += 1
    return [rows[key] for key in sorted(rows, key=lambda k: (k == NO_CONTROL, k))]


@dataclass
class FrameworkGroup:
    """The control rows of one framework (``framework`` None: the ``Other`` group, ids of
    frameworks gate does not know and the ``NO_CONTROL`` row)."""

    framework: Framework | None
    rows: list[ControlRow] = field(default_factory=list)

    @property
    def id(self) -> str:
        return OTHER if self.framework is None else self.framework.key

    @property
    def title(self) -> str:
        return OTHER if self.framework is None else self.framework.title

    @property
    def version(self) -> str | None:
        return None if self.framework is None else self.framework.version

    @property
    def url(self) -> str | None:
        return None if self.framework is None else self.framework.url

    @property
    def name(self) -> str:
        """``CIS Kubernetes Benchmark v1.9.0``, or ``Other``."""
        return OTHER if self.framework is None else self.framework.name

    def local_id(self, row: ControlRow) -> str:
        """How a row names its control within the group: ``5.2.2`` under CIS; the whole
        id under ``Other``."""
        parts = split(row.id)
        return parts[1] if self.framework is not None and parts is not None else row.id

    def title_of(self, row: ControlRow) -> str | None:
        """The registered title of a row's control, or None."""
        if self.framework is None:
            return None
        return self.framework.controls.get(self.local_id(row))


def frameworks(report: Report) -> list[FrameworkGroup]:
    """``controls(report)`` grouped by framework: the registered frameworks in registry
    order, each with its controls in natural order (``5.2.9`` before ``5.2.10``), then
    ``Other`` (unknown frameworks, by id in natural order, and the ``NO_CONTROL`` row
    last). Frameworks no policy names are left out."""
    groups: dict[str, FrameworkGroup] = {}
    for row in controls(report):
        framework = None if row.id == NO_CONTROL else framework_of(row.id)
        key = OTHER if framework is None else framework.key
        groups.setdefault(key, FrameworkGroup(framework)).rows.append(row)
    for group in groups.values():
        group.rows.sort(key=lambda row: (row.id == NO_CONTROL, sort_key(row.id)))
    order = [framework.key for framework in FRAMEWORKS] + [OTHER]
    return [groups[key] for key in order if key in groups]


@dataclass
class OverrideUse:
    """An emergency override and the blocking findings it let through."""

    override: OverrideRef
    results: list[Result] = field(default_factory=list)

    @property
    def policies(self) -> list[str]:
        """Ids of the policies whose findings it let through, sorted."""
        return sorted({result.policy.id for result in self.results})

    def per_policy(self) -> list[tuple[str, int]]:
        """(policy id, findings let through), sorted by id."""
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.policy.id] = counts.get(result.policy.id, 0) + 1
        return sorted(counts.items())


def overrides(report: Report) -> list[OverrideUse]:
    """Every override the run used, in the audit's order (then any only seen on a
    result), each with the overridden results that name it, in report order."""
    uses: dict[OverrideRef, OverrideUse] = {}
    for override in report.audit.overrides if report.audit is not None else []:
        uses.setdefault(override, OverrideUse(override))
    extra: dict[OverrideRef, OverrideUse] = {}
    for result in report.results:
        if result.status != OVERRIDDEN or result.override is None:
            continue
        use = uses.get(result.override) or extra.setdefault(result.override,
                                                            OverrideUse(result.override))
        use.results.append(result)
    ordered = sorted(extra.values(), key=lambda u: (u.override.commit, u.override.value))
    return [*uses.values(), *ordered]


def commit_range(report: Report) -> str | None:
    """What ``gate diff`` judged: ``base..head`` shas, ``staged`` or ``worktree``;
    ``None`` for ``gate check``."""
    change = report.change
    if change is None:
        return None
    if change.mode == "commits":
        return f"{change.base_sha or change.base_ref}..{change.head_sha or change.head_ref}"
    return change.mode


def judged(report: Report) -> str:
    """What the run judged, in words: the commit range, the index or working tree
    against HEAD, or the files given to ``gate check``."""
    change = report.change
    if change is None:
        return "the files given to gate check"
    head_commit = f" {change.base_sha}" if change.base_sha else ""
    if change.mode == "staged":
        return f"staged changes: the index against {change.base_ref}{head_commit}"
    if change.mode == "worktree":
        return f"worktree: the working tree against {change.base_ref}{head_commit}"
    return f"commits {commit_range(report)} ({change.base_ref}..{change.head_ref})"



def audit_record(report: Report, audit: Audit, text: Callable[[str], str],
                 digest: Callable[[str], str], names: Callable[[Sequence[str]], str],
                 ) -> list[tuple[str, str]]:
    """The audit record, (fact, value) rows: what was judged, when, by which gate and
    rules. Each format passes how it writes a value: ``text`` an untrusted one (it also
    gets the facts' own punctuation, which it may escape), ``digest`` a sha, ``names`` a
    list of names."""
    change = report.change
    facts = [("Judged", text(judged(report)))]
    if change is not None:
        if change.merge_base:
            facts.append(("Merge base", digest(change.merge_base)))
        if change.mode == "commits":
            facts.append(("Commits", f"{change.commits:,}"))
        facts.append(("Environments", names(change.environments)))
    facts += [
        ("Evaluated at", text(f"{audit.evaluated_at} (time source: {audit.time_source})")),
        ("gate version", text(report.tool_version)),
        ("Rules read from", text(audit.rules_from)),
        ("sha256 fingerprint", digest(audit.fingerprint)),
        ("Fail on", text(report.fail_on)),
    ]
    if audit.baseline is not None:
        baseline = audit.baseline
        findings = sum(use.matched for use in baseline.entries if use.state == ACTIVE)
        facts.append(("Baseline", f"{text(baseline.file)}: {findings:,} baselined "
                                  f"{'finding' if findings == 1 else 'findings'}; entries: "
                                  f"{baseline.count(ACTIVE):,} active, "
                                  f"{baseline.count(EXPIRED):,} expired, "
                                  f"{baseline.count(STALE):,} stale"))
    return facts


# -- how every report names things ---------------------------------------------------

#: git's signature status letters (``%G?``, git-log(1)) in words.
SIGNATURE_WORDS = {
    "G": "good signature",
    "B": "bad signature",
    "U": "good signature of unknown validity",
    "X": "good signature that has expired",
    "Y": "good signature made by an expired key",
    "R": "good signature made by a revoked key",
    "E": "signature cannot be checked (missing key?)",
    "N": "not signed",
}


def signature_words(signature: CommitSignature) -> str:
    """A commit's signature status in words, as git reports it: ``good signature``,
    ``not signed``...; a letter git may add later is named, never hidden."""
    return SIGNATURE_WORDS.get(signature.status,
                               f"signature status {signature.status!r} (unknown to gate)")


def finding_message(result: Result) -> str:
    """What a finding says: its message (the policy's title without one), and the field
    it is about."""
    message = result.message or result.policy.title
    return f"{message} (at {result.field})" if result.field else message


def identity(kind: str, namespace: str, name: str) -> str:
    """``Deployment prod/web``; ``(unnamed)`` for a resource without a name."""
    return f"{kind} {namespace + '/' if namespace else ''}{name or '(unnamed)'}"


def subject(result: Result) -> str:
    """What a result is about: ``change to prod`` for a change policy, else the resource
    with its environment and the overlay that rendered it."""
    resource = result.resource
    if resource.is_change:
        return resource.subject()
    text = identity(resource.kind, resource.namespace, resource.name)
    context = [part for part in (resource.environment, resource.rendered_by) if part]
    if context:
        text += f" ({', '.join(context)})"
    return text


def location(file: str, line: int | None) -> str:
    """``file:line``, ``file``, or "" without a file."""
    if not file:
        return ""
    return file if line is None else f"{file}:{line}"


def rollback_text(record: RollbackRecord) -> str:
    """One rollback in words, the same in every format: ``prod rolls back to release
    v1.0.0 (ms1: 1.1.0 -> 1.0.0); let through by allow_rollback of year-end``."""
    text = f"{record.environment} rolls back to release {record.release}"
    if record.moves:
        text += f" ({'; '.join(record.moves)})"
    if record.let_through:
        text += f"; let through by allow_rollback of {record.let_through}"
    return text
