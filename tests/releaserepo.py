"""A manifest repository with a release history, built for tests with real git tags.

``build_release_repo(path)`` writes it with one ``git fast-import`` (every commit and
tag of the history in one git process) and checks ``main`` out: fixed authors, fixed
dates, annotated release tags. Three microservices, images under
``registry.example.com/shop/``:

- ``ms1``, ``ms2``: a Kustomize base and ``overlays/{dev,staging,prod}`` whose
  ``images:`` entry sets the version (``ms1/overlays/prod/kustomization.yaml``);
- ``ms3``: a Helm chart ``charts/ms3`` whose ``values.yaml`` holds the image block
  (``image: {repository, tag}``) and ``values-{dev,staging,prod}.yaml`` set its ``tag``
  (and from 1.4.0 on its ``digest``, ``DIGEST_MS3_140``).

Environments come from Argo CD Applications (``apps/{dev,staging,prod}.yaml``, one
Application per microservice, label ``gate.dev/environment``); dev tracks ``HEAD``,
staging and prod track ``main`` until the first release, then release tags.
``.gate.yaml`` discovers them, excludes the chart from judging (no helm binary renders
it; its versions are still read from its values), sets ``releases:`` (dev, staging,
prod in promotion order; staging certifies; prod is production) and enables
``change-ticket`` (trailer
``Change-Request``, pattern ``^CHG-[0-9]+$``, commits to prod).

History on ``main``, oldest first (``HISTORY`` holds the same, with each commit's
versions; versions are ms1 / ms2 / ms3):

step author subject (ticket)                                   tag     versions ms1/ms2/ms3
c1   alice  Initial layout of ms1, ms2 and ms3 (CHG-100)               all 1.0.0/1.2.0/1.3.0
c2   bob    Bump ms1 to 1.1.0 and ms2 to 1.3.0 in dev (CHG-101)        dev 1.1.0/1.3.0/1.3.0
c3   carol  Promote ms1 1.1.0 and ms2 1.3.0 to staging (CHG-102)       staging as dev
c4   alice  Release v1.0.0 (CHG-103)                           v1.0.0  all 1.1.0/1.3.0/1.3.0
c5   bob    Bump ms3 to 1.4.0 in dev (CHG-104)                         dev ms3 1.4.0@digest
c6   bob    Bump ms1 to 1.2.0 in dev (no ticket)                       dev ms1 1.2.0
c7   carol  Promote ms1 1.2.0 and ms3 1.4.0 to staging (CHG-105)       staging as dev
c8   alice  Release v1.1.0 (CHG-106)                           v1.1.0  all 1.2.0/1.3.0/1.4.0@d
c9   dave   Hotfix ms2 1.3.1 straight to prod (CHG-107)        v1.1.1  prod ms2 1.3.1 only
c10  alice  Roll prod back to v1.0.0 (CHG-108)                         prod 1.1.0/1.3.0/1.3.0

Applications: c1-c3 staging and prod track ``main``; c4 both ``v1.0.0``; c8 both
``v1.1.0``; c9 prod ``v1.1.1`` (staging stays ``v1.1.0``); c10 prod ``v1.0.0``.

So: v1.1.1's prod runs ms2 1.3.1, which staging never ran (at v1.1.1 or any earlier
release tag): the uncertified hotfix. After the rollback (``main``), prod runs exactly
v1.0.0's prod versions, all certified by staging at v1.0.0 although staging now runs
v1.1.0's. ``c6`` names no ticket. Commit dates are one day apart from
2026-01-05T09:00:00Z (c1), every time in UTC; the tags are annotated by the commit's
author one minute after it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.gitrepo import ENV, TIMEOUT, run_git
from tests.processes import run_binary

REGISTRY = "registry.example.com/shop"
MICROSERVICES = ("ms1", "ms2", "ms3")
ENVIRONMENTS = ("dev", "staging", "prod")
DIGEST_MS3_140 = "sha256:" + "4" * 64
START = 1_767_603_600  # 2026-01-05T09:00:00Z
DAY = 86_400


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    @property
    def ident(self) -> str:
        return f"{self.name} <{self.email}>"


ALICE = Person("Alice Release", "alice@example.com")
BOB = Person("Bob Developer", "bob@example.com")
CAROL = Person("Carol Tester", "carol@example.com")
DAVE = Person("Dave Oncall", "dave@example.com")

Version = tuple[str, str | None]  # (tag, digest or None)
Versions = dict[str, dict[str, Version]]  # environment -> microservice -> version


@dataclass(frozen=True)
class Step:
    """One commit of the history: who, what, and the state of the tree after it."""

    name: str  # c1 ... c10
    author: Person
    subject: str
    ticket: str | None
    versions: Versions
    targets: dict[str, str]  # environment -> the targetRevision of its Applications
    tag: str | None = None


def _all(ms1: str, ms2: str, ms3: Version) -> dict[str, Version]:
    return {"ms1": (ms1, None), "ms2": (ms2, None), "ms3": ms3}


def _history() -> list[Step]:
    v100 = _all("1.1.0", "1.3.0", ("1.3.0", None))
    v110 = _all("1.2.0", "1.3.0", ("1.4.0", DIGEST_MS3_140))
    initial = _all("1.0.0", "1.2.0", ("1.3.0", None))
    dev_c2 = _all("1.1.0", "1.3.0", ("1.3.0", None))
    dev_c5 = _all("1.1.0", "1.3.0", ("1.4.0", DIGEST_MS3_140))
    hotfix = {**v110, "ms2": ("1.3.1", None)}
    before = {"dev": "HEAD", "staging": "main", "prod": "main"}
    return [
        Step("c1", ALICE, "Initial layout of ms1, ms2 and ms3", "CHG-100",
             {"dev": initial, "staging": initial, "prod": initial}, before),
        Step("c2", BOB, "Bump ms1 to 1.1.0 and ms2 to 1.3.0 in dev", "CHG-101",
             {"dev": dev_c2, "staging": initial, "prod": initial}, before),
        Step("c3", CAROL, "Promote ms1 1.1.0 and ms2 1.3.0 to staging", "CHG-102",
             {"dev": dev_c2, "staging": dev_c2, "prod": initial}, before),
        Step("c4", ALICE, "Release v1.0.0", "CHG-103",
             {"dev": v100, "staging": v100, "prod": v100},
             {"dev": "HEAD", "staging": "v1.0.0", "prod": "v1.0.0"}, tag="v1.0.0"),
        Step("c5", BOB, "Bump ms3 to 1.4.0 in dev", "CHG-104",
             {"dev": dev_c5, "staging": v100, "prod": v100},
             {"dev": "HEAD", "staging": "v1.0.0", "prod": "v1.0.0"}),
        Step("c6", BOB, "Bump ms1 to 1.2.0 in dev", None,
             {"dev": v110, "staging": v100, "prod": v100},
             {"dev": "HEAD", "staging": "v1.0.0", "prod": "v1.0.0"}),
        Step("c7", CAROL, "Promote ms1 1.2.0 and ms3 1.4.0 to staging", "CHG-105",
             {"dev": v110, "staging": v110, "prod": v100},
             {"dev": "HEAD", "staging": "v1.0.0", "prod": "v1.0.0"}),
        Step("c8", ALICE, "Release v1.1.0", "CHG-106",
             {"dev": v110, "staging": v110, "prod": v110},
             {"dev": "HEAD", "staging": "v1.1.0", "prod": "v1.1.0"}, tag="v1.1.0"),
        Step("c9", DAVE, "Hotfix ms2 1.3.1 straight to prod", "CHG-107",
             {"dev": v110, "staging": v110, "prod": hotfix},
             {"dev": "HEAD", "staging": "v1.1.0", "prod": "v1.1.1"}, tag="v1.1.1"),
        Step("c10", ALICE, "Roll prod back to v1.0.0", "CHG-108",
             {"dev": v110, "staging": v110, "prod": v100},
             {"dev": "HEAD", "staging": "v1.1.0", "prod": "v1.0.0"}),
    ]


HISTORY: list[Step] = _history()

CONFIG = """\
# gate renders no Helm chart without a helm binary: the chart's versions are read from
# its values (gate release), its templates are listed as not judged.
exclude: ["charts/ms3"]
environments:
  - discover: argocd
    paths: ["apps/**"]
