"""JUnit XML report, for GitLab, Jenkins and the GitHub JUnit reporters.

Shape of the document (written with ``junitparser``)::

    <testsuites name="gate" tests failures errors time="0">
      <testsuite name="<policy id>" tests failures errors skipped time="0">
        <properties> title, severity, enforcement, controls, [overridden...] </properties>
        <testcase name="Deployment prod/web (apps/web.yaml:12)" classname="<policy id>"
                  file="apps/web.yaml" line="12"> ... </testcase>
      </testsuite>
      <testsuite name="gate.errors"> one testcase with an <error> per unreadable input
      <testsuite name="gate.unjudged"> one <skipped> testcase per chart, overlay or file
                                       gate saw and did not judge
    </testsuites>

* One suite per policy, sorted by id (policies that matched nothing give an empty
  suite), and one testcase per (policy, resource) pair: the findings of a policy on
  one resource collapse into a single testcase. ``classname`` is the policy id and
  ``name`` is the resource identity plus ``file:line``, unique within the suite
  (GitLab keeps only the first of duplicate names). ``file`` and ``line`` are those of
  the testcase's most important finding (the first of the status its result element
  shows, see below), so a reporter's link opens the offending line, which may be in
  another file than the resource (the overlay that sets an image, say); a testcase
  without findings points at its resource. They are set for GitLab and
  mikepenz/action-junit-report.
* ``fail`` findings give ``<failure message="first message (+N more)" type="<severity>">``
  whose body lists every finding as ``file:line: message (at field)`` followed by the
  policy's remediation.
* ``warn`` findings do not block, so they must not count as failures: the testcase
  passes and each warning is written to its ``<system-out>`` as
  ``warning: file:line: message``. A ``<skipped>`` would hide warnings among waivers.
* ``gate diff`` without ``--show-existing``: the existing findings it does not list are
  counted in an ``existing`` property of their policy's suite (``3 existing finding(s)
  not listed; gate diff --show-existing lists them``).
* ``overridden`` findings (an emergency override let a blocking finding through) must
  neither fail the build nor pass unseen: GitLab shows no output of a passing
  testcase, and a passing testcase turns GitLab's and Jenkins' summaries green. So the
  testcase is skipped, ``<skipped type="overridden" message="OVERRIDDEN by
  Gate-Override: INC-1 ... (by who, commit sha): first message (+N more)">``, whose
  body lists each finding with its override: GitLab shows the body of a skipped
  testcase, Jenkins its message, and both count it as skipped, not passed. The
  policy's suite also gets one ``overridden`` property per override that let its
  findings through (``2 finding(s) let through by Gate-Override: ...``): the Jenkins
  schema allows no properties on a testcase.
* ``waived`` results give ``<skipped type="waived" message="waived: <reason>">``,
  ``baselined`` ones (recorded in the baseline of ``gate check --baseline``)
  ``<skipped type="baselined" message="baselined: recorded in the baseline">``; ``skip``
  results (nothing to check) give ``<skipped message="<their message>">``. A testcase
  holds at most one result element, chosen as failure > overridden > waived >
  baselined > skipped; findings of any other status on the same testcase are listed in its
  system-out (``OVERRIDDEN: file:line: message (emergency override: ...)`` for an
  overridden one beside a failure, in capitals so it stands out).
* A waived testcase's ``<skipped>`` body lists each waived finding with its waiver
  (reason, ticket, approver, expiry and source).
* A change policy's testcase is named ``change to <environment>``; it has ``file``
  and ``line`` only when its finding points into a file (e.g. the overlay line that
  introduces an uncertified image).
* ``Report.errors`` (inputs that could not be read, which fail the gate closed) go to
  a suite named ``gate.errors``: one testcase per error with
  ``<error message="file:line: message" type="input-error">``.
* ``Report.unjudged`` (what gate saw and did not judge: a Helm chart rendered only
  with ``--helm``, an unused Kustomize component) go to a suite named
  ``gate.unjudged``, after the errors: one testcase per item, named ``<what> <file>``
  (``Helm chart helm-chart``), with ``file`` set and
  ``<skipped message="not judged: Helm chart not rendered: <reason>">``. Skipped, so
  reporters show it as neither passed nor failed, and the suite's ``skipped`` count
  says how many there are.
* ``Report.notes`` (documents that are not Kubernetes resources) are not tests and
  are left out.

The output is deterministic: no timestamps, no hostnames, ``time="0"`` on suites and
on the root, no ``time`` on testcases. The root has no ``skipped`` total because
the Jenkins xUnit ``junit-10.xsd`` does not allow it there (each suite has one).
Every string is stripped of the characters XML 1.0 forbids, and attribute values
are put on one line, so the document is always well-formed.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from junitparser import Attr, Error, Failure, IntAttr, JUnitXml, Skipped, TestCase, TestSuite

from gate.loading.resources import InputError
from gate.reports import RenderOptions
from gate.reports._escape import one_line, shorten, strip_illegal
from gate.reports.audit import rollback_text
from gate.results import (
    BASELINED,
    FAIL,
    OVERRIDDEN,
    SKIP,
    WAIVED,
    WARN,
    PolicyInfo,
    Report,
    ResourceRef,
    Result,
    Unjudged,
)

ROOT_NAME = "gate"
ERRORS_SUITE = "gate.errors"
UNJUDGED_SUITE = "gate.unjudged"
MESSAGE_LIMIT = 1000  # characters of a message attribute; the body has everything

# The status whose element a testcase carries, most important first.
_PRIMARY = (FAIL, OVERRIDDEN, WAIVED, BASELINED, SKIP)
# Which finding a testcase's file and line point at: the first of the most important
# status (its result element's, then a warning's); a testcase without findings points at
# its resource.
_LOCATION_ORDER = (*_PRIMARY, WARN)
_NOTE_PREFIX = {WARN: "warning", OVERRIDDEN: "OVERRIDDEN", WAIVED: "waived",
                BASELINED: "baselined", SKIP: "skipped"}

_Group = tuple[ResourceRef, list[Result]]


class GateTestCase(TestCase):
    """A testcase with the ``file`` and ``line`` attributes GitLab and action-junit-report read."""

    file = Attr()
    line = IntAttr()


def render(report: Report, options: RenderOptions) -> str:
    """The report as a JUnit XML document, with an XML declaration."""
    del options  # no option changes JUnit output
    root = JUnitXml(name=ROOT_NAME)
    groups = _group_by_policy(report.results)
    change = report.change
    existing = change.existing if change is not None and not change.existing_listed else {}
    for policy in report.all_policies():
        suite = _policy_suite(policy, groups.get(policy.id, []))
        if existing.get(policy.id):
            suite.add_property("existing", f"{existing[policy.id]} existing finding(s) not "
                               "listed; gate diff --show-existing lists them")
        if change is not None and policy.target == "change":
            # The change's rollbacks, on each change policy's suite (they judged it).
            for record in change.rollbacks:
                suite.add_property("rollback", _attr(rollback_text(record)))
        root.add_testsuite(suite)
    if report.errors:
        root.add_testsuite(_errors_suite(report.errors))
    if report.unjudged:
        root.add_testsuite(_unjudged_suite(report.unjudged))
    _set_totals(root)
    return _serialise(root)


# -- structure ---------------------------------------------------------------------


def _resource_key(resource: ResourceRef) -> tuple[str, str, str, int, str, str, str, str]:
    return (
        resource.environment, resource.rendered_by, resource.file, resource.line,
        resource.kind, resource.namespace, resource.name, resource.api_version,
    )


def _group_by_policy(results: Iterable[Result]) -> dict[str, list[_Group]]:
    """Results per policy id, then per resource (sorted by file, line, identity)."""
    nested: dict[str, dict[ResourceRef, list[Result]]] = {}
    for result in results:
        nested.setdefault(result.policy.id, {}).setdefault(result.resource, []).append(result)
    return {
        policy_id: [
            (resource, sorted(found, key=Result.sort_key))
            for resource, found in sorted(per_resource.items(), key=lambda i: _resource_key(i[0]))
        ]
        for policy_id, per_resource in nested.items()
    }


def _unique(names: Sequence[str]) -> list[str]:
    """``names`` with ``#2``, ``#3``… appended to repeats, so that no two are equal."""
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        candidate, number = name, 1
        while candidate in seen:
            number += 1
            candidate = f"{name} #{number}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


