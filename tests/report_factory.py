"""Builders of ``Report`` objects for the report-format tests."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from gate.loading.resources import InputError, Note
from gate.results import (
    NOT_REFERENCED,
    NOT_RENDERED,
    PASS,
    Audit,
    ChangedFile,
    ChangeSummary,
    CommitRecord,
    CommitSignature,
    Evidence,
    OverrideRef,
    PolicyInfo,
    Report,
    ResourceRef,
    Result,
    Unjudged,
    WaiverRef,
    WaiverUse,
    change_ref,
)


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
    target: str = "resources",
    overridable: bool = False,
    inline_waivers: bool = False,
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
        target=target,
        overridable=overridable,
        inline_waivers=inline_waivers,
    )


def make_resource(
    *,
    kind: str = "Deployment",
    name: str = "web",
    namespace: str = "prod",
    file: str = "apps/web.yaml",
    line: int = 1,
    api_version: str = "apps/v1",
    environment: str = "",
    rendered_by: str = "",
) -> ResourceRef:
    return ResourceRef(
        api_version=api_version, kind=kind, name=name, namespace=namespace, file=file, line=line,
        environment=environment, rendered_by=rendered_by,
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
    environment: str = "",
    rendered_by: str = "",
    finding_file: str | None = None,
    new: bool | None = None,
) -> Result:
    """A result of ``policy`` on a resource at ``file:line``; ``finding_line`` is the finding's
    (and ``finding_file`` its file, when another one: an overlay, say).

    ``waiver`` may be a reason alone: ``make_waiver`` fills in the rest.
    """
    resource = make_resource(
        kind=kind, name=name, namespace=namespace, file=file, line=line, api_version=api_version,
        environment=environment, rendered_by=rendered_by,
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
        file=finding_file,
        new=new,
    )


def make_change_result(
    policy: PolicyInfo,
    environment: str = "prod",
    *,
    status: str = PASS,
    message: str = "",
    file: str | None = None,
    line: int | None = None,
    waiver: str | WaiverRef | None = None,
    override: OverrideRef | None = None,
    new: bool | None = None,
) -> Result:
    """A change policy's result on the change as it reaches ``environment``; ``file`` and
    ``line`` are the finding's place in a file, when it has one."""
    return Result(
        policy=policy,
        resource=change_ref(environment),
        status=status,
        message=message,
        line=line,
        file=file,
        waiver=make_waiver(waiver) if isinstance(waiver, str) else waiver,
        override=override,
        new=new,
    )


def make_waiver(reason: str, *, source: str = "waivers.yaml:3", ticket: str | None = "CHG-9",
                approved_by: str | None = "jane.doe@example.com",
                expires: str | None = "2099-12-31") -> WaiverRef:
    return WaiverRef(source, reason, ticket, approved_by, expires)


def make_override(ticket: str = "INC-1234", reason: str = "checkout is down", *,
                  commit: str = "a" * 40,
                  author: str = "Ops Person <ops@example.com>", approved_by: str = "",
                  approval_commit: str = "") -> OverrideRef:
    return OverrideRef("Gate-Override", f"{ticket} {reason}", ticket, reason, commit, author,
                       approved_by, approval_commit)


def make_waiver_use(
    policy: str = "K8S001",
    *,
    source: str = "waivers.yaml:3",
    state: str = "active",
    matched: int = 1,
    reason: str = "legacy image",
    ticket: str | None = "CHG-9",
    approved_by: str = "jane.doe@example.com",
    expires: str = "2099-12-31",
) -> WaiverUse:
    return WaiverUse(source, policy, reason, ticket, approved_by, expires, state, matched)


def make_evidence(policy: str = "change-ticket", label: str = "Change tickets",
                  environment: str = "prod", values: Sequence[str] = ("CHG123",)) -> Evidence:
    return Evidence(policy, label, environment, tuple(values))


