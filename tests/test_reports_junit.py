"""The JUnit XML report: structure, counts, escaping, determinism and schema validity."""
from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from gate.reports import RenderOptions
from gate.reports._escape import one_line
from gate.reports.junit import ERRORS_SUITE, UNJUDGED_SUITE, render
from gate.results import FAIL, NOT_RENDERED, OVERRIDDEN, PASS, SKIP, WAIVED, WARN, Report
from tests.report_factory import (
    HELM_NOT_ASKED,
    UNJUDGED,
    governance_report,
    make_change_result,
    make_error,
    make_note,
    make_override,
    make_policy,
    make_report,
    make_result,
    make_unjudged,
    make_waiver,
    unjudged_report,
    with_unjudged,
)

# The Jenkins xUnit plugin's junit-10.xsd, kept beside the project (not part of it).
JUNIT_XSD = Path(__file__).resolve().parents[1].parent / "shared" / "schemas" / "junit-10.xsd"

ROOT_POLICY = make_policy(
    "K8S001",
    title="Containers must not run as root",
    controls=("CIS-5.2.6", "NIST-AC-6"),
    remediation="Set securityContext.runAsNonRoot: true.",
)
PROBE_POLICY = make_policy("K8S002", title="Probes", severity="low", enforcement="warn")
IMAGE_POLICY = make_policy("K8S003", title="Pinned images", severity="medium")


def sample_report() -> Report:
    return make_report(
        [
            # three findings of one policy on one resource: one testcase
            make_result(ROOT_POLICY, status=FAIL, message="container web runs as root",
                        line=12, finding_line=20, field="spec.template.spec.containers[0]"),
            make_result(ROOT_POLICY, status=FAIL, message="container log runs as root",
                        line=12, finding_line=30),
            make_result(ROOT_POLICY, status=FAIL, message="initContainer runs as root",
                        line=12, finding_line=40),
            make_result(ROOT_POLICY, status=PASS, name="api", file="apps/api.yaml", line=1),
            make_result(ROOT_POLICY, status=WAIVED, name="db", file="apps/db.yaml", line=3,
                        waiver="legacy image, ticket SEC-42"),
            make_result(PROBE_POLICY, status=WARN, message="no readinessProbe", line=12,
                        finding_line=25),
            make_result(PROBE_POLICY, status=PASS, name="api", file="apps/api.yaml", line=1),
            make_result(IMAGE_POLICY, status=SKIP, message="no containers to check",
                        kind="ConfigMap", name="settings", file="apps/cm.yaml", line=1),
        ],
        errors=[make_error("apps/broken.yaml", 7, "could not parse YAML: bad indentation")],
        notes=[make_note("apps/notes.yaml", 1, "skipped: not a Kubernetes object")],
    )


def parse(xml: str) -> JUnitXml:
    return JUnitXml.fromstring(xml.encode("utf-8"))


def suites(xml: JUnitXml) -> dict[str, TestSuite]:
    return {suite.name: suite for suite in xml}


def cases(suite: TestSuite) -> dict[str, TestCase]:
    return {case.name: case for case in suite}


def element_attrs(xml: str, tag: str) -> list[dict[str, str]]:
    return [dict(element.attrib) for element in ET.fromstring(xml).iter(tag)]


@pytest.fixture()
def xml_text() -> str:
    return render(sample_report(), RenderOptions())


def test_starts_with_an_xml_declaration(xml_text: str) -> None:
    assert xml_text.startswith("<?xml version=")
    assert ET.fromstring(xml_text).tag == "testsuites"


def test_one_suite_per_policy_sorted_by_id_then_errors(xml_text: str) -> None:
    names = [suite.name for suite in parse(xml_text)]
    assert names == ["K8S001", "K8S002", "K8S003", ERRORS_SUITE]


def test_totals_on_root_and_suites(xml_text: str) -> None:
    xml = parse(xml_text)
    assert (xml.tests, xml.failures, xml.errors) == (7, 1, 1)
    by_name = suites(xml)
    counts = {
        name: (suite.tests, suite.failures, suite.errors, suite.skipped)
        for name, suite in by_name.items()
    }
    assert counts == {
        "K8S001": (3, 1, 0, 1),  # web (3 findings, one case), api passed, db waived
        "K8S002": (2, 0, 0, 0),  # the warning is not a failure
        "K8S003": (1, 0, 0, 1),
        ERRORS_SUITE: (1, 0, 1, 0),
    }


