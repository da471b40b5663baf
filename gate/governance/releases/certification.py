"""Certification: production runs only versions its certifying environment ran.

The rule (docs/releases.md): a version a production environment deploys at a commit
is **certified** when the certifying environment (``releases.certified_in``, staging by
default) deploys the same version of the same microservice (same image repository, tag
and digest) at that commit, or at a release tag reachable from it (the commit itself or
one of its ancestors). Staging having run it at a tag of another branch, or at a commit
no release tag names, does not count: a release tag is the record that it ran there.
"""
from __future__ import annotations

from dataclasses import dataclass

from gate.governance.releases.history import ReleaseHistory
from gate.governance.releases.versions import Deployed, Deployment, Unread


@dataclass(frozen=True)
class Certification:
    """One version a production environment deploys, and where staging ran it."""

    deployed: Deployed
    #: The ref or release tag at which the certifying environment ran it; None: never.
    certified_at: str | None

    @property
    def certified(self) -> bool:
        return self.certified_at is not None


@dataclass
class CertificationResult:
    certifications: list[Certification]
    #: The release tags consulted, newest version first, as far as needed.
    consulted: list[str]
    #: What could not be read in the certifying environment at a consulted release tag.
    unread: list[tuple[str, Unread]]

    @property
    def uncertified(self) -> list[Certification]:
        return [c for c in self.certifications if not c.certified]


def certify(history: ReleaseHistory, sha: str, label: str,
            deployment: Deployment) -> CertificationResult:
    """The certification of every version a production environment deploys at ``sha``
    (``deployment``, named ``label`` in the result), checked at ``sha`` first, then at the
    reachable release tags from the newest version down, reading a tag only while some
    version is still uncertified."""
    settings = history.settings
    certifying = settings.certified_in
    pending: dict[Deployed, str | None] = {
        d: None for d in deployment.versions if d.environment in settings.production}
    _mark(pending, deployment, certifying, label)
    consulted: list[str] = []
    unread: list[tuple[str, Unread]] = []
    for tag in reversed(history.reachable(sha)):
        if all(at is not None for at in pending.values()):
            break
        if tag.commit == sha:
            continue  # the tree already judged
        consulted.append(tag.name)
        earlier = history.deployment(tag.commit)
        unread.extend((tag.name, u) for u in earlier.unread
                      if u.environment in ("", certifying))
        _mark(pending, earlier, certifying, tag.name)
    return CertificationResult(
        [Certification(d, at) for d, at in sorted(pending.items())], consulted, unread)


def _mark(pending: dict[Deployed, str | None], certifying_deployment: Deployment,
          certifying: str, label: str) -> None:
    ran = {(d.microservice, d.key) for d in certifying_deployment.versions
           if d.environment == certifying}
    for deployed, at in pending.items():
        if at is None and (deployed.microservice, deployed.key) in ran:
            pending[deployed] = label