def _set_totals(root: JUnitXml) -> None:
    suites = list(root)
    root.tests = sum(suite.tests for suite in suites)
    root.failures = sum(suite.failures for suite in suites)
    root.errors = sum(suite.errors for suite in suites)
    root.time = 0


def _serialise(root: JUnitXml) -> str:
    buffer = io.BytesIO()
    root.write(buffer, pretty=True)
    return buffer.getvalue().decode("utf-8")


# -- policy suites -----------------------------------------------------------------


def _policy_suite(policy: PolicyInfo, groups: list[_Group]) -> TestSuite:
    suite = TestSuite(_attr(policy.id))
    suite.add_property("title", _attr(policy.title))
    suite.add_property("severity", _attr(policy.severity))
    suite.add_property("enforcement", _attr(policy.enforcement))
    suite.add_property("controls", _attr(", ".join(policy.controls)))
    for text in _overrides(groups):
        suite.add_property("overridden", text)
    names = _unique([_case_name(resource) for resource, _ in groups])
    cases: list[TestCase] = [
        _policy_case(policy, resource, results, name)
        for (resource, results), name in zip(groups, names, strict=True)
    ]
    suite.add_testcases(cases)  # also computes tests/failures/errors/skipped, time="0"
    return suite


def _overrides(groups: Iterable[_Group]) -> list[str]:
    """One ``overridden`` property value per emergency override that let findings of
    this suite's policy through: ``2 finding(s) let through by Gate-Override: …``.

    Properties are the only place the Jenkins schema allows beside a testcase's
    system-out, and CI tools show suite properties on the suite's page.
    """
    counts: dict[str, int] = {}
    for _, results in groups:
        for result in results:
            if result.status == OVERRIDDEN:
                text = str(result.override) if result.override else "no override recorded"
                counts[text] = counts.get(text, 0) + 1
    return [_attr(f"{count} finding(s) let through by {text}", MESSAGE_LIMIT)
            for text, count in sorted(counts.items())]