def test_findings_on_one_resource_collapse_into_one_testcase(xml_text: str) -> None:
    suite = suites(parse(xml_text))["K8S001"]
    web = cases(suite)["Deployment prod/web (apps/web.yaml:12)"]
    (failure,) = web.result
    assert isinstance(failure, Failure)
    assert failure.message == "container web runs as root (+2 more)"
    assert failure.type == "high"
    body = failure.text
    field = "spec.template.spec.containers[0]"
    assert f"apps/web.yaml:20: container web runs as root (at {field})" in body
    assert "apps/web.yaml:30: container log runs as root" in body
    assert "apps/web.yaml:40: initContainer runs as root" in body
    assert body.rstrip().endswith("Remediation: Set securityContext.runAsNonRoot: true.")


def test_classname_is_policy_and_names_are_unique(xml_text: str) -> None:
    for suite in parse(xml_text):
        names = [case.name for case in suite]
        assert len(names) == len(set(names))
        assert {case.classname for case in suite} <= {suite.name}


def test_same_identity_and_location_still_get_unique_names() -> None:
    # same kind/namespace/name/file/line but another apiVersion: two resources
    report = make_report([
        make_result(ROOT_POLICY, status=FAIL, message="a"),
        make_result(ROOT_POLICY, status=FAIL, message="b", api_version="apps/v1beta1"),
    ])
    suite = suites(parse(render(report, RenderOptions())))["K8S001"]
    assert [case.name for case in suite] == [
        "Deployment prod/web (apps/web.yaml:1)",
        "Deployment prod/web (apps/web.yaml:1) #2",
    ]


def test_testcases_carry_file_and_line(xml_text: str) -> None:
    found = {
        (attrs["classname"], attrs["name"]): (attrs.get("file"), attrs.get("line"))
        for attrs in element_attrs(xml_text, "testcase")
    }
    # The first finding's line, not the resource's first line (12): a reporter's link
    # opens the offending field.
    assert found[("K8S001", "Deployment prod/web (apps/web.yaml:12)")] == ("apps/web.yaml", "20")
    assert found[("K8S002", "Deployment prod/web (apps/web.yaml:12)")] == ("apps/web.yaml", "25")
    # No finding line recorded, or nothing found: the resource's line.
    assert found[("K8S001", "Deployment prod/db (apps/db.yaml:3)")] == ("apps/db.yaml", "3")
    assert found[("K8S001", "Deployment prod/api (apps/api.yaml:1)")] == ("apps/api.yaml", "1")
    assert found[(ERRORS_SUITE, "apps/broken.yaml:7")] == ("apps/broken.yaml", "7")
    assert all(file and line for file, line in found.values())


def test_testcase_points_at_the_finding_in_another_file() -> None:
    # An overlay sets the image: the testcase points there, not at the base's resource.
    report = make_report([
        make_result(ROOT_POLICY, status=FAIL, message="bad", file="base/web.yaml", line=1,
                    finding_file="overlays/prod/kustomization.yaml", finding_line=14,
                    rendered_by="overlays/prod"),
    ])
    (attrs,) = element_attrs(render(report, RenderOptions()), "testcase")
    assert (attrs["file"], attrs["line"]) == ("overlays/prod/kustomization.yaml", "14")
    assert attrs["name"] == "Deployment prod/web (overlays/prod, base/web.yaml:1)"


def test_testcase_points_at_its_most_important_finding() -> None:
    # A warning above a blocking finding: the failure's line wins, and an overridden
    # finding's over a waived one's.
    report = make_report([
        make_result(ROOT_POLICY, status=WARN, message="meh", finding_line=5),
        make_result(ROOT_POLICY, status=FAIL, message="bad", finding_line=9),
        make_result(ROOT_POLICY, status=WAIVED, message="ok", name="db", finding_line=3,
                    waiver="why"),
        make_result(ROOT_POLICY, status=OVERRIDDEN, message="let through", name="db",
                    finding_line=8, override=make_override()),
    ])
    lines = {attrs["name"]: attrs["line"]
             for attrs in element_attrs(render(report, RenderOptions()), "testcase")}
    assert lines == {"Deployment prod/web (apps/web.yaml:1)": "9",
                     "Deployment prod/db (apps/web.yaml:1)": "8"}


