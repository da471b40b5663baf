"""Builders of ``Report`` objects for the report-format tests."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from gate.resources import InputError, Note
from gate.results import PASS, OverrideRef, PolicyInfo, Report, ResourceRef, Result, WaiverRef


def make_policy(
    id: str = "K8S001",
    *,
    title: str | None = None,
    severity: str = "high",
    enforcement: str = "block",
    controls: Sequence[str] = (),
    remediation: str = "Fix the manifest.",
    description: str = "A test policy.",
    rationale: str = "Because.",
    file: str = "policies/test.yaml",
) -> PolicyInfo:
    return PolicyInfo(
        id=id,
        title=title if title is not None else f"Policy {id}",
        description=description,
        rationale=rationale,
        remediation=remediation,
        severity=severity,
        enforcement=enforcement,
        controls=tuple(controls),
        file=file,
    )


def make_resource(
    *,
    kind: str = "Deployment",
    name: str = "web",
    namespace: str = "prod",
    file: str = "apps/web.yaml",
    line: int = 1,
    api_version: str = "apps/v1",
) -> ResourceRef:
    return ResourceRef(
        api_version=api_version, kind=kind, name=name, namespace=namespace, file=file, line=line
    )


def make_result(
    policy: PolicyInfo,
    *,
    kind: str = "Deployment",
    name: str = "web",
    namespace: str = "prod",
    status: str = PASS,
    message: str = "",
    file: str = "apps/web.yaml",
    line: int = 1,
    field: str | None = None,
    finding_line: int | None = None,
    waiver: str | WaiverRef | None = None,
    api_version: str = "apps/v1",
    override: OverrideRef | None = None,
) -> Result:
    """A result of ``policy`` on a resource at ``file:line``; ``finding_line`` is the finding's."""
    resource = make_resource(
        kind=kind, name=name, namespace=namespace, file=file, line=line, api_version=api_version
    )
    return Result(
        policy=policy,
        resource=resource,
        status=status,
        message=message,
        field=field,
        line=finding_line,
        waiver=make_waiver(waiver) if isinstance(waiver, str) else waiver,
        override=override,
    )


def make_waiver(reason: str, *, source: str = "waivers.yaml:3", ticket: str | None = "CHG-9",
                approved_by: str | None = "jane.doe@example.com",
                expires: str | None = "2099-12-31") -> WaiverRef:
    return WaiverRef(source, reason, ticket, approved_by, expires)


def make_override(ticket: str = "INC-1234", reason: str = "checkout is down") -> OverrideRef:
    return OverrideRef("Gate-Override", f"{ticket} {reason}", ticket, reason, "a" * 40,
                       "Ops Person <ops@example.com>")


def make_error(file: str, line: int | None, message: str) -> InputError:
    return InputError(file=file, line=line, message=message)


def make_note(file: str, line: int | None, message: str) -> Note:
    return Note(file=file, line=line, message=message)


def make_report(
    results: Iterable[Result],
    *,
    errors: Iterable[InputError] = (),
    notes: Iterable[Note] = (),
    policies: Iterable[PolicyInfo] | None = None,
    resource_count: int | None = None,
    fail_on: str = "info",
) -> Report:
    """A report of ``results``; policies and the resource count default to those seen."""
    results = list(results)
    if policies is None:
        policies = {result.policy.id: result.policy for result in results}.values()
    if resource_count is None:
        resource_count = len({result.resource for result in results})
    return Report(
        results=results,
        errors=list(errors),
        notes=list(notes),
        policies=list(policies),
        resource_count=resource_count,
        fail_on=fail_on,
    )
