"""What ``gate init`` finds in a repository: its environments and where its own policies
can go.

- **Environment folders**: a folder named for an environment (``overlays/prod``,
  ``envs/staging``, ``clusters/production``, ``apps/production``) that holds YAML files
  becomes an entry ``{name, paths: ["<folder>/**"]}``, so every proposed glob matches
  what is there. Names such as ``test`` or ``local`` count only inside a folder of
  environments (``overlays``, ``envs``, ``environments``, ``clusters``, ...).
- **Argo CD Applications**: where gate's own discovery (``gate.loading.argocd``) finds
  Applications, ``{discover: argocd}`` is proposed; Applications that exist only in a Helm
  chart template are reported, since discovery cannot read them.
- **The policies folder**: ``policies``, unless something of that name exists (Kyverno's
  policies, say), then ``.gate/policies``; an existing layout is never written into.

Nothing is read through a link that leaves the directory, and hidden folders (``.git``,
``.github``) are not entered. The walk is bounded and sorted, so the proposal is the same
on every machine.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from gate.errors import ConfigError
from gate.loading.environments import NAME_PATTERN

#: Where gate init puts its example policy: the first that does not exist.
POLICY_FOLDERS = ("policies", ".gate/policies")
#: At most this many folders are looked at (the proposal says when it stopped early).
MAX_FOLDERS = 20_000

# Environment names by kind, in the order the proposal lists them (production first,
# since first match wins and production is where a wrong mapping costs most).
_NAMED = (
    ("prod", "production", "prd", "live"),
    ("preprod", "pre-prod", "staging", "stage", "stg", "uat", "qa"),
    ("dev", "development", "sandbox"),
)
_STRONG = {name: rank for rank, names in enumerate(_NAMED) for name in names}
# Names that mean an environment only inside a folder of environments.
_WEAK = ("test", "testing", "int", "integration", "perf", "demo", "local", "sit",
         "nonprod", "non-prod")
_CONTAINERS = ("overlays", "overlay", "envs", "env", "environments", "environment",
               "clusters", "cluster", "stages")
# Path components a glob spells as written (no glob syntax, spaces or escapes).
_PLAIN = re.compile(r"^[A-Za-z0-9._-]+$")
_APPLICATION_KIND = re.compile(rb"^\s*kind:\s*[\"']?Application(?:Set)?[\"']?\s*$", re.M)


@dataclass(frozen=True)
class Environment:
    name: str
    paths: tuple[str, ...]  # globs relative to the repository root


@dataclass
class Layout:
    """What gate init proposes for one directory of a repository."""

    environments: list[Environment] = field(default_factory=list)
    applications: int = 0  # Argo CD Applications discovery reads
    templated: list[str] = field(default_factory=list)  # chart templates with Applications
    policy_folder: str = POLICY_FOLDERS[0]
    taken: str | None = None  # the existing folder that moved the policies elsewhere
    notes: list[str] = field(default_factory=list)  # what was passed over, and why

    def production(self) -> str | None:
        """The first production environment found (prod, production, live, ...)."""
        for environment in self.environments:
            if _rank(environment.name) == 0:
                return environment.name
        return None


def read_layout(directory: str) -> Layout:
    """The proposal for ``directory`` (which need not exist yet)."""
    from gate.rulesource import repository_root

    layout = Layout()
    layout.policy_folder, layout.taken = _policy_folder(directory)
    if not os.path.isdir(directory):
        return layout
    root = repository_root(os.path.abspath(directory))
    prefix = os.path.relpath(os.path.abspath(directory), root).replace(os.sep, "/")
    prefix = "" if prefix == "." else prefix
    folders = _environment_folders(directory, layout.notes)
    layout.environments = _environments(folders, prefix, layout.notes)
    layout.applications, layout.templated = _argocd(root)
    return layout


def _policy_folder(directory: str) -> tuple[str, str | None]:
    taken = None
    for candidate in POLICY_FOLDERS:
        if not os.path.lexists(os.path.join(directory, *candidate.split("/"))):
            return candidate, taken
        taken = taken or candidate
    where = "" if directory in (".", "") else directory.rstrip("/") + "/"
    names = " and ".join(f"{where}{name}/" for name in POLICY_FOLDERS)
    raise ConfigError(f"refusing to write into an existing layout: {names} both exist, "
                      "and gate init writes its policies only where nothing is "
                      "(nothing written)")


# -- environment folders ------------------------------------------------------------------


def environment_name(folder: str, parent: str) -> str | None:
    """The environment a folder named ``folder`` (in ``parent``) stands for, if any."""
    if not NAME_PATTERN.match(folder):  # what an environment name may be
        return None
    lowered = folder.lower()
    tokens = re.split(r"[-_.]", lowered)
    if lowered in _STRONG or tokens[0] in _STRONG or tokens[-1] in _STRONG:
        return folder
    if lowered in _WEAK and parent.lower() in _CONTAINERS:
        return folder
    return None


def _rank(name: str) -> int:
    tokens = re.split(r"[-_.]", name.lower())
    for token in (name.lower(), tokens[0], tokens[-1]):
        if token in _STRONG:
            return _STRONG[token]
    return len(_NAMED)


def _environment_folders(directory: str, notes: list[str]) -> list[tuple[str, str]]:
    """``(environment, folder)`` for every outermost environment folder under
    ``directory`` that holds a YAML file (at any depth), folders relative to it."""
    candidates: list[tuple[str, str]] = []
    with_yaml: set[str] = set()
    seen, stopped = 0, False
    for current, dirs, files in os.walk(directory):
        relative = os.path.relpath(current, directory).replace(os.sep, "/")
        relative = "" if relative == "." else relative
        if any(name.endswith((".yaml", ".yml")) for name in files):
            with_yaml.add(relative)
        # Hidden folders, links and a chart's templates are not walked; sorted, so
        # that the proposal does not depend on the file system's order.
        dirs[:] = sorted(
            name for name in dirs
            if not name.startswith(".")
            and not os.path.islink(os.path.join(current, name))
            and not (name == "templates" and "Chart.yaml" in files)
        )
        seen += len(dirs)
        if seen > MAX_FOLDERS:
            if not stopped:
                notes.append(f"stopped after {MAX_FOLDERS:,} folders: the folders in "
                             f"{relative or '.'} and after it were not looked at")
            stopped = True
        if stopped:
            dirs[:] = []
        parent = relative.rsplit("/", 1)[-1] if relative else ""
        inside = any(relative == folder or relative.startswith(folder + "/")
                     for _, folder in candidates)
        for name in dirs:
            environment = environment_name(name, parent)
            if environment is not None and not inside:
                candidates.append((environment, f"{relative}/{name}" if relative else name))
    found: list[tuple[str, str]] = []
    for environment, folder in candidates:
        if any(path == folder or path.startswith(folder + "/") for path in with_yaml):
            found.append((environment, folder))
    return found


def _environments(folders: list[tuple[str, str]], prefix: str,
                  notes: list[str]) -> list[Environment]:
    paths: dict[str, list[str]] = {}
    for environment, folder in folders:
        where = f"{prefix}/{folder}" if prefix else folder
        if not all(_PLAIN.match(part) and part not in (".", "..")
                   for part in where.split("/")):
            notes.append(f"not proposed: {where!r} (a folder name a path glob cannot "
                         "spell as written; add it to .gate.yaml by hand)")
            continue
        paths.setdefault(environment, []).append(f"{where}/**")
    return [Environment(name, tuple(sorted(globs)))
            for name, globs in sorted(paths.items(), key=lambda item: (_rank(item[0]),
                                                                      item[0]))]


# -- Argo CD ------------------------------------------------------------------------------


def _argocd(root: str) -> tuple[int, list[str]]:
    """The Applications gate's discovery reads in the repository at ``root``, and the
    Helm chart templates that declare Applications it cannot read."""
    from gate.loading.argocd.discovery import discover
    from gate.loading.trees import WorkTree

    tree = WorkTree(root)
    discovery = discover(tree)
    templated = []
    for note in discovery.notes:
        if not note.message.startswith("a Helm chart template"):
            continue
        try:
            text = tree.read_bytes(note.file)
        except OSError:
            continue
        if _APPLICATION_KIND.search(text):
            templated.append(note.file)
    return len(discovery.applications), sorted(set(templated))