def test_warning_is_a_passed_testcase_with_system_out(xml_text: str) -> None:
    suite = suites(parse(xml_text))["K8S002"]
    web = cases(suite)["Deployment prod/web (apps/web.yaml:12)"]
    assert web.is_passed
    assert web.system_out == "warning: apps/web.yaml:25: no readinessProbe"
    assert suite.failures == 0


def test_waived_is_skipped_with_the_reason(xml_text: str) -> None:
    db = cases(suites(parse(xml_text))["K8S001"])["Deployment prod/db (apps/db.yaml:3)"]
    (skipped,) = db.result
    assert isinstance(skipped, Skipped)
    assert skipped.message == "waived: legacy image, ticket SEC-42"


def test_skip_status_is_skipped_with_its_message(xml_text: str) -> None:
    case = cases(suites(parse(xml_text))["K8S003"])["ConfigMap prod/settings (apps/cm.yaml:1)"]
    (skipped,) = case.result
    assert isinstance(skipped, Skipped)
    assert skipped.message == "no containers to check"


def test_passed_results_are_plain_testcases(xml_text: str) -> None:
    api = cases(suites(parse(xml_text))["K8S001"])["Deployment prod/api (apps/api.yaml:1)"]
    assert api.is_passed
    assert api.system_out is None


def test_input_errors_become_error_elements(xml_text: str) -> None:
    suite = suites(parse(xml_text))[ERRORS_SUITE]
    (case,) = list(suite)
    (error,) = case.result
    assert isinstance(error, Error)
    assert error.message == "apps/broken.yaml:7: could not parse YAML: bad indentation"
    assert case.classname == ERRORS_SUITE


def test_error_without_line_and_with_multiline_message() -> None:
    report = make_report([], errors=[make_error("k.yaml", None, "line one\nline two")])
    suite = suites(parse(render(report, RenderOptions())))[ERRORS_SUITE]
    (case,) = list(suite)
    (error,) = case.result
    assert case.name == "k.yaml"
    assert error.message == "k.yaml: line one line two"  # attributes stay on one line
    assert error.text == "k.yaml: line one\nline two"  # the body keeps the lines


def test_mixed_statuses_on_one_testcase() -> None:
    report = make_report([
        make_result(ROOT_POLICY, status=FAIL, message="bad", finding_line=5),
        make_result(ROOT_POLICY, status=WARN, message="meh", finding_line=6),
        make_result(ROOT_POLICY, status=WAIVED, message="ok", finding_line=7, waiver="why"),
    ])
    (case,) = list(suites(parse(render(report, RenderOptions())))["K8S001"])
    assert [type(element) for element in case.result] == [Failure]
    assert case.system_out.splitlines() == [
        "warning: apps/web.yaml:6: meh",
        "waived: apps/web.yaml:7: ok (waiver: why; ticket CHG-9; approved by "
            "jane.doe@example.com; expires 2099-12-31 (waivers.yaml:3))",
    ]


def test_notes_are_left_out(xml_text: str) -> None:
    assert "notes.yaml" not in xml_text


ILLEGAL = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
ILLEGAL += "\ufffe\uffff\ud800\udfff"


def test_control_characters_are_stripped_everywhere() -> None:
    hostile = f"bad{ILLEGAL}value"
    policy = make_policy(f"K8S{ILLEGAL}9", title=hostile, remediation=hostile, controls=[hostile])
    report = make_report(
        [
            make_result(policy, status=FAIL, message=hostile, name=hostile, file=hostile,
                        field=hostile),
            make_result(policy, status=WARN, message=hostile, name="w"),
            make_result(policy, status=WAIVED, message=hostile, name="x", waiver=hostile),
        ],
        errors=[make_error(hostile, 1, hostile)],
    )
    xml_text = render(report, RenderOptions())
    root = ET.fromstring(xml_text.encode("utf-8"))  # well-formed, or this raises
    assert not any(char in xml_text for char in ILLEGAL)
    # Shown as visible escapes, not dropped: a reviewer sees that something was there.
    assert "bad\\u0000\\u0001" in xml_text and "\\ud800\\udfffvalue" in xml_text
    assert next(suite.get("name") for suite in root.iter("testsuite")).startswith("K8S\\u0000")


