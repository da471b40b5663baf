"""Rollback recognition: a change that only moves an environment back to an earlier release.

For one environment a committed change reaches, the change is a **rollback** when

1. every changed file that reaches the environment differs, once parsed, only in version
   fields: the tag and digest of a container image, of a Kustomize ``images:`` entry, of
   an Argo CD source's ``kustomize.images`` override, of a Helm values image block
   (``tag``/``digest`` in a values file), and an Argo CD ``targetRevision`` (Applications,
   ApplicationSets' ``spec.template``, ``source`` and every ``sources[]`` entry). A file
   added, deleted or not YAML, an environment variable, a replica count or a new resource
   makes it not a rollback;
2. something moves: a microservice's version (what :mod:`gate.governance.releases.versions` reads
   the environment deploys) or an Application's ``targetRevision``;
3. there is one **earlier release tag** at which the environment deployed exactly the
   versions the change moves to (for every microservice it moves), and every
   ``targetRevision`` it changes moves to that same tag's name.

**Earlier** (docs/change-policies.md): a release tag (``releases.tag_pattern``) whose commit
is reachable from the base of the change (the merge base: a tag on an unmerged branch never
counts), and whose version is below the newest such tag, the release the environment was
last at; the newest tag itself counts too when the environment has moved on from it since
(at the base it deploys versions that tag did not, as after an untagged hotfix).

Everything is read from git (tag trees with ``Repository.tree_at``), once per commit, and
only when something asks: a policy reading ``rollback`` of a change document, or a calendar
rule with ``allow_rollback`` keeping the environment closed.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gate.config import Config
from gate.evaluation.changeset import Comparison
from gate.git.repository import Repository
from gate.governance.releases.tags import ReleaseTag, release_tags
from gate.governance.releases.versions import Deployed, Deployment, read_deployment
from gate.loading import kube
from gate.loading.argocd.applications import environment_of_application
from gate.loading.argocd.model import UNKNOWN
from gate.loading.imageref import parse_image
from gate.loading.trees import FileTree
from gate.loading.yamlio import LocatedYaml, YamlInputError, decode, load_located
from gate.results import ChangedFile, RollbackRecord

VERSION = "version"
TARGET_REVISION = "targetRevision"
_YAML = (".yaml", ".yml")
_MASK = "<version>"


@dataclass(frozen=True, order=True)
class Move:
    """One thing a change moves in one environment: a microservice's version or an
    Application source's ``targetRevision``."""

    kind: str  # VERSION or TARGET_REVISION
    subject: str  # the microservice, or "Application shop-prod spec.source"
    old: str
    new: str
    file: str  # where the head sets it
    line: int

    def describe(self) -> str:
        return f"{self.subject}: {self.old} -> {self.new}"

    def document(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "from": self.old, "to": self.new,
                "file": self.file, "line": self.line}


@dataclass(frozen=True)
class Rollback:
    """Whether a change is a rollback in one environment, and why (not)."""

    environment: str
    is_rollback: bool
    reason: str
    release: str | None = None
    moves: tuple[Move, ...] = ()

    def document(self) -> dict[str, Any]:
        return {"is_rollback": self.is_rollback, "release": self.release,
                "moves": [move.document() for move in self.moves], "reason": self.reason}

    def record(self, let_through: str = "") -> RollbackRecord:
        assert self.release is not None
        return RollbackRecord(self.environment, self.release,
                              tuple(move.describe() for move in self.moves), let_through)


def not_judged(environment: str, reason: str) -> Rollback:
    return Rollback(environment, False, reason)


@dataclass(frozen=True, order=True)
class _Revision:
    """An Argo CD source's targetRevision as one side writes it."""

    file: str
    owner: str  # "Application shop-prod" or "ApplicationSet shop"
    source: str  # "spec.source", "spec.sources[1]", "spec.template.spec.source"
    revision: str
    environment: str
    line: int
    repo_url: str = ""
    chart: bool = False  # a Helm repository chart: its targetRevision is a chart version


