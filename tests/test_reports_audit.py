"""The audit figures every format shares: per-control counts, overrides, what was judged."""
from __future__ import annotations

import random

from gate.reports.audit import NO_CONTROL, commit_range, controls, judged, overrides
from gate.results import BASELINED, FAIL, OVERRIDDEN, PASS, SKIP, WAIVED, WARN
from tests.report_factory import (
    IMAGE_POLICY,
    OVERRIDE,
    WINDOW_POLICY,
    governance_report,
    make_audit,
    make_change,
    make_change_result,
    make_override,
    make_policy,
    make_report,
    make_result,
)


def test_controls_count_results_per_control_sorted_with_no_control_last() -> None:
    rows = controls(governance_report())
    assert [row.id for row in rows] == ["ISO27001:A.12.1.2", "SOC2:CC8.1", NO_CONTROL]
    table = {row.id: (row.policies, row.counts) for row in rows}
    # release-window maps to both controls: its results count in each row
    assert table["SOC2:CC8.1"] == (
        ["no-latest-tag", "release-window"],
        {PASS: 2, FAIL: 0, WARN: 0, WAIVED: 0, BASELINED: 0, OVERRIDDEN: 2, SKIP: 0},
    )
    assert table["ISO27001:A.12.1.2"] == (
        ["change-ticket", "release-window"],
        {PASS: 2, FAIL: 0, WARN: 1, WAIVED: 0, BASELINED: 0, OVERRIDDEN: 1, SKIP: 0},
    )
    assert table[NO_CONTROL] == (
        ["promotion-certified", "required-labels"],
        {PASS: 0, FAIL: 1, WARN: 0, WAIVED: 1, BASELINED: 0, OVERRIDDEN: 0, SKIP: 0},
    )


def test_controls_cover_policies_without_results_and_only_seen_in_results() -> None:
    quiet = make_policy("quiet", controls=("C-2",))
    stray = make_policy("stray", controls=("C-1", "C-1"))  # a repeated id counts once
    report = make_report([make_result(stray, status=SKIP)], policies=[quiet])
    rows = controls(report)
    assert [(row.id, row.policies, row.counts[SKIP]) for row in rows] == [
        ("C-1", ["stray"], 1), ("C-2", ["quiet"], 0),
    ]


def test_controls_of_an_empty_report() -> None:
    assert controls(make_report([])) == []


def test_overrides_group_the_findings_they_let_through() -> None:
    report = governance_report()
    [use] = overrides(report)
    assert use.override == OVERRIDE
    assert [(r.policy.id, r.resource.name) for r in use.results] == [
        ("release-window", "prod"), ("no-latest-tag", "web"),
    ]
    assert use.policies == ["no-latest-tag", "release-window"]
    assert use.per_policy() == [("no-latest-tag", 1), ("release-window", 1)]


def test_overrides_include_unused_ones_and_ones_only_on_results() -> None:
    unused = make_override("INC-1", "nothing blocked", commit="1" * 40)
    stray = make_override("INC-2", "not in the audit", commit="2" * 40)
    report = make_report(
        [make_change_result(WINDOW_POLICY, status=OVERRIDDEN, override=stray),
         make_result(IMAGE_POLICY, status=OVERRIDDEN, override=None)],
        audit=make_audit(overrides=[unused]),
    )
    assert [(use.override.ticket, len(use.results)) for use in overrides(report)] == [
        ("INC-1", 0), ("INC-2", 1),
    ]
    assert overrides(make_report([])) == []


def test_overrides_are_deterministic() -> None:
    original = governance_report()
    results = list(original.results)
    random.Random(5).shuffle(results)
    shuffled = make_report(results, change=original.change, audit=original.audit)
    assert overrides(shuffled) == overrides(original)
    assert controls(shuffled) == controls(original)


def test_commit_range_and_judged_for_each_mode() -> None:
    commits = make_report([], change=make_change(base_sha="b" * 40, head_sha="c" * 40))
    assert commit_range(commits) == f"{'b' * 40}..{'c' * 40}"
    assert judged(commits) == f"commits {'b' * 40}..{'c' * 40} (origin/main..HEAD)"
    staged = make_report([], change=make_change(mode="staged", base_ref="HEAD",
                                                base_sha="e" * 40, head_ref="index",
                                                head_sha=None, merge_base=None, commits=0))
    assert commit_range(staged) == "staged"
    assert judged(staged) == f"staged changes: the index against HEAD {'e' * 40}"
    worktree = make_report([], change=make_change(mode="worktree", base_ref="HEAD",
                                                  base_sha=None, head_ref="working tree",
                                                  head_sha=None, merge_base=None, commits=0))
    assert commit_range(worktree) == "worktree"
    assert judged(worktree) == "worktree: the working tree against HEAD"
    check = make_report([])
    assert commit_range(check) is None
    assert judged(check) == "the files given to gate check"