def test_markup_in_values_is_escaped_not_interpreted() -> None:
    hostile = '</failure><testcase name="x"/>]]>&amp;"\''
    report = make_report([make_result(ROOT_POLICY, status=FAIL, message=hostile, name=hostile)])
    xml = parse(render(report, RenderOptions()))
    (suite,) = list(xml)
    (case,) = list(suite)
    assert case.result[0].message == hostile
    assert xml.tests == 1


def test_output_is_deterministic() -> None:
    first = render(sample_report(), RenderOptions())
    report = sample_report()
    random.Random(7).shuffle(report.results)  # the renderer must not depend on input order
    second = render(report, RenderOptions(color=True, verbose=True))
    assert first == second
    assert "timestamp" not in first
    assert "hostname" not in first
    times = {attrs.get("time") for tag in ("testsuites", "testsuite")
             for attrs in element_attrs(first, tag)}
    assert times == {"0"}
    assert all("time" not in attrs for attrs in element_attrs(first, "testcase"))


def test_policies_without_results_give_empty_suites() -> None:
    report = make_report([], policies=[IMAGE_POLICY])
    xml = parse(render(report, RenderOptions()))
    (suite,) = list(xml)
    assert (suite.name, suite.tests, xml.tests) == ("K8S003", 0, 0)


def test_suite_properties_describe_the_policy(xml_text: str) -> None:
    props = {prop.name: prop.value for prop in suites(parse(xml_text))["K8S001"].properties()}
    assert props == {
        "title": "Containers must not run as root",
        "severity": "high",
        "enforcement": "block",
        "controls": "CIS-5.2.6, NIST-AC-6",
    }


def without_file_and_line(xml_text: str) -> ET.Element:
    """The document without testcase ``file``/``line``, which junit-10.xsd does not allow.

    We strip the two attributes rather than extend the XSD: everything else must
    validate against the schema exactly as Jenkins ships it.
    """
    root = ET.fromstring(xml_text.encode("utf-8"))
    for case in root.iter("testcase"):
        case.attrib.pop("file", None)
        case.attrib.pop("line", None)
    return root


@pytest.mark.skipif(not JUNIT_XSD.is_file(), reason=f"JUnit schema not found at {JUNIT_XSD}")
@pytest.mark.parametrize("hostile", [False, True])
def test_validates_against_junit_10_xsd(hostile: bool) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    report = sample_report()
    if hostile:
        bad = f"x{ILLEGAL}<>&\"'\n\ty"
        policy = make_policy("K8S009", title=bad, remediation=bad, controls=[bad])
        report = make_report(
            [*report.results, make_result(policy, status=FAIL, message=bad, name=bad)],
            errors=[*report.errors, make_error(bad, None, bad)],
        )
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    schema.validate(without_file_and_line(render(report, RenderOptions())))


@pytest.mark.skipif(not JUNIT_XSD.is_file(), reason=f"JUnit schema not found at {JUNIT_XSD}")
def test_empty_report_validates() -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    schema.validate(without_file_and_line(render(make_report([]), RenderOptions())))


# -- change governance -------------------------------------------------------------

OVERRIDE_TEXT = ("Gate-Override: INC-1234 payment outage (by Ann Oncall <ann@example.com>, "
                 "commit 0123456789ab)")


@pytest.fixture()
def governance_xml() -> str:
    return render(governance_report(), RenderOptions())


def test_overridden_is_a_skipped_testcase_naming_the_override(governance_xml: str) -> None:
    xml = parse(governance_xml)
    web = cases(suites(xml)["no-latest-tag"])[
        "Deployment prod/web (prod, overlays/prod, base/web.yaml:1)"]
    assert web.is_skipped and not web.is_passed
    (skipped,) = web.result
    assert isinstance(skipped, Skipped)
    assert skipped.type == "overridden"
    assert skipped.message == f"OVERRIDDEN by {OVERRIDE_TEXT}: image 'web' uses 'latest'"
    assert skipped.text == (f"OVERRIDDEN: overlays/prod/k.yaml:9: image 'web' uses 'latest' "
                            f"(emergency override: {OVERRIDE_TEXT})")
    assert web.system_out is None
    # Neither failed (the override let it through) nor passed.
    assert (xml.tests, xml.failures, xml.errors) == (8, 1, 0)
    assert suites(xml)["no-latest-tag"].skipped == 1