releases:
  environments: [dev, staging, prod]
  certified_in: staging
  production: [prod]
policies:
  change-ticket:
    enabled: true
    parameters:
      pattern: "^CHG-[0-9]+$"
      environments: [prod]
"""

_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      automountServiceAccountToken: false
      containers:
        - name: {name}
          image: {image}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
"""


def _static_files() -> dict[str, str]:
    files = {".gate.yaml": CONFIG}
    for name in ("ms1", "ms2"):
        files[f"{name}/base/kustomization.yaml"] = "resources:\n  - deployment.yaml\n"
        files[f"{name}/base/deployment.yaml"] = _DEPLOYMENT.format(
            name=name, image=f"{REGISTRY}/{name}:0.0.0")
    files["charts/ms3/Chart.yaml"] = "apiVersion: v2\nname: ms3\nversion: 0.1.0\n"
    files["charts/ms3/values.yaml"] = (
        f"replicas: 2\nimage:\n  repository: {REGISTRY}/ms3\n  tag: 0.0.0\n")
    files["charts/ms3/templates/deployment.yaml"] = _DEPLOYMENT.format(
        name="ms3", image='"{{ .Values.image.repository }}:{{ .Values.image.tag }}"')
    return files


def _overlay(name: str, version: Version) -> str:
    tag, digest = version
    pin = f"    digest: {digest}\n" if digest else ""
    return (f"resources:\n  - ../../base\nimages:\n  - name: {REGISTRY}/{name}\n"
            f'    newTag: "{tag}"\n{pin}')


