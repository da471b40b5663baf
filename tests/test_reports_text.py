"""The text report: overridden findings always shown, change subjects, waiver upkeep."""
from __future__ import annotations

import random

from gate.color import BOLD, YELLOW
from gate.reports import RenderOptions
from gate.reports.text import render, summary_lines
from gate.results import FAIL, NOT_RENDERED, OVERRIDDEN, PASS, WAIVED, WARN
from tests.report_factory import (
    HELM_MISSING,
    HELM_NOT_ASKED,
    IMAGE_POLICY,
    KUSTOMIZE_OFF,
    TICKET_POLICY,
    UNJUDGED,
    UNUSED_COMPONENT,
    WINDOW_POLICY,
    governance_report,
    make_audit,
    make_change_result,
    make_error,
    make_override,
    make_policy,
    make_report,
    make_result,
    make_unjudged,
    make_waiver,
    make_waiver_use,
    unjudged_report,
    with_unjudged,
)

OVERRIDE_TEXT = ("Gate-Override: INC-1234 payment outage (by Ann Oncall <ann@example.com>, "
                 "commit 0123456789ab)")


def lines(options: RenderOptions | None = None) -> list[str]:
    return render(governance_report(), options or RenderOptions()).splitlines()


def test_overridden_findings_are_printed_without_verbose() -> None:
    output = lines()
    assert (f"overlays/prod/k.yaml:9: overridden: [no-latest-tag] image 'web' uses 'latest' "
            f"(Deployment prod/web, prod, overlays/prod, new) — {OVERRIDE_TEXT}") in output
    assert (f"change to prod: overridden: [release-window] prod is frozen until "
            f"2027-01-04T00:00:00Z (new) — {OVERRIDE_TEXT}") in output


def test_summary_counts_overridden_findings() -> None:
    summary = lines()[-1]
    assert summary.startswith("gate: FAIL: ")
    assert "1 blocking" in summary and "2 overridden" in summary and "1 waived" in summary


def test_overridden_alone_passes_but_is_still_shown() -> None:
    report = make_report([make_result(IMAGE_POLICY, status=OVERRIDDEN, message="uses latest",
                                      override=make_override())])
    text = render(report, RenderOptions())
    assert text.splitlines() == [
        "apps/web.yaml:1: overridden: [no-latest-tag] uses latest — Gate-Override: INC-1234 "
        "checkout is down (by Ops Person <ops@example.com>, commit aaaaaaaaaaaa)",
        "",
        "gate: PASS: 0 blocking, 0 warning(s), 0 passed, 1 overridden (1 resource(s), "
        "1 policies)",
    ]


def test_overridden_without_a_recorded_override_still_says_so() -> None:
    report = make_report([make_result(IMAGE_POLICY, status=OVERRIDDEN, message="m")])
    assert "overridden: [no-latest-tag] m — no override recorded" in render(report,
                                                                             RenderOptions())


def test_overridden_label_is_coloured_on_a_terminal() -> None:
    text = render(governance_report(), RenderOptions(color=True))
    assert f"{BOLD}{YELLOW}overridden:" in text


def test_change_findings_name_the_change_or_their_file() -> None:
    output = lines()
    # no place in a file: the change as it reaches the environment, which is not repeated
    assert ("change to staging: warning: [change-ticket] no change ticket in the commit "
            "messages (new)") in output
    # a finding that points into an overlay keeps file:line and says which environment
    assert ("overlays/prod/kustomization.yaml:14: [promotion-certified] image "
            "ghcr.io/acme/web:2.0 was never deployed to staging (prod, new)") in output


def test_change_finding_without_environment() -> None:
    report = make_report([make_change_result(TICKET_POLICY, "", status=FAIL, message="m")])
    assert render(report, RenderOptions()).startswith("change: [change-ticket] m\n")


