"""The audit section's figures, computed once for every format that shows them."""
from __future__ import annotations

from dataclasses import dataclass, field

from gate.results import FAIL, OVERRIDDEN, PASS, SKIP, WAIVED, WARN, Report

NO_CONTROL = "(no control)"
COUNTED = (PASS, FAIL, WARN, WAIVED, OVERRIDDEN, SKIP)


@dataclass
class ControlRow:
    """One compliance control: the policies mapped to it and how their results came out."""

    id: str
    policies: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))


def controls(report: Report) -> list[ControlRow]:
    """A row per control id the report's policies name (and one for policies naming none),
    sorted by id, with the results of those policies counted by status."""
    rows: dict[str, ControlRow] = {}
    by_policy: dict[str, list[ControlRow]] = {}
    for policy in report.policies:
        for control in policy.controls or (NO_CONTROL,):
            row = rows.setdefault(control, ControlRow(control))
            row.policies.append(policy.id)
            by_policy.setdefault(policy.id, []).append(row)
    for result in report.results:
        for row in by_policy.get(result.policy.id, []):
            row.counts[result.status] += 1
    return [rows[key] for key in sorted(rows, key=lambda k: (k == NO_CONTROL, k))]


def commit_range(report: Report) -> str:
    """What was judged: ``base..head`` shas, the index or the working tree, or paths."""
    change = report.change
    if change is None:
        return "the files given to gate check"
    base = change.merge_base or change.base_sha or change.base_ref
    if change.mode == "commits":
        return f"{base}..{change.head_sha}"
    return f"{base}..{change.head_ref}"