def gitlab_status(case: ET.Element) -> tuple[str, str | None]:
    """A testcase's status and shown output as GitLab reads them: the first of failure,
    error, skipped, and no output for a passed testcase (its system-out is not shown)
    (gitlab-org/gitlab lib/gitlab/ci/parsers/test/junit.rb, ``create_test_case``)."""
    for tag, status in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        element = case.find(tag)
        if element is not None:
            return status, " ".join(filter(None, [element.get("message"), element.text]))
    return "success", None


def jenkins_status(case: ET.Element) -> tuple[str, str | None]:
    """A testcase's status and message as the Jenkins junit plugin records them
    (``CaseResult``: a failure or error fails, ``skipped`` skips, with its message)."""
    for tag in ("failure", "error"):
        element = case.find(tag)
        if element is not None:
            return "failed", element.get("message")
    skipped = case.find("skipped")
    if skipped is not None:
        return "skipped", skipped.get("message") or skipped.text
    return "passed", None


def test_overridden_is_visible_in_gitlab_and_jenkins(governance_xml: str) -> None:
    root = ET.fromstring(governance_xml.encode("utf-8"))
    by_case = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
    for key in [("no-latest-tag", "Deployment prod/web (prod, overlays/prod, base/web.yaml:1)"),
                ("release-window", "change to prod")]:
        status, shown = gitlab_status(by_case[key])
        assert status == "skipped" and shown is not None
        assert "OVERRIDDEN" in shown and "INC-1234" in shown and "Ann Oncall" in shown
        status, message = jenkins_status(by_case[key])
        assert status == "skipped" and message is not None
        assert message.startswith(f"OVERRIDDEN by {OVERRIDE_TEXT}: ")
    # A passing testcase shows nothing in GitLab: nothing that must be seen is put there.
    passed = [case for case in by_case.values() if gitlab_status(case)[0] == "success"]
    assert all("OVERRIDDEN" not in (case.findtext("system-out") or "") for case in passed)


def test_suites_with_overridden_findings_carry_an_overridden_property(
    governance_xml: str
) -> None:
    by_name = suites(parse(governance_xml))
    for name in ("no-latest-tag", "release-window"):
        overridden = [p.value for p in by_name[name].properties() if p.name == "overridden"]
        assert overridden == [f"1 finding(s) let through by {OVERRIDE_TEXT}"]
    assert all(p.name != "overridden" for p in by_name["promotion-certified"].properties())


def test_override_property_counts_findings_per_override() -> None:
    first, second = make_override("INC-1", commit="1" * 40), make_override("INC-2",
                                                                          commit="2" * 40)
    report = make_report([
        make_result(ROOT_POLICY, status=OVERRIDDEN, name="a", override=first),
        make_result(ROOT_POLICY, status=OVERRIDDEN, name="b", override=first),
        make_result(ROOT_POLICY, status=OVERRIDDEN, name="c", override=second),
    ])
    suite = suites(parse(render(report, RenderOptions())))["K8S001"]
    assert [p.value for p in suite.properties() if p.name == "overridden"] == [
        "2 finding(s) let through by Gate-Override: INC-1 checkout is down (by Ops Person "
        "<ops@example.com>, commit 111111111111)",
        "1 finding(s) let through by Gate-Override: INC-2 checkout is down (by Ops Person "
        "<ops@example.com>, commit 222222222222)",
    ]
    assert (suite.failures, suite.skipped) == (0, 3)


def test_change_testcases_are_named_for_the_change(governance_xml: str) -> None:
    found = {
        (attrs["classname"], attrs["name"]): (attrs.get("file"), attrs.get("line"))
        for attrs in element_attrs(governance_xml, "testcase")
    }
    # no place in a file: no file or line attribute
    assert found[("release-window", "change to prod")] == (None, None)
    assert found[("release-window", "change to staging")] == (None, None)
    assert found[("change-ticket", "change to staging")] == (None, None)
    # a finding in an overlay: the testcase points there
    assert found[("promotion-certified", "change to prod")] == (
        "overlays/prod/kustomization.yaml", "14")


