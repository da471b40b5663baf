"""What Argo CD discovery reads and yields: its settings, Applications and their
sources, the paths they deploy, and notes on what it passed over."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from gate.loading.globs import match_name

#: The label (or annotation) on an Application that names its environment, by default.
DEFAULT_LABEL = "gate.dev/environment"
#: Labels read when the configured one is absent, in this order.
CONVENTIONAL_LABELS = ("environment", "env")
#: The environment of an Application that nothing names; policies treat it as prod.
UNKNOWN = "unknown"


class Note(NamedTuple):
    """Something discovery passed over, and why: shown with ``-v``, never a failure."""

    file: str
    line: int | None
    message: str


# -- settings and results --------------------------------------------------------------


@dataclass(frozen=True)
class ArgoSettings:
    """How to discover: the ``discover: argocd`` entry of ``environments``."""

    label: str = DEFAULT_LABEL
    paths: tuple[str, ...] = ()  # where Application manifests are; () is the whole tree
    repo_urls: tuple[str, ...] = ()  # this repository's URLs; () accepts any
    target_revisions: tuple[str, ...] = ()  # globs of accepted revisions; () accepts any
    new_git_file_globbing: bool = False  # the ApplicationSet controller's flag

    def rejects(self, repo_url: str, revision: str) -> str | None:
        """Why a source at ``repo_url``/``revision`` is not read from this tree, or None."""
        if self.repo_urls:
            wanted = {normalize_repo_url(url) for url in self.repo_urls}
            if normalize_repo_url(repo_url) not in wanted:
                return f"repoURL {repo_url!r} is not this repository"
        if self.target_revisions and not any(
            match_name(pattern, _revision(revision)) for pattern in self.target_revisions
        ):
            accepted = ", ".join(self.target_revisions)
            return f"it tracks {revision or 'HEAD'!r}, not {accepted}"
        return None


@dataclass(frozen=True)
class AppSource:
    """One entry of ``spec.source``/``spec.sources`` as written."""

    index: int | None  # position in spec.sources; None for spec.source
    line: int
    repo_url: str = ""
    target_revision: str = "HEAD"
    path: str | None = None
    chart: str | None = None
    ref: str | None = None
    tool: str | None = None  # explicitly chosen tool
    recurse: bool = False
    include: str = ""
    exclude: str = ""
    value_files: tuple[str, ...] = ()
    ignore_missing_value_files: bool = False
    # spec.source.kustomize.images: (``kustomize edit set image`` argument, its line)
    kustomize_images: tuple[tuple[str, int], ...] = ()
    # Overrides gate does not apply (``kustomize.namePrefix``, ``helm.values``...): their
    # field names and the line of the first.
    unapplied: tuple[str, ...] = ()
    unapplied_line: int = 0

    @property
    def label(self) -> str:
        return "spec.source" if self.index is None else f"spec.sources[{self.index}]"


@dataclass(frozen=True)
class Application:
    """An Application manifest, or one an ApplicationSet generates."""

    name: str
    file: str
    line: int
    environment: str
    environment_from: str  # what named the environment, e.g. "label gate.dev/environment"
    sources: tuple[AppSource, ...]
    generate_paths: tuple[str, ...] = ()
    project: str = ""
    namespace: str = ""  # destination namespace
    destination: str = ""  # destination server, or name
    application_set: str | None = None

    @property
    def label(self) -> str:
        return application_label(self.name, self.application_set)


def application_label(name: str, application_set: str | None) -> str:
    owner = f" (from ApplicationSet {application_set!r})" if application_set else ""
    return f"Application {name!r}{owner}"


@dataclass(frozen=True)
class DeployedPath:
    """A repository path an Application deploys, with what renders it and where to."""

    path: str | None  # tree path of source.path ("" the root); None: a Helm repository chart
    environment: str
    application: str
    kind: str  # directory | kustomize | helm | plugin
    file: str  # the manifest of the Application (or of its ApplicationSet)
    line: int
    environment_from: str = ""
    recurse: bool = False  # subdirectories deployed too (always, but for directory sources)
    include: str = ""  # directory sources: glob of files to read
    exclude: str = ""  # directory sources: glob of files to leave out
    value_files: tuple[str, ...] = ()  # Helm values files, as tree paths
    extra_paths: tuple[str, ...] = ()  # manifest-generate-paths: tree paths or globs
    # Argo CD's image overrides of a kustomize source: (argument, Application file, line)
    kustomize_images: tuple[tuple[str, str, int], ...] = ()
    # Overrides of the source gate does not apply, and the line of the first.
    unapplied: tuple[str, ...] = ()
    unapplied_line: int = 0
    chart: str | None = None  # chart name, for a chart from a Helm repository
    repo_url: str = ""
    target_revision: str = ""
    namespace: str = ""
    destination: str = ""
    project: str = ""
    application_set: str | None = None
    source_index: int | None = None


@dataclass
class Discovery:
    applications: list[Application] = field(default_factory=list)
    deployed: list[DeployedPath] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def normalize_repo_url(url: str) -> str:
    """A repository URL in one spelling per repository, for comparison (as Argo CD does).

    Lowercase; scp-style ``git@host:org/repo`` becomes ``ssh://git@host/org/repo``;
    trailing ``/`` and ``.git`` go. ``https://`` and ``ssh://`` URLs of one repository
    stay different, as they are to Argo CD.
    """
    url = url.strip().lower()
    if re.match(r"^(ssh://)?[^/:]*?@[^@]+$", url) and not url.startswith("ssh://"):
        url = "ssh://" + url.replace(":", "/", 1)
    url = url.rstrip("/").removesuffix(".git").rstrip("/")
    return url


def _revision(revision: str) -> str:
    revision = revision.strip() or "HEAD"
    for prefix in ("refs/heads/", "refs/tags/"):
        revision = revision.removeprefix(prefix)
    return revision