@dataclass
class RollbackJudge:
    """Recognises rollbacks of one committed change, environment by environment, lazily."""

    repository: Repository
    config: Config
    base_sha: str  # the merge base: what the change is compared with
    target_sha: str  # the tip of --base: a tag reachable from it was reviewed
    base_tree: FileTree
    head_tree: FileTree
    files: list[ChangedFile]
    file_environments: dict[str, list[str]]
    kustomize: str = "auto"
    value_files: Callable[[], set[str]] = set
    _judged: dict[str, Rollback] = field(default_factory=dict, repr=False)
    _deployments: dict[str, Deployment] = field(default_factory=dict, repr=False)
    _tags: list[ReleaseTag] | None = field(default=None, repr=False)
    _all_tags: dict[str, str] | None = field(default=None, repr=False)
    _revisions: tuple[list[_Revision], list[_Revision]] | None = field(default=None,
                                                                       repr=False)

    def judged(self) -> dict[str, Rollback]:
        """The environments judged so far (nothing is judged that nobody asked about)."""
        return dict(self._judged)

    def judge(self, environment: str) -> Rollback:
        if environment not in self._judged:
            self._judged[environment] = self._judge(environment)
        return self._judged[environment]

    # -- the steps ---------------------------------------------------------------------
    def _judge(self, environment: str) -> Rollback:
        if not environment:
            return not_judged(environment, "the change reaches no known environment")
        revisions = self._revision_moves(environment)
        # The files that reach the environment, and those of its Applications.
        files = {f.path for f in self.files
                 if environment in self.file_environments.get(f.path, [])}
        files |= {move.file for move in revisions}
        reached = [f for f in self.files if f.path in files]
        if not reached:
            return not_judged(environment, f"the change changes no file of {environment}")
        for changed in reached:
            problem = self._more_than_versions(changed)
            if problem is not None:
                return not_judged(environment, problem)
        base = self._deployment(self.base_sha, self.base_tree)
        head = self._deployment("head", self.head_tree)
        for side, deployment in (("head", head), ("base", base)):
            unread = [u for u in deployment.unread if u.environment in ("", environment)]
            if unread:
                first = unread[0]
                where = f"{first.file}:{first.line}" if first.line else first.file
                return not_judged(environment, f"the versions {environment} deploys at the "
                                               f"{side} cannot all be read ({where}: "
                                               f"{first.message})")
        moves, problem = _version_moves(environment, base, head)
        if problem is not None:
            return not_judged(environment, problem)
        moves += revisions
        if not moves:
            return not_judged(environment, f"nothing the change moves in {environment} is a "
                                           "version or a targetRevision")
        return self._match_release(environment, moves, base, head)

    def _more_than_versions(self, changed: ChangedFile) -> str | None:
        """Why a changed file is more than a version change, or None."""
        if changed.status == "A":
            return f"{changed.path} is a new file"
        if changed.status == "D":
            return f"{changed.path} is deleted"
        old_path = changed.old_path or changed.path
        if not changed.path.endswith(_YAML) or not old_path.endswith(_YAML):
            return f"{changed.path} is not a YAML file gate can compare"
        values = self.value_files()
        try:
            old, _ = _masked(self.base_tree, old_path, old_path in values)
            new, located = _masked(self.head_tree, changed.path, changed.path in values)
        except (OSError, YamlInputError) as exc:
            return f"{changed.path} cannot be compared: {getattr(exc, 'message', exc)}"
        if len(old) != len(new):
            return f"{changed.path}: the change adds or removes a YAML document"
        for index, (old_data, new_data) in enumerate(zip(old, new, strict=True)):
            if old_data != new_data:
                where = _difference(old_data, new_data, ())
                line = located.line(index, where) or located.documents[index].line
                field = ".".join(str(part) for part in where)
                return (f"{changed.path}:{line}: the change alters "
                        f"{field or 'a document'}, not only versions and targetRevisions")
        return None

    def _deployment(self, key: str, tree: FileTree) -> Deployment:
        if key not in self._deployments:
            self._deployments[key] = read_deployment(tree, self.config, self.kustomize)
        return self._deployments[key]

    def _release_tags(self) -> list[ReleaseTag]:
        """The release tags reachable from the base, newest version first."""
        if self._tags is None:
            self._tags = sorted(
                (tag for tag in release_tags(self.repository, self.config.releases)
                 if self.repository.is_ancestor(tag.commit, self.base_sha)), reverse=True)
        return self._tags

    def _changed_revisions(self, environment: str
                           ) -> list[tuple[_Revision | None, _Revision]]:
        """(base, head) of each Argo CD source of ``environment`` whose targetRevision the
        change sets (base None: a source new at the head)."""
        if self._revisions is None:
            label = self.config.environments.argocd.label if (
                self.config.environments.argocd is not None) else None
            self._revisions = (
                [r for f in self.files if f.status != "A"
                 for r in _target_revisions(self.base_tree, f.old_path or f.path, label)],
                [r for f in self.files if f.status != "D"
                 for r in _target_revisions(self.head_tree, f.path, label)])
        old_revisions = {(r.owner, r.source): r for r in self._revisions[0]}
        changed: list[tuple[_Revision | None, _Revision]] = []
        for revision in self._revisions[1]:
            before = old_revisions.get((revision.owner, revision.source))
            if before is not None and before.revision == revision.revision:
                continue
            # An Application belongs to its own environment; one gate cannot place (no
            # label or namespace, an ApplicationSet's templated label) to every environment
            # its file reaches.
            placed = revision.environment not in ("", UNKNOWN) and "{{" not in (
                revision.environment)
            if placed and revision.environment != environment:
                continue
            if not placed and environment not in self.file_environments.get(revision.file, []):
                continue
            changed.append((before, revision))
        return sorted(changed, key=lambda pair: pair[1])

    def _revision_moves(self, environment: str) -> list[Move]:
        return sorted(Move(TARGET_REVISION, f"{revision.owner} {revision.source}",
                           before.revision, revision.revision, revision.file, revision.line)
                      for before, revision in self._changed_revisions(environment)
                      if before is not None)

    def target_revisions(self, environment: str) -> list[dict[str, Any]]:
        """The change document's ``target_revisions``: each git source of ``environment``
        whose targetRevision the change sets, and whether that names a tag of the
        repository whose commit is reachable from the base (the tip of ``--base``)."""
        if self._all_tags is None:
            self._all_tags = {tag.name: tag.commit for tag in self.repository.tags()}
        found: list[dict[str, Any]] = []
        for before, revision in self._changed_revisions(environment):
            if revision.chart:
                continue  # a Helm repository chart's targetRevision is a chart version
            commit = self._all_tags.get(revision.revision)
            reachable = commit is not None and self.repository.is_ancestor(
                commit, self.target_sha)
            found.append({
                "application": revision.owner, "source": revision.source,
                "repo_url": revision.repo_url,
                "from": before.revision if before is not None else None,
                "to": revision.revision, "file": revision.file, "line": revision.line,
                "tag": {"exists": commit is not None, "commit": commit,
                        "reachable": reachable}})
        return found

    def _match_release(self, environment: str, moves: list[Move], base: Deployment,
                       head: Deployment) -> Rollback:
        tags = self._release_tags()
        if not tags:
            return not_judged(environment, "no release tag (releases.tag_pattern "
                                           f"{self.config.releases.tag_pattern!r}) is "
                                           "reachable from the base of the change")
        latest = tags[0]
        latest_versions = self._deployment(latest.commit, self.repository.tree_at(
            latest.commit, latest.name)).in_environment(environment)
        moved_on = _keys(base.in_environment(environment)) != _keys(latest_versions)
        earlier = tags[1:] if not moved_on else tags
        wanted = head.in_environment(environment)
        revisions = {m.new for m in moves if m.kind == TARGET_REVISION}
        for tag in earlier:
            if revisions and revisions != {tag.name}:
                continue
            ran = self._deployment(tag.commit, self.repository.tree_at(tag.commit, tag.name))
            ran_here = ran.in_environment(environment)
            if all(_keys({m.subject: ran_here.get(m.subject, [])})
                   == _keys({m.subject: wanted.get(m.subject, [])})
                   for m in moves if m.kind == VERSION):
                return Rollback(environment, True, f"{environment} moves back to what release "
                                f"{tag.name} deployed", tag.name, tuple(moves))
        names = ", ".join(tag.name for tag in earlier) or "none"
        what = "; ".join(m.describe() for m in moves)
        return not_judged(environment, f"{what}: not what {environment} ran at one earlier "
                                       f"release tag (earlier than {latest.name}"
                                       f"{' and it' if moved_on else ''}: {names})")

    def records(self, let_through: Callable[[str], str]) -> list[RollbackRecord]:
        """The rollbacks recognised so far; ``let_through(environment)`` names the calendar
        rules an ``allow_rollback`` let each through ("" where none was closed)."""
        return [rollback.record(let_through(environment))
                for environment, rollback in sorted(self._judged.items())
                if rollback.is_rollback]


