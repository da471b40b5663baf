"""A repository's releases as the release commands read them: its release tags, what
each environment deploys at a commit (read once per commit), the release tags reachable
from a commit, and the environments in promotion order."""
from __future__ import annotations

from gate.config import Config
from gate.git.repository import Repository
from gate.governance.releases.tags import ReleaseTag, release_tags
from gate.governance.releases.versions import Deployment, read_deployment


class ReleaseHistory:
    """Release tags and deployments of one repository, judged by one config."""

    def __init__(self, repository: Repository, config: Config, kustomize: str = "auto") -> None:
        self.repository = repository
        self.config = config
        self.settings = config.releases
        self.kustomize = kustomize
        self.tags = release_tags(repository, self.settings)  # oldest version first
        self._deployments: dict[str, Deployment] = {}

    def deployment(self, sha: str) -> Deployment:
        """What every environment deploys at commit ``sha``, read from git (no checkout)."""
        if sha not in self._deployments:
            self._deployments[sha] = read_deployment(
                self.repository.tree_at(sha), self.config, self.kustomize)
        return self._deployments[sha]

    def tag(self, name: str) -> ReleaseTag | None:
        return next((tag for tag in self.tags if tag.name == name), None)

    def reachable(self, sha: str) -> list[ReleaseTag]:
        """The release tags at ``sha`` or among its ancestors, oldest version first."""
        return [tag for tag in self.tags if self.repository.is_ancestor(tag.commit, sha)]

    def last_release(self, sha: str) -> ReleaseTag | None:
        """The last release tag at or before ``sha``: the highest version reachable."""
        reachable = self.reachable(sha)
        return reachable[-1] if reachable else None

    def environments(self, *deployments: Deployment) -> list[str]:
        """The environments in promotion order: ``releases.environments``, else the
        explicit ``environments`` entries in the order configured; then any other
        environment the deployments name, by name."""
        ordered = list(self.settings.environments) or list(
            dict.fromkeys(rule.name for rule in self.config.environments.rules))
        seen = {d.environment for deployment in deployments for d in deployment.versions}
        seen |= {u.environment for deployment in deployments for u in deployment.unread
                 if u.environment}
        return ordered + sorted(seen - set(ordered))
