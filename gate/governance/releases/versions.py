"""What each environment deploys at one tree: the versions of its microservices.

Read as gate reads for judging: plain manifests and Kustomize overlays are rendered
(Argo CD's image overrides applied), and every container image of a pod-bearing
resource is one deployed version of the microservice it belongs to. Helm charts are
not rendered for this view (gate has no template engine of its own): a chart's
versions are the image blocks of its values (``{repository, tag, digest}`` at any
depth, the shape CI bumps), the chart's ``values.yaml`` overlaid by each release's
values files in order. A release is an Argo CD Application's Helm source (its
``valueFiles``), else a values file of the chart whose path the ``environments``
config places in an environment.

What cannot be read is listed, never left out in silence: a unit that fails to render
and a chart deployed to an environment whose values hold no image block.
"""
from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gate.config import Config
from gate.loading import kube
from gate.loading.deployed import image_entries
from gate.loading.imageref import parse_image
from gate.loading.planning import Planner
from gate.loading.renderers.base import RenderSettings
from gate.loading.renderers.helm import CHART_FILE
from gate.loading.resources import Resource
from gate.loading.tree_reading import tree_reader
from gate.loading.trees import FileTree, walk_files
from gate.loading.yamlio import YamlInputError, decode, load_located

VALUES_NAMES = ("values.yaml", "values.yml")


@dataclass(frozen=True, order=True)
class Deployed:
    """One version of a microservice that one environment deploys."""

    microservice: str
    environment: str
    repository: str  # the image repository, registry included (Docker Hub's spelled out)
    tag: str | None
    digest: str | None
    file: str  # where the version is set (an overlay's images: entry, a values file)
    line: int
    resource: str  # what deploys it: "Deployment/shop" or "chart charts/shop (release x)"

    @property
    def version(self) -> str:
        """The version as people name it: the tag, with the digest where one pins it."""
        if self.tag and self.digest:
            return f"{self.tag}@{self.digest}"
        return self.tag or self.digest or "(no tag)"

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """What makes two deployments the same version: repository, tag and digest."""
        return (self.repository, self.tag, self.digest)


@dataclass(frozen=True)
class Unread:
    """Something an environment deploys whose versions could not be read, and why."""

    file: str
    line: int | None
    message: str
    environment: str = ""


@dataclass
class Deployment:
    """Every environment's deployed versions at one tree."""

    versions: list[Deployed] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)

    def environments(self) -> list[str]:
        return sorted({d.environment for d in self.versions})

    def microservices(self) -> list[str]:
        return sorted({d.microservice for d in self.versions})

    def of(self, microservice: str, environment: str) -> list[Deployed]:
        """The versions one environment runs of one microservice (usually one)."""
        return [d for d in self.versions
                if d.microservice == microservice and d.environment == environment]

    def in_environment(self, environment: str) -> dict[str, list[Deployed]]:
        """microservice -> its versions, of one environment."""
        found: dict[str, list[Deployed]] = {}
        for deployed in self.versions:
            if deployed.environment == environment:
                found.setdefault(deployed.microservice, []).append(deployed)
        return found


def read_deployment(tree: FileTree, config: Config, kustomize: str = "auto") -> Deployment:
    """What every environment the config knows deploys at ``tree``."""
    settings = RenderSettings(kustomize, helm=False)
    collector, planner = tree_reader(tree, config, settings)
    plan = planner.directory("")
    label = config.releases.microservice_label
    deployment = Deployment()
    charts = _charts(tree)
    for error in plan.errors:
        # Charts are read from their values below; anything else stays unread.
        if not any(error.file == posixpath.join(chart, CHART_FILE) or error.file == chart
                   for chart in charts):
            deployment.unread.append(Unread(error.file, error.line, error.message))
    for batch in collector.read_all(plan.units):
        for error in batch.errors:
            deployment.unread.append(Unread(error.file, error.line, error.message,
                                            batch.unit.environment))
        for resource in batch.resources:
            if resource.environment:
                deployment.versions.extend(_container_versions(resource, label))
        batch.release()
    for chart in charts:
        _chart_versions(tree, planner, chart, deployment)
    deployment.versions = sorted(set(deployment.versions))
    deployment.unread.sort(key=lambda u: (u.file, u.line or 0, u.message))
    return deployment



def _container_versions(resource: Resource, label: str | None) -> Iterator[Deployed]:
    name = _labelled(resource.obj, label) if label else None
    for entry in image_entries([resource]):
        yield Deployed(name or entry["name"], resource.environment, entry["name"], entry["tag"],
                       entry["digest"], entry["file"], entry["line"], _kind_name(resource))


