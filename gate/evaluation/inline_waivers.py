"""Inline waivers: an annotation ``gate.dev/waive.<policy-id>: <reason>`` on a resource
waives that policy's findings on it, where the policy allows it (``inline_waivers``).

Part of judging one resource (gate/evaluation/policy.py); waivers from a waivers file,
with approvers and expiry, are governance's (gate/governance/waivers.py).
"""
from __future__ import annotations

from typing import Any

from gate.blank import blank

INLINE_PREFIX = "gate.dev/waive."


def inline_reason(obj: Any, policy_id: str) -> str | None:
    """The reason an annotation ``gate.dev/waive.<policy-id>`` gives, if any."""
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return None
    reason = annotations.get(f"{INLINE_PREFIX}{policy_id}")
    if not isinstance(reason, str) or blank(reason):
        return None  # a reason no one can read waives nothing
    return reason.strip()
