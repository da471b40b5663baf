"""The audit section's figures, computed once for every format that shows them.

Markdown and JSON both show the per-control table, what each emergency override let
through and what the run judged; they take these from here so that they never
disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gate.results import (
    FAIL,
    OVERRIDDEN,
    PASS,
    SKIP,
    WAIVED,
    WARN,
    OverrideRef,
    Report,
    Result,
)

NO_CONTROL = "(no control)"
COUNTED = (PASS, FAIL, WARN, WAIVED, OVERRIDDEN, SKIP)


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