def test_expired_and_stale_waivers_are_reported() -> None:
    output = lines()
    assert ("waivers.yaml:20: warning: waiver for image-digest expired on 2026-11-30: "
            "2 finding(s) it covered count again") in output
    assert ("waivers.yaml:28: note: waiver for resource-limits matched nothing (stale): "
            "remove it, or fix its match") in output
    assert not any(line.startswith("waivers.yaml:12") for line in output)  # active


def test_expired_waiver_that_matched_nothing() -> None:
    audit = make_audit(waivers=[make_waiver_use(state="expired", matched=0,
                                                expires="2026-01-01")])
    text = render(make_report([], audit=audit), RenderOptions())
    assert "waivers.yaml:3: warning: waiver for K8S001 expired on 2026-01-01\n" in text


def test_waived_findings_show_the_whole_waiver_with_verbose() -> None:
    assert not any(": waived: " in line for line in lines())
    verbose = lines(RenderOptions(verbose=True))
    assert ("base/web.yaml:1: waived: [required-labels] vendor sidecar pinned by the operator; "
            "ticket SEC-42; approved by Sam Security <sam@example.com>; expires 2027-01-31 "
            "(waivers.yaml:12)") in verbose


def test_inline_waiver_has_no_approver_or_expiry() -> None:
    waiver = make_waiver("sidecar", source="annotation gate.dev/waive.K8S001", ticket=None,
                         approved_by=None, expires=None)
    report = make_report([make_result(make_policy(), status=WAIVED, waiver=waiver)])
    assert ("apps/web.yaml:1: waived: [K8S001] sidecar (annotation gate.dev/waive.K8S001)"
            in render(report, RenderOptions(verbose=True)))


def test_hostile_values_stay_on_one_line_without_control_characters() -> None:
    hostile = "bad\nline\x1b[31m\x00"
    override = make_override(hostile, hostile, author=hostile)
    report = make_report(
        [make_change_result(WINDOW_POLICY, hostile, status=OVERRIDDEN, message=hostile,
                            override=override)],
        audit=make_audit(waivers=[make_waiver_use(hostile, source=hostile, state="stale",
                                                  matched=0)]),
    )
    output = render(report, RenderOptions()).splitlines()
    assert "\x1b" not in "".join(output) and "\x00" not in "".join(output)
    shown = "bad line\\u001b[31m\\u0000"  # visible escapes, not raw controls
    assert output[0].startswith(f"change to {shown}: overridden: [release-window] {shown}")
    assert output[1].startswith(f"{shown}: note: waiver for {shown} matched nothing")


def test_output_is_deterministic() -> None:
    original = governance_report()
    first = render(original, RenderOptions(verbose=True))
    results = list(original.results)
    random.Random(11).shuffle(results)
    shuffled = make_report(results, change=original.change, audit=original.audit)
    assert render(shuffled, RenderOptions(verbose=True)) == first


def test_plain_report_is_unchanged_by_governance() -> None:
    report = make_report([
        make_result(IMAGE_POLICY, status=FAIL, message="uses latest", finding_line=9),
        make_result(IMAGE_POLICY, status=WARN, message="meh", name="api"),
        make_result(IMAGE_POLICY, status=PASS, name="db"),
    ])
    assert render(report, RenderOptions()).splitlines() == [
        "apps/web.yaml:1: warning: [no-latest-tag] meh",
        "apps/web.yaml:9: [no-latest-tag] uses latest",
        "",
        "How to fix:",
        "  no-latest-tag: Fix the manifest. (gate explain no-latest-tag)",
        "",
        "gate: FAIL: 1 blocking, 1 warning(s), 1 passed (3 resource(s), 1 policies)",
    ]


# -- what gate did not judge ---------------------------------------------------------

UNJUDGED_LINES = [
    "apps/web: not judged: Kustomize overlay not rendered: Kustomize rendering is off "
    "(--kustomize off)",
    "components/extra: not judged: Kustomize component not referenced: no overlay uses it; "
    "its 3 file(s) are not judged on their own",
    "helm-chart: not judged: Helm chart not rendered: Helm charts are rendered only with "
    "--helm; its values files are still checked",
    "helm-chart: not judged: Helm chart not rendered: no helm binary on PATH (set GATE_HELM)",
]


