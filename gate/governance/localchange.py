"""Change policies and local changes: a freeze governs merging, not committing.

``gate diff --staged`` (the pre-commit hook) and ``gate diff --worktree`` judge a change
that is not yet committed, let alone proposed for merging. Change policies
(``target: change``: release windows, change tickets, certified images) govern when and
how a change merges; applied to a local commit they refuse work on a feature branch at
night during a freeze, and teach developers ``git commit --no-verify``. So, unless the
config sets ``judge_change_policies_locally: true``, their results on a local change are
set aside, and the report lists every change policy that applies to the change as not
judged, saying why (never silently).
"""
from __future__ import annotations

from gate.results import LOCAL_CHANGE, Evidence, Result, Unjudged

#: The modes of ``gate diff`` that judge a change not yet committed.
LOCAL_MODES = ("staged", "worktree")
#: The ``.gate.yaml`` key that makes local changes judged by change policies too.
SETTING = "judge_change_policies_locally"
_FLAGS = {"staged": "--staged", "worktree": "--worktree"}


def held_for_merge(
    mode: str, judge_locally: bool, config_file: str | None,
    results: list[Result], evidence: list[Evidence],
) -> tuple[list[Result], list[Evidence], list[Unjudged]]:
    """The change policies' results and evidence that count for a change of ``mode``, and
    what was not judged: on a local change (unless ``judge_locally``), none count, and
    each change policy that applies to the change is listed, with the environments it
    applies to. ``config_file`` (as reports name it, None without one) is where the
    setting that changes this lives."""
    if mode not in LOCAL_MODES or judge_locally:
        return results, evidence, []
    environments: dict[str, set[str]] = {}
    for result in results:
        environments.setdefault(result.policy.id, set()).add(result.resource.environment)
    where = config_file or ".gate.yaml"
    unjudged = [
        Unjudged(config_file or "", f"change policy {policy_id}", LOCAL_CHANGE,
                 f"it governs merging, not committing, so it judges this change "
                 f"({_environments(names)}) when it merges (gate diff --base); set "
                 f"'{SETTING}: true' in {where} to judge it with gate diff {_FLAGS[mode]} too")
        for policy_id, names in sorted(environments.items())
    ]
    return [], [], unjudged


def _environments(names: set[str]) -> str:
    shown = [name or "no environment" for name in sorted(names)]
    return ", ".join(shown)