def test_change_findings_in_failure_and_system_out(governance_xml: str) -> None:
    by_name = suites(parse(governance_xml))
    certified = cases(by_name["promotion-certified"])["change to prod"]
    (failure,) = certified.result
    assert isinstance(failure, Failure)
    assert ("overlays/prod/kustomization.yaml:14: image ghcr.io/acme/web:2.0 was never "
            "deployed to staging") in failure.text
    ticket = cases(by_name["change-ticket"])["change to staging"]
    assert ticket.is_passed
    assert ticket.system_out == ("warning: change to staging: no change ticket in the commit "
                                 "messages")
    window = cases(by_name["release-window"])["change to prod"]
    (skipped,) = window.result
    assert isinstance(skipped, Skipped)
    assert skipped.message == (f"OVERRIDDEN by {OVERRIDE_TEXT}: prod is frozen until "
                               "2027-01-04T00:00:00Z")
    assert skipped.text.startswith(
        "OVERRIDDEN: change to prod: prod is frozen until 2027-01-04T00:00:00Z")


def test_waived_testcase_lists_the_whole_waiver(governance_xml: str) -> None:
    case = cases(suites(parse(governance_xml))["required-labels"])[
        "Deployment prod/web (prod, overlays/prod, base/web.yaml:1)"]
    (skipped,) = case.result
    assert isinstance(skipped, Skipped)
    assert skipped.message == "waived: vendor sidecar pinned by the operator"
    assert skipped.text == (
        "waived: base/web.yaml:1: missing label team (waiver: vendor sidecar pinned by the "
        "operator; ticket SEC-42; approved by Sam Security <sam@example.com>; expires "
        "2027-01-31 (waivers.yaml:12))")


def test_overridden_beside_a_failure_is_in_system_out() -> None:
    report = make_report([
        make_result(ROOT_POLICY, status=FAIL, message="bad", finding_line=5),
        make_result(ROOT_POLICY, status=OVERRIDDEN, message="let through", finding_line=6,
                    override=make_override()),
    ])
    (case,) = list(suites(parse(render(report, RenderOptions())))["K8S001"])
    assert [type(element) for element in case.result] == [Failure]
    assert case.system_out == (
        "OVERRIDDEN: apps/web.yaml:6: let through (emergency override: Gate-Override: INC-1234 "
        "checkout is down (by Ops Person <ops@example.com>, commit aaaaaaaaaaaa))")


def test_overridden_wins_over_waived_and_names_every_override() -> None:
    first, second = make_override("INC-1", commit="1" * 40), make_override("INC-2",
                                                                          commit="2" * 40)
    report = make_report([
        make_result(ROOT_POLICY, status=OVERRIDDEN, message="a", finding_line=4, override=first),
        make_result(ROOT_POLICY, status=OVERRIDDEN, message="b", finding_line=6, override=second),
        make_result(ROOT_POLICY, status=WAIVED, message="c", finding_line=2, waiver="why"),
    ])
    suite = suites(parse(render(report, RenderOptions())))["K8S001"]
    (case,) = list(suite)
    (skipped,) = case.result
    assert skipped.type == "overridden"
    assert skipped.message == (
        "OVERRIDDEN by Gate-Override: INC-1 checkout is down (by Ops Person <ops@example.com>, "
        "commit 111111111111); Gate-Override: INC-2 checkout is down (by Ops Person "
        "<ops@example.com>, commit 222222222222): a (+1 more)")
    assert [line.split(":")[0] for line in skipped.text.splitlines()] == ["OVERRIDDEN"] * 2
    assert case.system_out.startswith("waived: apps/web.yaml:2: c (waiver: why;")
    assert (suite.tests, suite.failures, suite.skipped) == (1, 0, 1)


def test_governance_output_is_deterministic(governance_xml: str) -> None:
    original = governance_report()
    results = list(original.results)
    random.Random(17).shuffle(results)
    shuffled = make_report(results, change=original.change, audit=original.audit)
    assert render(shuffled, RenderOptions()) == governance_xml


@pytest.mark.skipif(not JUNIT_XSD.is_file(), reason=f"JUnit schema not found at {JUNIT_XSD}")
@pytest.mark.parametrize("hostile", [False, True])
def test_governance_report_validates_against_junit_10_xsd(hostile: bool) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    report = governance_report()
    if hostile:
        bad = f"x{ILLEGAL}<>&\"'\n\ty"
        override = make_override(bad, bad, author=bad)
        report = make_report(
            [*report.results,
             make_change_result(IMAGE_POLICY, bad, status=OVERRIDDEN, message=bad,
                                override=override),
             make_change_result(IMAGE_POLICY, "qa", status=WAIVED, message=bad,
                                waiver=make_waiver(bad, source=bad, ticket=bad))],
            change=report.change, audit=report.audit,
        )
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    schema.validate(without_file_and_line(render(report, RenderOptions())))


