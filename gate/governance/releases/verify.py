"""``gate release verify TAG``: the evidence that a release may run in production.

Two things, one report: the tagged tree passes the gate, judged as ``gate check`` judges
a repository (every manifest, overlay and chart planned and rendered the same way, the
same resource policies, waivers and fail-on threshold), read straight from git at the tag
with no checkout; and every version a production environment deploys at the tag was
certified (gate/governance/releases/certification.py), each one a result of the built-in check
``release-certified``. The report carries the per-microservice certification table.
"""
from __future__ import annotations

from functools import partial

from gate.clock import EvaluationTime
from gate.evaluation.evaluate import evaluate_units, resource_policies, wants_documents
from gate.governance import judging as governance
from gate.governance.judging import Rules
from gate.governance.releases.certification import Certification, certify
from gate.governance.releases.history import ReleaseHistory
from gate.governance.releases.tags import ReleaseTag
from gate.loading.renderers.base import RenderSettings
from gate.loading.tree_reading import tree_reader
from gate.results import (
    FAIL,
    PASS,
    CertificationRow,
    PolicyInfo,
    ReleaseEvidence,
    Report,
    ResourceRef,
    Result,
)

CERTIFIED = PolicyInfo(
    id="release-certified",
    title="Production runs only versions certified in the certifying environment",
    description="Every version a production environment deploys at a release tag was run by "
                "the certifying environment (releases.certified_in) at that tag or at an "
                "earlier release tag reachable from it (docs/releases.md).",
    rationale="A release aligns versions that were certified before production; a version "
              "production runs that staging never ran skipped certification.",
    remediation="Promote the version to the certifying environment and cut a release tag "
                "there first, or deploy in production a version it certified.",
    severity="high", enforcement="block", controls=("SOC2:CC8.1", "ITIL:release-management"),
    file="gate/governance/releases/verify.py", target="change")


def verify(history: ReleaseHistory, tag: ReleaseTag, rules: Rules, time: EvaluationTime,
           fail_on: str, kustomize: str, helm: bool) -> Report:
    """The evidence report of ``tag``."""
    config = rules.config
    repository = history.repository
    tree = repository.tree_at(tag.commit, tag.name)
    policies = resource_policies(rules.policies)
    settings = RenderSettings(kustomize, helm)
    collector, planner = tree_reader(tree, config, settings, wants_documents(policies))
    plan = planner.directory("")
    # One process: the tree is read through this process's git (no checkout to share).
    outcome = evaluate_units(policies, [partial(collector.read, unit) for unit in plan.units],
                             fail_on, 1)
    outcome.notes.extend(collector.notes)
    outcome.errors.extend(plan.errors)
    results, uses = governance.waive(outcome.results, rules.waivers, time, complete=True)
    certification = certify(history, tag.commit, tag.name, history.deployment(tag.commit))
    outcome.results = results + [_result(c, tag, history.settings.certified_in)
                                 for c in certification.certifications]
    report = Report(results=outcome.results, errors=outcome.errors, notes=outcome.notes,
                    policies=[*(policy.info for policy in policies), CERTIFIED],
                    resource_count=len(outcome.resources), fail_on=fail_on,
                    unjudged=list(plan.unjudged))
    report.audit = governance.audit(time, rules.inputs, uses, [], [], rules.source)
    deployment = history.deployment(tag.commit)
    unread = [f"at {tag.name}: {u.file}{f':{u.line}' if u.line else ''}: {u.message}"
              for u in deployment.unread]
    unread += [f"at {at}: {u.file}{f':{u.line}' if u.line else ''}: {u.message}"
               for at, u in certification.unread]
    settings_ = history.settings
    report.release = ReleaseEvidence(
        tag=tag.name, commit=tag.commit, certified_in=settings_.certified_in,
        rule=(f"{', '.join(settings_.production)} runs only versions "
              f"{settings_.certified_in} ran at {tag.name} or at a release tag reachable "
              "from it (same image repository, tag and digest)"),
        microservice_rule=settings_.microservice_rule,
        rows=[CertificationRow(c.deployed.microservice, c.deployed.environment,
                               c.deployed.version, c.deployed.file, c.deployed.line,
                               c.certified_at) for c in certification.certifications],
        unread=unread)
    return report



def _result(certification: Certification, tag: ReleaseTag, certified_in: str) -> Result:
    deployed = certification.deployed
    resource = ResourceRef("gate.dev/v1", "Release", tag.name, "", deployed.file, deployed.line,
                           deployed.environment)
    if certification.certified:
        message = (f"{deployed.microservice} {deployed.version} ran in {certified_in} at "
                   f"{certification.certified_at}")
        return Result(CERTIFIED, resource, PASS, message, line=deployed.line)
    message = (f"{deployed.environment} runs {deployed.microservice} {deployed.version}, which "
               f"{certified_in} never ran at {tag.name} or at an earlier release tag")
    return Result(CERTIFIED, resource, FAIL, message, line=deployed.line)
