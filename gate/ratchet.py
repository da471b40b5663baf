"""The ratchet of ``gate diff``: a finding blocks only when the change brings it.

A finding at the head is *new* when the base had no finding of the same policy on
the same resource and field; debt already merged is reported but does not block
unrelated work (unless ``--all`` asks for every blocking finding).
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
