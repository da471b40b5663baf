"""What the sections of the Markdown and HTML reports hold, computed once for both.

Which results a section lists and in which order, which statuses its table counts and
the counts themselves: both formats take them from here, so that they never disagree
and each only formats.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from gate.results import (
    BASELINED,
    FAIL,
    OVERRIDDEN,
    PASS,
    SEVERITIES,
    WAIVED,
    WARN,
    ChangedFile,
    ChangeSummary,
    Report,
    ResourceRef,
    Result,
    severity_rank,
)


def in_order(report: Report, status: str) -> list[Result]:
    """The results of ``status``, in report order (by file, resource and policy)."""
    return sorted(report.by_status(status), key=Result.sort_key)


def findings(report: Report, status: str) -> list[Result]:
    """Blocking findings or warnings as their sections list them: by environment, the
    most severe first, then in report order."""
    return sorted(report.by_status(status), key=lambda r: (
        r.resource.environment, _rank(r.policy.severity), r.sort_key()))


def _rank(severity: str) -> int:
    return severity_rank(severity) if severity in SEVERITIES else len(SEVERITIES)


def counted_statuses(report: Report) -> tuple[str, ...]:
    """The statuses a per-policy table counts: baselined and overridden only when the
    report has such results, so that the usual table stays narrow."""
    return (PASS, FAIL, WARN, WAIVED, *((BASELINED,) if report.count(BASELINED) else ()),
            *((OVERRIDDEN,) if report.count(OVERRIDDEN) else ()))


def control_statuses(report: Report) -> tuple[str, ...]:
    """The statuses a per-control table counts: overridden always (an auditor looks for
    it), baselined only when the report has such results."""
    return (PASS, FAIL, WARN, WAIVED, *((BASELINED,) if report.count(BASELINED) else ()),
            OVERRIDDEN)


def environment_statuses(report: Report) -> tuple[str, ...]:
    """The statuses the per-environment table counts, blocking first, passed last."""
    return (FAIL, WARN, WAIVED, *((BASELINED,) if report.count(BASELINED) else ()),
            *((OVERRIDDEN,) if report.count(OVERRIDDEN) else ()), PASS)


def policy_counts(report: Report) -> dict[tuple[str, str], int]:
    """Results per (policy id, status)."""
    counts: dict[tuple[str, str], int] = {}
    for result in report.results:
        key = (result.policy.id, result.status)
        counts[key] = counts.get(key, 0) + 1
    return counts


def environment_counts(report: Report, statuses: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """Results per environment (sorted by name) and status, for ``statuses`` only;
    results of no environment are not counted."""
    counts: dict[str, dict[str, int]] = {}
    for result in report.results:
        environment = result.resource.environment
        if environment:
            row = counts.setdefault(environment, dict.fromkeys(statuses, 0))
            if result.status in row:
                row[result.status] += 1
    return dict(sorted(counts.items()))


def existing_not_listed(report: Report) -> dict[str, int]:
    """gate diff without --show-existing: the existing findings it does not list, per
    policy; empty when it lists them, or for gate check."""
    change = report.change
    return change.existing if change is not None and not change.existing_listed else {}


def deleted_resources(report: Report) -> list[ResourceRef]:
    """The resources the change deletes (none for gate check)."""
    return report.change.deleted if report.change is not None else []


def change_intro(change: ChangeSummary, text: Callable[[str], str],
                 digest: Callable[[str], str], names: Callable[[Sequence[str]], str]) -> str:
    """What the change section says first: the refs compared, which findings block, how
    many commits, the environments reached and gate's notes. Each format passes how it
    writes a value: ``text`` an untrusted one, ``digest`` a sha, ``names`` a list."""
    base = text(change.base_ref) + (f" ({digest(change.merge_base)})"
                                    if change.merge_base else "")
    head = text(change.head_ref) + (f" ({digest(change.head_sha)})"
                                    if change.head_sha else "")
    rule = ("only findings this change adds block" if change.blocking == "new"
            else "every blocking finding blocks")
    intro = f"Compared {base} with {head}: {rule}."
    if change.mode == "commits":
        intro += f" {change.commits:,} {'commit' if change.commits == 1 else 'commits'}."
    if change.environments:
        intro += f" Environments it reaches: {names(change.environments)}."
    if change.notes:
        intro += " " + " ".join(text(note) for note in change.notes)
    return intro


def changed_path(changed: ChangedFile) -> str:
    """A changed file's path; ``old → new`` for a rename."""
    return changed.path if not changed.old_path else f"{changed.old_path} → {changed.path}"