def _case_name(resource: ResourceRef) -> str:
    if resource.is_change:
        return _attr(resource.subject())
    namespace = f"{resource.namespace}/" if resource.namespace else ""
    name = resource.name or "(unnamed)"
    context = "".join(f"{part}, " for part in (resource.environment, resource.rendered_by) if part)
    return _attr(f"{resource.kind} {namespace}{name} ({context}{resource.file}:{resource.line})")


def _policy_case(
    policy: PolicyInfo, resource: ResourceRef, results: list[Result], name: str
) -> GateTestCase:
    case = GateTestCase(name, _attr(policy.id))
    located = _located(results)
    if located.location_file:  # a change finding may have no place in a file
        case.file = _attr(located.location_file)
        case.line = located.location_line
    primary = _primary_status(results)
    if primary == FAIL:
        case.result = [_failure(policy, _with_status(results, FAIL))]
    elif primary == OVERRIDDEN:
        case.result = [_overridden(_with_status(results, OVERRIDDEN))]
    elif primary in (WAIVED, BASELINED):
        case.result = [_waived(_with_status(results, primary), primary)]
    elif primary == SKIP:
        case.result = [_skipped(_with_status(results, SKIP))]
    notes = [_note(result) for result in results if _is_note(result, primary)]
    if notes:
        case.system_out = "\n".join(notes)
    return case


def _located(results: Sequence[Result]) -> Result:
    """The finding a testcase points at: the first of its most important status
    (``results`` are sorted by place, so the first is the topmost line)."""
    def importance(result: Result) -> int:
        status = result.status
        return _LOCATION_ORDER.index(status) if status in _LOCATION_ORDER else len(
            _LOCATION_ORDER)

    return min(results, key=importance)  # min keeps the first of equals


def _primary_status(results: Sequence[Result]) -> str | None:
    statuses = {result.status for result in results}
    return next((status for status in _PRIMARY if status in statuses), None)


def _with_status(results: Iterable[Result], status: str) -> list[Result]:
    return [result for result in results if result.status == status]


def _is_note(result: Result, primary: str | None) -> bool:
    return result.status in _NOTE_PREFIX and result.status != primary


def _failure(policy: PolicyInfo, fails: Sequence[Result]) -> Failure:
    failure = Failure(_summary(fails), _attr(policy.severity))
    failure.text = _failure_body(policy, fails)
    return failure


def _failure_body(policy: PolicyInfo, fails: Sequence[Result]) -> str:
    lines = [f"{policy.id}: {policy.title} (severity {policy.severity})"]
    lines += [_finding(result) for result in fails]
    if policy.remediation.strip():
        lines += ["", f"Remediation: {policy.remediation.strip()}"]
    return strip_illegal("\n".join(lines))