def test_every_unjudged_item_is_a_line_without_verbose_sorted_and_counted() -> None:
    output = render(unjudged_report(), RenderOptions()).splitlines()
    assert output == [
        *UNJUDGED_LINES,
        "",
        "gate: PASS: 0 blocking, 0 warning(s), 1 passed, 4 not judged "
        "(1 resource(s), 1 policies)",
    ]


def test_unjudged_lines_follow_the_findings_and_precede_how_to_fix() -> None:
    output = render(unjudged_report(governance_report()), RenderOptions(verbose=True))
    lines = output.splitlines()
    first = lines.index(UNJUDGED_LINES[0])
    assert lines[first:first + 4] == UNJUDGED_LINES
    assert first > max(i for i, line in enumerate(lines)
                       if "[promotion-certified]" in line or ": waived: " in line
                       or "overridden:" in line or "waiver for" in line)
    assert lines[first + 4:first + 6] == ["", "How to fix:"]
    assert lines[-1].endswith("1 waived, 4 not judged (4 resource(s), 5 policies, "
                              "1 changed file(s))")


def test_unjudged_items_are_in_the_summary_lines() -> None:
    report = unjudged_report(make_report([], errors=[make_error("x.yaml", 3, "bad")]))
    assert summary_lines(report, False) == [
        "x.yaml:3: error: bad",
        *UNJUDGED_LINES,
        "gate: FAIL: 0 blocking, 0 warning(s), 0 passed, 1 input error(s), 4 not judged "
        "(0 resource(s), 0 policies)",
    ]


def test_not_judged_label_is_coloured_on_a_terminal() -> None:
    text = render(unjudged_report(), RenderOptions(color=True))
    assert f"helm-chart: {YELLOW}not judged:" in text


def test_hostile_unjudged_values_stay_on_one_line() -> None:
    hostile = "x\nfake.yaml:1: [no-latest-tag] forged\r\x1b[2J\x00\u2028end"
    report = make_report([], unjudged=[make_unjudged(hostile, hostile, NOT_RENDERED, hostile),
                                       make_unjudged("", "Helm chart", NOT_RENDERED, "why")])
    output = render(report, RenderOptions()).splitlines()
    flat = "x fake.yaml:1: [no-latest-tag] forged \\u001b[2J\\u0000 end"
    assert output[:2] == [
        "(no path): not judged: Helm chart not rendered: why",
        f"{flat}: not judged: {flat} not rendered: {flat}",
    ]
    assert "\x1b" not in "".join(output) and "\x00" not in "".join(output)
    assert output[-1].endswith("2 not judged (0 resource(s), 0 policies)")


def test_unjudged_output_is_deterministic() -> None:
    first = render(unjudged_report(), RenderOptions())
    for seed in range(5):
        items = [*UNJUDGED, HELM_NOT_ASKED]
        random.Random(seed).shuffle(items)
        shuffled = make_report([make_result(IMAGE_POLICY, status=PASS)], unjudged=items)
        assert render(shuffled, RenderOptions()) == first
    # items that differ only in category still have one order, whatever the set order
    same = [make_unjudged(category="not rendered"), make_unjudged(category="not referenced")]
    assert render(make_report([], unjudged=same), RenderOptions()) == render(
        make_report([], unjudged=same[::-1]), RenderOptions())


def test_a_report_without_unjudged_items_is_unchanged() -> None:
    report = make_report([make_result(IMAGE_POLICY, status=PASS)])
    assert "not judged" not in render(report, RenderOptions(verbose=True))
    assert with_unjudged(report, []).unjudged == []
    assert {KUSTOMIZE_OFF, UNUSED_COMPONENT, HELM_MISSING} < set(unjudged_report().unjudged)