def _keys(versions: dict[str, list[Deployed]]) -> dict[str, set[tuple[str, str | None,
                                                                     str | None]]]:
    return {name: {d.key for d in found} for name, found in versions.items()}


def _version_moves(environment: str, base: Deployment,
                   head: Deployment) -> tuple[list[Move], str | None]:
    before = base.in_environment(environment)
    after = head.in_environment(environment)
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    if added:
        return [], f"the change deploys {added[0]} to {environment}, which it did not run"
    if removed:
        return [], f"the change removes {removed[0]} from {environment}"
    moves: list[Move] = []
    for name in sorted(after):
        old = sorted(before[name])
        new = sorted(after[name])
        if {d.key for d in old} == {d.key for d in new}:
            continue
        moves.append(Move(VERSION, name, ", ".join(sorted({d.version for d in old})),
                          ", ".join(sorted({d.version for d in new})), new[0].file,
                          new[0].line))
    return moves, None


# -- what a file says beside its versions -----------------------------------------------


def _difference(old: Any, new: Any, where: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The path of the first place ``new`` differs from ``old`` (both differ)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(k for k in old if k not in new)]:
            if key not in old or key not in new:
                return (*where, key) if key in new else where
            if old[key] != new[key]:
                return _difference(old[key], new[key], (*where, key))
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                return _difference(a, b, (*where, index))
    return where