def _labelled(obj: Any, label: str) -> str | None:
    """The label's value on the pod template, else on the workload."""
    template = kube.pod_template(obj)
    for holder in (template, obj):
        metadata = holder.get("metadata") if isinstance(holder, dict) else None
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        value = labels.get(label) if isinstance(labels, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def _kind_name(resource: Resource) -> str:
    obj = resource.obj
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"{obj.get('kind', '?')}/{name or '?'}"


# -- Helm charts, from their values -----------------------------------------------------


def _charts(tree: FileTree) -> list[str]:
    return sorted(posixpath.dirname(path) for path in walk_files(tree, "")
                  if posixpath.basename(path) == CHART_FILE)


def _chart_versions(tree: FileTree, planner: Planner, chart: str,
                    deployment: Deployment) -> None:
    """The versions each release of ``chart`` sets in its values, by environment."""
    own = next((posixpath.join(chart, name) for name in VALUES_NAMES
                if tree.is_file(posixpath.join(chart, name))), None)
    releases: list[tuple[str, str, tuple[str, ...]]] = []  # (environment, release, values)
    explicit = _explicit_environment(planner, chart)
    for deployed in planner.deployed():
        if deployed.kind == "helm" and deployed.path == chart and deployed.environment:
            # A chart deployed by Applications of several environments is "unknown" as a
            # path; each release of it is its own Application's, unless an explicit
            # config entry places the chart (explicit entries win over discovery).
            environment = explicit or deployed.environment
            releases.append((environment, deployed.application, deployed.value_files))
    if not releases:
        prefix = f"{chart}/" if chart else ""
        for path in walk_files(tree, chart):
            name = posixpath.basename(path)
            if path == own or not name.startswith("values") or not name.endswith(
                    (".yaml", ".yml")) or "/" in path[len(prefix):]:
                continue
            placed = planner.environment_of(path)
            if placed:
                releases.append((placed, posixpath.basename(chart) or chart, (path,)))
    for environment, release, values in sorted(set(releases)):
        files = [own, *values] if own is not None else list(values)
        blocks: dict[tuple[str, ...], dict[str, Any]] = {}
        problem = None
        for path in files:
            try:
                _image_blocks(tree, path, blocks)
            except (OSError, YamlInputError) as exc:
                problem = Unread(path, getattr(exc, "line", None),
                                 f"values file cannot be read: {getattr(exc, 'message', exc)}",
                                 environment)
                break
        if problem is not None:
            deployment.unread.append(problem)
            continue
        what = f"chart {chart or '.'} (release {release})"
        if not any(isinstance(b.get("repository"), str) for b in blocks.values()):
            deployment.unread.append(Unread(
                files[-1] if files else chart, None,
                f"{what}: its values hold no image block ({{repository, tag}}), so its "
                "versions cannot be told without rendering it", environment))
            continue
        for block in blocks.values():
            if not isinstance(block.get("repository"), str) or not block["repository"].strip():
                continue
            repository = parse_image(str(block["repository"]))["name"]
            tag = block.get("tag")
            digest = block.get("digest")
            file, line = block.get("tag@", block["repository@"])
            deployment.versions.append(Deployed(
                repository, environment, repository,
                str(tag) if tag not in (None, "") else None,
                str(digest) if digest not in (None, "") else None,
                file, line, what))


def _explicit_environment(planner: Planner, path: str) -> str | None:
    """The environment an explicit ``environments`` entry gives ``path``, if one does."""
    if planner.environments is None:
        return None
    found = planner.environments.match(path)
    return found.environment if found is not None and not found.deployed else None


def _image_blocks(tree: FileTree, path: str,
                  blocks: dict[tuple[str, ...], dict[str, Any]]) -> None:
    """Merge one values file into ``blocks`` (key path -> the mapping's scalar values, and
    where each was set), as Helm merges values files: a later file's keys win, key by key.
    ``repository`` itself may come from an earlier file (values.yaml) and ``tag`` from a
    later one (values-prod.yaml)."""
    located = load_located(decode(tree.read_bytes(path), path), path)
    documents = [d for d in located.documents if d.data is not None]
    if not documents or not isinstance(documents[0].data, dict):
        return

    def visit(value: dict[str, Any], where: tuple[str, ...]) -> None:
        for key, child in value.items():
            if not isinstance(key, str):
                continue
            if isinstance(child, dict):
                visit(child, (*where, key))
            elif key in ("repository", "tag", "digest"):
                block = blocks.setdefault(where, {})
                block[key] = child
                block[f"{key}@"] = (path, located.line(0, (*where, key)) or 1)

    visit(documents[0].data, ())
