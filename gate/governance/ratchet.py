"""The ratchet of ``gate diff``: a finding blocks only when the change brings it.

A finding at the head is *new* when the base had no finding of the same policy on
the same resource and field; debt already merged is reported but does not block
unrelated work (unless ``--all`` asks for every blocking finding). The existing
findings that do not block are counted per policy, and listed only when asked for
(``--show-existing``): on a repository with debt they would bury what the change adds.
"""
from __future__ import annotations

from dataclasses import replace

from gate.results import FAIL, WAIVED, WARN, Result

#: The statuses that count as a finding on either side (a waived one is still there).
FINDINGS = (FAIL, WARN, WAIVED)


def finding_key(result: Result) -> tuple[str, tuple[str, str, str, str, str], str]:
    """A finding's identity across the two sides: policy, resource, and field (or message)."""
    return (result.policy.id, result.resource.key(), result.field or result.message)


def classify(head: list[Result], base: list[Result], every: bool) -> list[Result]:
    """Mark head findings new or existing; existing ones block only with ``every``."""
    known = {finding_key(result) for result in base if result.status in FINDINGS}
    classified: list[Result] = []
    for result in head:
        if result.status not in FINDINGS:
            classified.append(replace(result, new=False))
            continue
        new = finding_key(result) not in known
        status = result.status
        if status == FAIL and not new and not every:
            status = WARN  # already at the base: reported, but it does not block this change
        classified.append(replace(result, new=new, status=status))
    return classified


def is_existing(result: Result) -> bool:
    """An existing finding that does not block: a warning the base already had."""
    return result.new is False and result.status == WARN


def existing_counts(results: list[Result]) -> dict[str, int]:
    """How many existing, non-blocking findings each policy has, by policy id."""
    counts: dict[str, int] = {}
    for result in results:
        if is_existing(result):
            counts[result.policy.id] = counts.get(result.policy.id, 0) + 1
    return dict(sorted(counts.items()))