def _masked(tree: FileTree, path: str, values_file: bool) -> tuple[list[Any], LocatedYaml]:
    """Each YAML document of ``path`` with its version fields masked, and the file."""
    located = load_located(decode(tree.read_bytes(path), path), path)
    name = posixpath.basename(path)
    values = values_file or (name.startswith("values") and name.endswith(_YAML))
    kustomization = name in ("kustomization.yaml", "kustomization.yml")
    found: list[Any] = []
    for document in located.documents:
        data = document.data
        if isinstance(data, dict) and (kustomization or _is_kustomization(data)):
            data = _mask_kustomization(data)
        elif isinstance(data, dict) and isinstance(data.get("kind"), str) and isinstance(
                data.get("apiVersion"), str):
            data = _mask_object(data)
        elif values:
            data = _mask_values(data)
        found.append(data)
    return found, located


def _is_kustomization(data: dict[str, Any]) -> bool:
    return data.get("kind") == "Kustomization" and str(data.get("apiVersion", "")).startswith(
        "kustomize.config.k8s.io/")


def _mask_kustomization(data: dict[str, Any]) -> dict[str, Any]:
    masked = dict(data)
    images = data.get("images")
    if isinstance(images, list):
        # Left out, not masked: adding or dropping a digest pin is a version change too.
        masked["images"] = [
            {k: v for k, v in item.items() if k not in ("newTag", "digest")}
            if isinstance(item, dict) else item for item in images]
    return masked


def _mask_image(reference: Any) -> Any:
    if not isinstance(reference, str):
        return reference
    parsed = parse_image(reference)
    return f"{parsed['name']}:{_MASK}" if parsed.get("valid", True) else reference