def make_audit(
    *,
    evaluated_at: str = "2026-12-24T09:00:00Z",
    time_source: str = "--now",
    fingerprint: str = "f" * 64,
    inputs: Iterable[tuple[str, str]] = ((".gate.yaml", "1" * 64),
                                         ("builtin:no-latest-tag.yaml", "2" * 64)),
    waivers: Iterable[WaiverUse] = (),
    overrides: Iterable[OverrideRef] = (),
    evidence: Iterable[Evidence] = (),
) -> Audit:
    return Audit(evaluated_at, time_source, fingerprint, list(inputs), list(waivers),
                 list(overrides), list(evidence))


def make_change(
    *,
    mode: str = "commits",
    base_ref: str = "origin/main",
    base_sha: str | None = "b" * 40,
    head_ref: str = "HEAD",
    head_sha: str | None = "c" * 40,
    merge_base: str | None = "d" * 40,
    files: Iterable[ChangedFile] = (ChangedFile("M", "overlays/prod/kustomization.yaml"),),
    environments: Iterable[str] = ("prod",),
    commits: int = 2,
    notes: Iterable[str] = (),
    commit_log: Iterable[CommitRecord] = (),
) -> ChangeSummary:
    return ChangeSummary(mode, base_ref, base_sha, head_ref, head_sha, merge_base, list(files),
                         notes=list(notes), environments=list(environments), commits=commits,
                         commit_log=list(commit_log))


UNSIGNED = CommitSignature()


def make_commit_record(
    sha: str = "e" * 40,
    *,
    author: str = "Dev Eloper <dev@example.com>",
    committer: str = "Dev Eloper <dev@example.com>",
    subject: str = "Bump web to 2.0",
    signature: CommitSignature = UNSIGNED,
    trailers: Iterable[tuple[str, tuple[str, ...]]] = (("Change-Request", ("CHG123",)),),
    tickets: Iterable[str] = ("CHG123",),
) -> CommitRecord:
    """One commit of a change log, as gate diff records it."""
    return CommitRecord(sha, author, "2026-12-01T10:00:00+01:00", committer,
                        "2026-12-01T10:05:00+01:00", subject, signature, tuple(trailers),
                        tuple(tickets))


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
    change: ChangeSummary | None = None,
    audit: Audit | None = None,
    tool_version: str = "9.9.9",
    unjudged: Iterable[Unjudged] = (),
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
        tool_version=tool_version,
        change=change,
        audit=audit,
        unjudged=list(unjudged),
    )


# -- a report of gate diff with change governance ------------------------------------

IMAGE_POLICY = make_policy("no-latest-tag", title="No latest tag", controls=("SOC2:CC8.1",),
                           overridable=True)
WINDOW_POLICY = make_policy("release-window", title="Release window", severity="critical",
                            controls=("SOC2:CC8.1", "ISO27001:A.12.1.2"), target="change",
                            overridable=True)
TICKET_POLICY = make_policy("change-ticket", title="Change ticket", severity="medium",
                            controls=("ISO27001:A.12.1.2",), target="change")
CERTIFIED_POLICY = make_policy("promotion-certified", title="Certified promotion",
                               target="change")
LABELS_POLICY = make_policy("required-labels", title="Labels", severity="low",
                            inline_waivers=True)
OVERRIDE = make_override("INC-1234", "payment outage", commit="0123456789ab" + "c" * 28,
                         author="Ann Oncall <ann@example.com>")
WAIVER = make_waiver("vendor sidecar pinned by the operator", source="waivers.yaml:12",
                     ticket="SEC-42", approved_by="Sam Security <sam@example.com>",
                     expires="2027-01-31")


