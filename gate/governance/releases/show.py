"""``gate release show``: the matrix of microservice x environment -> version at a ref.

Marks, in words: a version production runs that the certifying environment never ran
(:mod:`gate.governance.releases.certification`), and an environment whose versions differ from the
last release tag at or before the ref (the highest release version reachable from it).
What cannot be read is listed, and makes the view incomplete.
"""
from __future__ import annotations

from dataclasses import dataclass

from gate.governance.releases.certification import CertificationResult, certify
from gate.governance.releases.compare import VersionChange, version_changes
from gate.governance.releases.history import ReleaseHistory
from gate.governance.releases.tags import ReleaseTag
from gate.governance.releases.versions import Deployed, Deployment, Unread


@dataclass
class ReleaseView:
    ref: str
    commit: str
    environments: list[str]  # promotion order
    microservices: list[str]
    deployment: Deployment
    certification: CertificationResult
    last_release: ReleaseTag | None
    differences: list[VersionChange]  # from the last release tag to the ref
    unread: list[tuple[str, Unread]]  # (where: the ref or a release tag, what)
    microservice_rule: str
    certified_in: str
    production: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.unread

    def cell(self, microservice: str, environment: str) -> list[Deployed]:
        return self.deployment.of(microservice, environment)

    def uncertified(self, deployed: Deployed) -> bool:
        return any(c.deployed == deployed and not c.certified
                   for c in self.certification.certifications)

    def differs(self, microservice: str, environment: str) -> VersionChange | None:
        return next((c for c in self.differences
                     if c.microservice == microservice and c.environment == environment), None)

    def differing_environments(self) -> list[str]:
        changed = {c.environment for c in self.differences}
        return [e for e in self.environments if e in changed]


def release_view(history: ReleaseHistory, ref: str) -> ReleaseView:
    """The view at ``ref`` (a branch, tag or commit of the repository)."""
    sha = history.repository.resolve(ref)
    deployment = history.deployment(sha)
    last = history.last_release(sha)
    earlier = history.deployment(last.commit) if last is not None else None
    environments = history.environments(deployment, *([earlier] if earlier else []))
    differences = version_changes(earlier, deployment, environments) if earlier else []
    certification = certify(history, sha, ref, deployment)
    unread = [(ref, u) for u in deployment.unread]
    if last is not None and earlier is not None and last.commit != sha:
        unread += [(last.name, u) for u in earlier.unread]
    unread += [item for item in certification.unread if item not in unread]
    settings = history.settings
    return ReleaseView(
        ref=ref, commit=sha, environments=environments,
        microservices=sorted({d.microservice for d in deployment.versions}),
        deployment=deployment, certification=certification, last_release=last,
        differences=differences, unread=unread, microservice_rule=settings.microservice_rule,
        certified_in=settings.certified_in, production=settings.production)
