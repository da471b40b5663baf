"""The text report: overridden findings always shown, change subjects, waiver upkeep."""
from __future__ import annotations

import random

from gate.color import BOLD, YELLOW
from gate.reports import RenderOptions
from gate.reports.text import render
from gate.results import FAIL, OVERRIDDEN, PASS, WAIVED, WARN
from tests.report_factory import (
    IMAGE_POLICY,
    TICKET_POLICY,
    WINDOW_POLICY,
    governance_report,
    make_audit,
    make_change_result,
    make_override,
    make_policy,
    make_report,
    make_result,
    make_waiver,
    make_waiver_use,
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
    assert output[0].startswith("change to bad line[31m: overridden: [release-window] bad line")
    assert output[1].startswith("bad line[31m: note: waiver for bad line[31m matched nothing")


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