def _mask_object(data: dict[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = _copy(data)
    for container in kube.containers(masked):
        if isinstance(container, dict) and "image" in container:
            container["image"] = _mask_image(container["image"])
    if str(masked.get("apiVersion", "")).startswith("argoproj.io/"):
        for source_spec in _source_holders(masked):
            for source in _sources(source_spec):
                if "targetRevision" in source:
                    source["targetRevision"] = _MASK
                overrides = source.get("kustomize")
                if isinstance(overrides, dict) and isinstance(overrides.get("images"), list):
                    overrides["images"] = [_mask_override(item) for item in overrides["images"]]
    return masked


def _mask_override(item: Any) -> Any:
    """An Argo CD ``kustomize.images`` entry (``name=new:tag`` or ``name:tag``)."""
    if not isinstance(item, str):
        return item
    name, equals, image = item.partition("=")
    return f"{name}={_mask_image(image)}" if equals else _mask_image(item)


def _mask_values(value: Any) -> Any:
    """A Helm values document without the ``tag`` and ``digest`` of its image blocks
    (any mapping's ``tag``/``digest`` scalar: a values file of one environment often sets
    only ``image.tag``, over the chart's ``image.repository``; a digest pin comes and
    goes with a version)."""
    if isinstance(value, dict):
        return {key: _mask_values(child) for key, child in value.items()
                if not (key in ("tag", "digest") and not isinstance(child, (dict, list)))}
    if isinstance(value, list):
        return [_mask_values(item) for item in value]
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _source_holders(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The specs holding Argo CD sources: an Application's, an ApplicationSet template's."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if obj.get("kind") == "ApplicationSet":
        template = spec.get("template")
        inner = template.get("spec") if isinstance(template, dict) else None
        if isinstance(inner, dict):
            yield inner
    else:
        yield spec


def _sources(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    single = spec.get("source")
    if isinstance(single, dict):
        yield single
    many = spec.get("sources")
    if isinstance(many, list):
        yield from (item for item in many if isinstance(item, dict))


def _target_revisions(tree: FileTree, path: str, label: str | None) -> list[_Revision]:
    """Every Argo CD source's targetRevision written in ``path`` (none if unreadable)."""
    try:
        raw = tree.read_bytes(path)
        if b"argoproj.io" not in raw:
            return []
        located = load_located(decode(raw, path), path)
    except (OSError, YamlInputError):
        return []
    found: list[_Revision] = []
    for index, document in enumerate(located.documents):
        data = document.data
        if not isinstance(data, dict) or not str(data.get("apiVersion", "")).startswith(
                "argoproj.io/") or data.get("kind") not in ("Application", "ApplicationSet"):
            continue
        meta: dict[str, Any] = _mapping(data.get("metadata"))
        owner = f"{data['kind']} {meta.get('name', '?')}"
        prefix: tuple[str, ...] = ("spec",)
        spec: Any = data.get("spec")
        environment_meta: dict[str, Any] = meta
        owner_meta: dict[str, Any] = {}
        if data["kind"] == "ApplicationSet":
            prefix = ("spec", "template", "spec")
            template = _mapping(_mapping(spec).get("template"))
            environment_meta = _mapping(template.get("metadata"))
            owner_meta = meta
            spec = template.get("spec")
        if not isinstance(spec, dict):
            continue
        environment, _ = environment_of_application(
            environment_meta, spec, owner_meta, label or "gate.dev/environment")
        where: list[tuple[tuple[str | int, ...], Any]] = []
        if isinstance(spec.get("source"), dict):
            where.append((("source",), spec["source"]))
        if isinstance(spec.get("sources"), list):
            where += [(("sources", i), item) for i, item in enumerate(spec["sources"])
                      if isinstance(item, dict)]
        for at, source in where:
            revision = source.get("targetRevision")
            text = "HEAD" if revision in (None, "") else str(revision)
            name = ".".join(prefix) + "." + (
                "source" if len(at) == 1 else f"sources[{at[1]}]")
            line = located.line(index, (*prefix, *at, "targetRevision")) or document.line
            found.append(_Revision(path, owner, name, text, environment, line,
                                   str(source.get("repoURL") or ""),
                                   bool(source.get("chart"))))
    return found


def rollback_judge(repository: Repository, config: Config, merge_base: str, target_sha: str,
                   files: list[ChangedFile], comparison: Comparison,
                   kustomize: str = "auto") -> RollbackJudge:
    """The judge of a committed change ``gate diff`` compared (``comparison``)."""
    planners = comparison.planners

    def value_files() -> set[str]:
        return {path for planner in planners.values() for deployed in planner.deployed()
                if deployed.kind == "helm" for path in deployed.value_files}

    cache: list[set[str]] = []

    def cached() -> set[str]:
        if not cache:
            cache.append(value_files())
        return cache[0]

    return RollbackJudge(
        repository=repository, config=config, base_sha=merge_base, target_sha=target_sha,
        base_tree=comparison.collectors["base"].tree,
        head_tree=comparison.collectors["head"].tree, files=list(files),
        file_environments=comparison.file_environments, kustomize=kustomize,
        value_files=cached)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
