"""What changed between two deployments, per microservice and environment."""
from __future__ import annotations

from dataclasses import dataclass

from gate.governance.releases.versions import Deployed, Deployment

CHANGED, ADDED, REMOVED = "changed", "added", "removed"


@dataclass(frozen=True)
class VersionChange:
    """One microservice whose versions in one environment differ between two trees."""

    microservice: str
    environment: str
    change: str  # changed, added (only after), removed (only before)
    before: tuple[Deployed, ...]
    after: tuple[Deployed, ...]

    @property
    def before_versions(self) -> tuple[str, ...]:
        return versions(self.before)

    @property
    def after_versions(self) -> tuple[str, ...]:
        return versions(self.after)

    def describe(self) -> str:
        """``1.2.0 -> 1.3.0``, ``added 1.0.0``, ``removed 1.0.0``."""
        before, after = ", ".join(self.before_versions), ", ".join(self.after_versions)
        if self.change == ADDED:
            return f"added {after}"
        if self.change == REMOVED:
            return f"removed {before}"
        return f"{before} -> {after}"


def versions(deployed: tuple[Deployed, ...] | list[Deployed]) -> tuple[str, ...]:
    """The distinct versions, sorted (a microservice may run in several workloads)."""
    return tuple(sorted({d.version for d in deployed}))


def version_changes(before: Deployment, after: Deployment,
                    environments: list[str]) -> list[VersionChange]:
    """Every (microservice, environment) whose set of versions (repository, tag, digest)
    differs, in promotion order of the environments, then by microservice. Where a
    version is set (file, line) is not a change."""
    order = {name: index for index, name in enumerate(environments)}
    keys = {(d.environment, d.microservice) for d in (*before.versions, *after.versions)}
    found: list[VersionChange] = []
    for environment, microservice in sorted(keys, key=lambda k: (order.get(k[0], len(order)),
                                                                  k[0], k[1])):
        old = tuple(before.of(microservice, environment))
        new = tuple(after.of(microservice, environment))
        if {d.key for d in old} == {d.key for d in new}:
            continue
        change = ADDED if not old else REMOVED if not new else CHANGED
        found.append(VersionChange(microservice, environment, change, old, new))
    return found