def _values(version: Version) -> str:
    tag, digest = version
    pin = f"  digest: {digest}\n" if digest else ""
    return f'image:\n  tag: "{tag}"\n{pin}'


def _applications(environment: str, target: str) -> str:
    documents = []
    for name in MICROSERVICES:
        if name == "ms3":
            source = (f"    path: charts/ms3\n    helm:\n      valueFiles:\n"
                      f"        - values-{environment}.yaml\n")
        else:
            source = f"    path: {name}/overlays/{environment}\n"
        documents.append(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
            f"  name: {name}-{environment}\n  namespace: argocd\n"
            f"  labels:\n    gate.dev/environment: {environment}\n"
            f"    app.kubernetes.io/name: {name}\nspec:\n  project: shop\n"
            "  source:\n    repoURL: https://git.example.com/shop/gitops.git\n"
            f"    targetRevision: {target}\n{source}"
            f"  destination:\n    server: https://kubernetes.default.svc\n"
            f"    namespace: shop-{environment}\n")
    return "---\n".join(documents)


def tree_files(step: Step) -> dict[str, str]:
    """Every file of the tree after ``step``."""
    files = _static_files()
    for environment in ENVIRONMENTS:
        versions = step.versions[environment]
        for name in ("ms1", "ms2"):
            files[f"{name}/overlays/{environment}/kustomization.yaml"] = _overlay(
                name, versions[name])
        files[f"charts/ms3/values-{environment}.yaml"] = _values(versions["ms3"])
        files[f"apps/{environment}.yaml"] = _applications(environment, step.targets[environment])
    return dict(sorted(files.items()))


def message(step: Step) -> str:
    """The commit message: the subject, and the ticket as a ``Change-Request`` trailer."""
    if step.ticket is None:
        return f"{step.subject}\n"
    return f"{step.subject}\n\nChange-Request: {step.ticket}\n"


def commit_time(index: int) -> int:
    """The author and committer time of the ``index``-th commit (0-based), Unix time."""
    return START + index * DAY


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"data %d\n" % len(raw) + raw + b"\n"


def fast_import_stream() -> bytes:
    """The whole history as one ``git fast-import`` stream."""
    out: list[bytes] = []
    for index, step in enumerate(HISTORY):
        when = f"{commit_time(index)} +0000"
        ident = step.author.ident
        out.append(f"commit refs/heads/main\nmark :{index + 1}\n"
                   f"author {ident} {when}\ncommitter {ident} {when}\n".encode())
        out.append(_data(message(step)))
        if index:
            out.append(f"from :{index}\n".encode())
        out.append(b"deleteall\n")
        for path, content in tree_files(step).items():
            out.append(f"M 100644 inline {path}\n".encode())
            out.append(_data(content))
        out.append(b"\n")
        if step.tag:
            tagged = f"{commit_time(index) + 60} +0000"
            out.append(f"tag {step.tag}\nfrom :{index + 1}\ntagger {ident} {tagged}\n".encode())
            out.append(_data(f"Release {step.tag}\n"))
    return b"".join(out)


def build_release_repo(path: Path) -> Path:
    """The repository at ``path`` (created), ``main`` checked out; returns ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    run_git(path, "init", "-q")
    done = run_binary(["git", "fast-import", "--quiet", "--done"], cwd=path, env=ENV,
                      input=fast_import_stream() + b"done\n", timeout=TIMEOUT)
    assert done.returncode == 0, f"git fast-import: {done.stderr.decode()}"
    run_git(path, "checkout", "-q", "-f", "main")
    return path


def step_sha(path: Path, name: str) -> str:
    """The commit of step ``name`` (``c1`` ... ``c10``) in a built repository."""
    index = [step.name for step in HISTORY].index(name)
    return run_git(path, "rev-parse", f"main~{len(HISTORY) - 1 - index}").strip()


#: A freeze of prod over the days of the hotfix and the rollback, that lets rollbacks
#: through: c10 (prod back to v1.0.0) merges in it, c9 (the hotfix) would not.
ROLLBACK_FREEZE = """\
calendar:
  freezes:
    - name: hotfix-review
      start: "2026-01-01T00:00:00Z"
      end: "2026-02-01T00:00:00Z"
      environments: [prod]
      allow_rollback: true
"""


def freeze_with_rollbacks(path: Path) -> None:
    """Add :data:`ROLLBACK_FREEZE` to the working tree's ``.gate.yaml`` of a built repo."""
    config = path / ".gate.yaml"
    config.write_text(config.read_text(encoding="utf-8") + ROLLBACK_FREEZE, encoding="utf-8")