def governance_report() -> Report:
    """What ``gate diff`` reports for a hotfix during a freeze: overridden findings on a
    resource and on the change, a waived finding, a change finding pointing into an
    overlay, change results without a file, and an audit record."""
    return make_report(
        [
            make_result(IMAGE_POLICY, status="overridden", message="image 'web' uses 'latest'",
                        file="base/web.yaml", line=1, finding_file="overlays/prod/k.yaml",
                        finding_line=9, environment="prod", rendered_by="overlays/prod",
                        override=OVERRIDE, new=True),
            make_result(IMAGE_POLICY, status=PASS, name="api", file="base/api.yaml",
                        environment="prod", rendered_by="overlays/prod", new=False),
            make_change_result(WINDOW_POLICY, "prod", status="overridden",
                               message="prod is frozen until 2027-01-04T00:00:00Z",
                               override=OVERRIDE, new=True),
            make_change_result(WINDOW_POLICY, "staging", status=PASS, new=True),
            make_change_result(TICKET_POLICY, "prod", status=PASS, new=True),
            make_change_result(TICKET_POLICY, "staging", status="warn",
                               message="no change ticket in the commit messages", new=True),
            make_change_result(CERTIFIED_POLICY, "prod", status="fail",
                               message="image ghcr.io/acme/web:2.0 was never deployed to staging",
                               file="overlays/prod/kustomization.yaml", line=14, new=True),
            make_result(LABELS_POLICY, status="waived", message="missing label team",
                        file="base/web.yaml", environment="prod", rendered_by="overlays/prod",
                        waiver=WAIVER, new=True),
        ],
        change=make_change(environments=("prod", "staging")),
        audit=make_audit(
            waivers=[
                make_waiver_use("required-labels", source="waivers.yaml:12",
                                reason=WAIVER.reason, ticket="SEC-42",
                                approved_by="Sam Security <sam@example.com>",
                                expires="2027-01-31"),
                make_waiver_use("image-digest", source="waivers.yaml:20", state="expired",
                                matched=2, expires="2026-11-30"),
                make_waiver_use("resource-limits", source="waivers.yaml:28", state="stale",
                                matched=0),
            ],
            overrides=[OVERRIDE],
            evidence=[make_evidence(values=("CHG123", "CHG124")),
                      make_evidence(environment="staging", values=())],
        ),
    )


# -- what gate saw and did not judge ---------------------------------------------------

HELM_NOT_ASKED = Unjudged("helm-chart", "Helm chart", NOT_RENDERED,
                          "Helm charts are rendered only with --helm; its values files are "
                          "still checked")
HELM_MISSING = Unjudged("helm-chart", "Helm chart", NOT_RENDERED,
                        "no helm binary on PATH (set GATE_HELM)")
UNUSED_COMPONENT = Unjudged("components/extra", "Kustomize component", NOT_REFERENCED,
                            "no overlay uses it; its 3 file(s) are not judged on their own")
KUSTOMIZE_OFF = Unjudged("apps/web", "Kustomize overlay", NOT_RENDERED,
                         "Kustomize rendering is off (--kustomize off)")
#: The planner's examples, in the order every report lists them (file, what, category,
#: reason); ``unjudged_report`` is given them shuffled and duplicated.
UNJUDGED = (KUSTOMIZE_OFF, UNUSED_COMPONENT, HELM_NOT_ASKED, HELM_MISSING)


def make_unjudged(file: str = "helm-chart", what: str = "Helm chart",
                  category: str = NOT_RENDERED, reason: str = "not asked for") -> Unjudged:
    return Unjudged(file, what, category, reason)


def unjudged_report(report: Report | None = None) -> Report:
    """``report`` (a passing one when None) with the planner's example unjudged items,
    given out of order and one of them twice."""
    if report is None:
        report = make_report([make_result(IMAGE_POLICY, status=PASS)])
    items = [HELM_NOT_ASKED, UNUSED_COMPONENT, KUSTOMIZE_OFF, HELM_MISSING, HELM_NOT_ASKED]
    return with_unjudged(report, items)


def with_unjudged(report: Report, items: Iterable[Unjudged]) -> Report:
    """A copy of ``report`` holding ``items`` (sorted and deduplicated as ever)."""
    return dataclasses.replace(report, results=list(report.results), errors=list(report.errors),
                               notes=list(report.notes), policies=list(report.policies),
                               unjudged=list(items))