# -- what gate did not judge ---------------------------------------------------------


def unjudged_cases(xml_text: str) -> list[TestCase]:
    return list(suites(parse(xml_text))[UNJUDGED_SUITE])


def test_unjudged_items_are_skipped_testcases_in_their_own_suite() -> None:
    xml_text = render(unjudged_report(with_unjudged(sample_report(), [])), RenderOptions())
    xml = parse(xml_text)
    assert [suite.name for suite in xml] == ["K8S001", "K8S002", "K8S003", ERRORS_SUITE,
                                             UNJUDGED_SUITE]
    suite = suites(xml)[UNJUDGED_SUITE]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (4, 0, 0, 4)
    # skipped is neither a failure nor an error: the root's totals only count the tests
    assert (xml.tests, xml.failures, xml.errors) == (7 + 4, 1, 1)
    cases = list(suite)
    assert [case.name for case in cases] == [
        "Kustomize overlay apps/web", "Kustomize component components/extra",
        "Helm chart helm-chart", "Helm chart helm-chart #2"]
    for case, item in zip(cases, UNJUDGED, strict=True):
        assert case.classname == UNJUDGED_SUITE
        [skipped] = case.result
        assert isinstance(skipped, Skipped)
        assert skipped.message == f"not judged: {item.what} {item.category}: {item.reason}"
        assert skipped.text == f"{item.file}: {skipped.message}"
        assert case.is_skipped and not case.is_passed
    assert element_attrs(xml_text, "testcase")[-4]["file"] == "apps/web"
    assert "line" not in element_attrs(xml_text, "testcase")[-4]


def test_no_unjudged_suite_without_unjudged_items(xml_text: str) -> None:
    assert UNJUDGED_SUITE not in xml_text


def test_unjudged_item_without_a_path_has_no_file() -> None:
    report = make_report([], unjudged=[make_unjudged("", reason="why")])
    [case] = unjudged_cases(render(report, RenderOptions()))
    assert case.name == "Helm chart"
    assert "file" not in element_attrs(render(report, RenderOptions()), "testcase")[0]
    assert case.result[0].text == "not judged: Helm chart not rendered: why"


def test_hostile_unjudged_values_are_stripped_and_escaped() -> None:
    hostile = f'x{ILLEGAL}</skipped><testcase name="y"/>]]>&amp;\n"\''
    report = make_report([], unjudged=[make_unjudged(hostile, hostile, NOT_RENDERED, hostile)])
    xml_text = render(report, RenderOptions())
    ET.fromstring(xml_text.encode("utf-8"))  # well-formed, or this raises
    assert not any(char in xml_text for char in ILLEGAL)
    [case] = unjudged_cases(xml_text)
    shown = one_line(ILLEGAL)
    assert "\\u001b" in shown and "\x1b" not in shown
    clean = f'x{shown}</skipped><testcase name="y"/>]]>&amp; "\''
    assert case.name == f"{clean} {clean}"
    assert case.result[0].message == f"not judged: {clean} not rendered: {clean}"
    assert parse(xml_text).tests == 1


def test_unjudged_output_is_deterministic() -> None:
    first = render(unjudged_report(), RenderOptions())
    for seed in range(5):
        items = [*UNJUDGED, HELM_NOT_ASKED]
        random.Random(seed).shuffle(items)
        report = with_unjudged(unjudged_report(), items)
        assert render(report, RenderOptions()) == first


@pytest.mark.skipif(not JUNIT_XSD.is_file(), reason=f"JUnit schema not found at {JUNIT_XSD}")
@pytest.mark.parametrize("hostile", [False, True])
def test_unjudged_report_validates_against_junit_10_xsd(hostile: bool) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    report = unjudged_report(sample_report())
    if hostile:
        bad = f"x{ILLEGAL}<>&\"'\n\ty"
        report = with_unjudged(report, [*report.unjudged, make_unjudged(bad, bad, bad, bad)])
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    schema.validate(without_file_and_line(render(report, RenderOptions())))