def _overridden(overridden: Sequence[Result]) -> Skipped:
    """Skipped, not passed: the finding would have failed the gate, and a reporter's
    summary must not turn green over it; the message names the override first."""
    overrides = dict.fromkeys(str(result.override) if result.override else
                              "no override recorded" for result in overridden)
    text = f"OVERRIDDEN by {'; '.join(overrides)}: {_summary(overridden)}"
    skipped = Skipped(_attr(text, MESSAGE_LIMIT), OVERRIDDEN)
    skipped.text = strip_illegal("\n".join(_note(result) for result in overridden))
    return skipped


def _waived(waived: Sequence[Result], status: str = WAIVED) -> Skipped:
    reasons = dict.fromkeys(result.waiver.reason if result.waiver else "no reason given"
                            for result in waived)
    skipped = Skipped(_attr(f"{status}: " + "; ".join(reasons), MESSAGE_LIMIT), status)
    skipped.text = strip_illegal("\n".join(_note(result) for result in waived))
    return skipped


def _skipped(skips: Sequence[Result]) -> Skipped:
    skipped = Skipped(_summary(skips))
    if len(skips) > 1:
        skipped.text = strip_illegal("\n".join(_finding(result) for result in skips))
    return skipped


def _summary(results: Sequence[Result]) -> str:
    """First message, and how many more, for a ``message`` attribute."""
    first = _attr(_message(results[0]), MESSAGE_LIMIT)
    more = len(results) - 1
    return f"{first} (+{more} more)" if more else first


def _message(result: Result) -> str:
    return result.message or result.policy.title or result.status


def _finding(result: Result) -> str:
    """``file:line: message (at field)`` on one line."""
    where = (f"{result.location_file}:{result.location_line}" if result.location_file
             else _case_name(result.resource))
    text = f"{where}: {_message(result)}"
    if result.field:
        text += f" (at {result.field})"
    return one_line(text)


def _note(result: Result) -> str:
    """One line for a finding: in system-out when its status is not the testcase's result
    element's, else in that element's body (waived and overridden findings)."""
    text = f"{_NOTE_PREFIX[result.status]}: {_finding(result)}"
    if result.status == WAIVED:
        text += one_line(f" (waiver: {result.waiver or 'no reason given'})")
    if result.status == BASELINED:
        text += one_line(f" (baseline: {result.waiver or 'no entry recorded'})")
    if result.status == OVERRIDDEN:
        text += one_line(f" (emergency override: {result.override})")
    return text


# -- input errors ------------------------------------------------------------------


def _errors_suite(errors: Sequence[InputError]) -> TestSuite:
    suite = TestSuite(ERRORS_SUITE)
    names = _unique([_attr(_location(error)) for error in errors])
    pairs = zip(errors, names, strict=True)
    cases: list[TestCase] = [_error_case(error, name) for error, name in pairs]
    suite.add_testcases(cases)
    return suite


def _location(error: InputError) -> str:
    return error.file if error.line is None else f"{error.file}:{error.line}"


def _error_case(error: InputError, name: str) -> GateTestCase:
    case = GateTestCase(name, ERRORS_SUITE)
    case.file = _attr(error.file)
    if error.line is not None:
        case.line = error.line
    text = f"{_location(error)}: {error.message}"
    element = Error(_attr(text, MESSAGE_LIMIT), "input-error")
    element.text = strip_illegal(text)
    case.result = [element]
    return case


# -- not judged --------------------------------------------------------------------


def _unjudged_suite(unjudged: Sequence[Unjudged]) -> TestSuite:
    """One skipped testcase per item: a reporter must show it as neither passed (gate did
    not look) nor failed (it does not block)."""
    suite = TestSuite(UNJUDGED_SUITE)
    names = _unique([_attr(f"{item.what} {item.file}".strip()) for item in unjudged])
    cases: list[TestCase] = [_unjudged_case(item, name)
                             for item, name in zip(unjudged, names, strict=True)]
    suite.add_testcases(cases)  # counts them as skipped
    return suite


def _unjudged_case(item: Unjudged, name: str) -> GateTestCase:
    case = GateTestCase(name, UNJUDGED_SUITE)
    if item.file:
        case.file = _attr(item.file)
    text = f"not judged: {item.describe()}"
    skipped = Skipped(_attr(text, MESSAGE_LIMIT))
    skipped.text = strip_illegal(f"{item.file}: {text}" if item.file else text)
    case.result = [skipped]
    return case


def _attr(text: str, limit: int | None = None) -> str:
    """``text`` made fit for an attribute: legal characters only, on one line."""
    text = one_line(text)
    return text if limit is None else shorten(text, limit)
