"""gate on real GitOps repository histories: does ``gate diff`` agree with ``gate check``?

The histories are replays of real upstream commits, vendored as git bundles in
``tests/realrepos/`` (provenance in its README). For every consecutive pair of
commits, and for comment-only edits of every file a kustomization reads, the real CLI
runs in subprocesses: ``gate check .`` on full checkouts of both sides and ``gate diff
--base --head`` in a clone, all with ``--kustomize auto`` and the built-in policy pack.

Two properties are asserted:

(a) ``gate diff`` does not exit 2 where ``gate check`` judged both full checkouts
    (neither exited 2);
(b) the findings ``gate diff`` marks new are exactly the findings of the head check
    whose identity (gate's own ratchet key, see ``tests/realhistory.py``) is absent from
    the base check; a comment-only edit makes no finding new. Change-policy results
    (subject ``gate.dev/v1 Change``) only exist in ``gate diff`` and are left out.

Every one of these failed before the planner read every kustomization field and the
binary rendered git sides from complete checkouts: the copy handed to ``kubectl
kustomize`` lacked podinfo's ``transformers: [labels.yaml]``, flux's ``configurations:
[kustomizeconfig.yaml]`` and ``replacements: [{path: repl.yaml}]``, and gate diff exited 2.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo, run_git
from tests.realhistory import (
    REALREPOS,
    UPSTREAM,
    VENDORED_PATHS,
    GateRun,
    History,
    explain_mismatch,
    findings,
    kustomize_available,
    new_findings,
    overlay_inputs,
    pairs,
    run_gate,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not kustomize_available(),
                       reason="neither kubectl nor kustomize on PATH: --kustomize auto would "
                              "fall back to the built-in renderer, which is not what is tested"),
]

PODINFO = "podinfo"
FLUX = "flux2-kustomize-helm-example"
ARGOCD = "argocd-example-apps"

# Comment-only edits: on top of which commits, and the kustomization folders whose inputs
# get one commit each (the test checks these lists against the trees).
EDIT_BASES: dict[str, list[str]] = {
    PODINFO: ["3079cdb898ee"],
    FLUX: ["0adbf9440468", "fe4b3f96c17d"],  # the last, and the last with configurations:
    ARGOCD: ["f58c7ed8cfe2"],
}
EDIT_FOLDERS: dict[tuple[str, str], list[str]] = {
    (PODINFO, "3079cdb898ee"): [
        "deploy/bases/backend", "deploy/bases/cache", "deploy/bases/database",
        "deploy/bases/frontend", "deploy/overlays/dev", "deploy/overlays/production",
        "deploy/overlays/staging", "kustomize",
    ],
    (FLUX, "0adbf9440468"): [
        "apps/base/podinfo", "apps/production", "apps/staging",
        "clusters/production/flux-system", "clusters/staging/flux-system",
        "infrastructure/configs", "infrastructure/controllers",
    ],
    (FLUX, "fe4b3f96c17d"): [
        "apps/base/podinfo", "apps/production", "apps/staging", "infrastructure",
        "infrastructure/nginx", "infrastructure/redis", "infrastructure/sources",
    ],
    (ARGOCD, "f58c7ed8cfe2"): ["kustomize-guestbook", "pre-post-sync"],
}
def _param(key: tuple[str, str, str]) -> object:
    return pytest.param(*key, id=f"{key[0]}-{key[1][:7]}..{key[2][:7]}"
                        if key[2] in UPSTREAM[key[0]] else f"{key[0]}-{key[1][:7]}-{key[2]}")


# --- the histories, cloned and judged once per session ----------------------------------


class Histories:
    """Each vendored history, cloned on first use, with every run it needs done at once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.loaded: dict[str, History] = {}
        self.edits: dict[tuple[str, str, str], str] = {}  # (repo, at, folder) -> commit

    def get(self, name: str) -> History:
        if name not in self.loaded:
            history = History(name, self.root / name)
            for at in EDIT_BASES[name]:
                for folder, sha in history.comment_edits(at).items():
                    self.edits[(name, at, folder)] = sha
            edits = [(at, sha) for (repo, at, _), sha in self.edits.items() if repo == name]
            history.prefetch(UPSTREAM[name], [*pairs(name), *edits])
            self.loaded[name] = history
        return self.loaded[name]


@pytest.fixture(scope="session")
def histories(tmp_path_factory: pytest.TempPathFactory) -> Histories:
    return Histories(tmp_path_factory.mktemp("realhistories"))


def _skip_unless_judged(*checks: GateRun) -> None:
    """Property (a) and (b) hold only where gate check could judge both trees."""
    for check in checks:
        if check.returncode == 2:
            errors = (check.report or {}).get("errors") or [{"file": "", "message": ""}]
            pytest.skip(f"gate check exits 2 on this tree ({errors[0]['file']}: "
                        f"{errors[0]['message'][:300]}), so gate diff is not expected to "
                        f"judge it either\n{check.describe()}")


def assert_agrees(diff: GateRun, base: GateRun, head: GateRun) -> None:
    """(a) gate diff judged the change; (b) its new findings are head minus base."""
    assert diff.returncode != 2, f"gate diff exits 2 where gate check judged both sides:\n" \
                                 f"{diff.describe()}"
    assert diff.report is not None, diff.describe()
    assert new_findings(diff) == findings(head) - findings(base), \
        explain_mismatch(diff, base, head)


# --- provenance ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_bundle_replays_the_listed_upstream_commits(name: str, tmp_path: Path) -> None:
    bundle = REALREPOS / name / "history.bundle"
    assert bundle.stat().st_size < 1_000_000
    history = History(name, tmp_path)
    assert list(history.upstream) == UPSTREAM[name]
    for sha in history.upstream.values():
        top = set(run_git(history.clone, "ls-tree", "--name-only", sha).split())
        assert top <= VENDORED_PATHS[name], f"{sha} holds {sorted(top - VENDORED_PATHS[name])}"
    assert (REALREPOS / name / ("LICENSE" if name != ARGOCD else "LICENSE-NOTE.md")).exists()


# --- (a) and (b) over every consecutive pair of real commits -------------------------


@pytest.mark.parametrize(("name", "base", "head"), [
    _param((name, base, head)) for name in sorted(UPSTREAM)
    for base, head in pairs(name)
])
def test_diff_of_a_real_commit_agrees_with_check(histories: Histories, name: str, base: str,
                                                 head: str) -> None:
    history = histories.get(name)
    base_check, head_check = history.check(base), history.check(head)
    _skip_unless_judged(base_check, head_check)
    assert_agrees(history.diff(base, head), base_check, head_check)


# --- comment-only edits of every file a kustomization reads -------------------------


def test_edit_folders_are_every_kustomization(histories: Histories) -> None:
    for (name, at), folders in EDIT_FOLDERS.items():
        history = histories.get(name)
        assert sorted(overlay_inputs(history.checkout(history.sha(at)))) == folders


@pytest.mark.parametrize(("name", "at", "folder"), [
    _param((name, at, folder)) for (name, at), folders
    in EDIT_FOLDERS.items() for folder in folders
])
def test_comment_only_edit_makes_nothing_new(histories: Histories, name: str, at: str,
                                             folder: str) -> None:
    history = histories.get(name)
    base_check = history.check(at)
    _skip_unless_judged(base_check)
    diff = history.diff(at, histories.edits[(name, at, folder)])
    assert diff.returncode != 2, f"gate diff exits 2 on a comment-only edit of the inputs " \
                                 f"of {folder}:\n{diff.describe()}"
    assert new_findings(diff) == set(), explain_mismatch(diff, base_check, base_check)


# --- named regressions ---------------------------------------------------------------

BACKEND = "deploy/bases/backend/deployment.yaml"


def _one_line_podinfo_edit(clone: Path) -> None:
    """Podinfo's backend already has ``minReadySeconds: 3``: the one-line change sets it."""
    repo = GitRepo(clone)
    repo.replace(BACKEND, "  minReadySeconds: 3\n", "  minReadySeconds: 10\n")


def test_podinfo_one_line_change_committed(histories: Histories, tmp_path: Path) -> None:
    history = History(PODINFO, tmp_path)
    _one_line_podinfo_edit(history.clone)
    run_git(history.clone, "commit", "-q", "-am", "backend: minReadySeconds 10")
    diff = run_gate(["diff", "--base", "HEAD~1", "--kustomize", "auto"], history.clone,
                    tmp_path / "diff.json")
    base_check = histories.get(PODINFO).check(history.sha("HEAD~1"))
    head_check = history.check("HEAD")
    assert diff.returncode != 2, diff.describe()
    assert all("minReadySeconds" in key[-1] for key in new_findings(diff)), \
        explain_mismatch(diff, base_check, head_check)
    assert_agrees(diff, base_check, head_check)


def test_podinfo_one_line_change_worktree(tmp_path: Path) -> None:
    history = History(PODINFO, tmp_path)
    _one_line_podinfo_edit(history.clone)
    diff = run_gate(["diff", "--worktree", "--kustomize", "auto"], history.clone,
                    tmp_path / "diff.json")
    assert diff.returncode != 2, diff.describe()
    assert diff.report is not None
    assert all("minReadySeconds" in key[-1] for key in new_findings(diff)), diff.describe()


def test_podinfo_release_range_6_11_2_to_6_14_1(histories: Histories) -> None:
    """podinfo e0a79a4 (Release 6.11.2) .. 3079cdb (Release 6.14.1): six real commits."""
    history = histories.get(PODINFO)
    base, head = "e0a79a4dddd0", "3079cdb898ee"
    base_check, head_check = history.check(base), history.check(head)
    assert base_check.returncode != 2 and head_check.returncode != 2
    assert_agrees(history.diff(base, head), base_check, head_check)


@pytest.mark.parametrize(("head", "back"), [
    pytest.param("5530bb1956f5", 2, id="introduced-9836a45"),
    pytest.param("9836a45d2de8", 1, id="introducing-commit-9836a45"),
    pytest.param("8cee66461b94", 2, id="removed-8cee664"),
])
def test_flux_across_the_configurations_change(histories: Histories, tmp_path: Path,
                                               head: str, back: int) -> None:
    """`gate diff --base HEAD~N` around 9836a45, which added `configurations:
    [kustomizeconfig.yaml]` to infrastructure/redis, and 8cee664, which removed it."""
    shared = histories.get(FLUX)
    history = History(FLUX, tmp_path)
    run_git(history.clone, "checkout", "-q", "--detach", history.sha(head))
    diff = run_gate(["diff", "--base", f"HEAD~{back}", "--kustomize", "auto"], history.clone,
                    tmp_path / "diff.json")
    base_check = shared.check(history.sha(f"HEAD~{back}"))
    head_check = shared.check(history.sha("HEAD"))
    assert base_check.returncode != 2 and head_check.returncode != 2
    assert_agrees(diff, base_check, head_check)


REPLACEMENTS_BASE = {
    "base/kustomization.yaml": "resources:\n  - deployment.yaml\n  - config.yaml\n",
    "base/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          env:
            - name: COLOUR
              value: placeholder
""",
    "base/config.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    app.kubernetes.io/name: web
data:
  colour: blue
""",
    "overlays/prod/kustomization.yaml": """\
namespace: prod
resources:
  - ../../base
replacements:
  - path: repl.yaml
""",
    "overlays/prod/repl.yaml": """\
source:
  kind: ConfigMap
  name: settings
  fieldPath: data.colour
targets:
  - select:
      kind: Deployment
      name: web
    fieldPaths:
      - spec.template.spec.containers.[name=web].env.[name=COLOUR].value
""",
}


def test_replacements_path_with_an_image_bump_in_the_base(tmp_path: Path) -> None:
    """An overlay whose `replacements:` entry is a file (`- path: repl.yaml`), and a
    change that bumps the image in the base it renders."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write_all(REPLACEMENTS_BASE)
    repo.commit("web 1.0.0")
    repo.replace("base/deployment.yaml", "web:1.0.0", "web:1.1.0")
    repo.commit("web 1.1.0")
    checks = []
    for ref in ("HEAD~1", "HEAD"):
        tree = tmp_path / ref.replace("~", "-")
        tree.mkdir()
        subprocess.run(f"git archive {repo.sha(ref)} | tar -x -C {tree}", shell=True,
                       cwd=repo.path, check=True, timeout=60)
        checks.append(run_gate(["check", ".", "--kustomize", "auto"], tree,
                               tmp_path / f"check-{tree.name}.json"))
    assert all(check.returncode != 2 for check in checks), [c.describe() for c in checks]
    diff = run_gate(["diff", "--base", "HEAD~1", "--kustomize", "auto"], repo.path,
                    tmp_path / "diff.json")
    assert_agrees(diff, checks[0], checks[1])
    assert any(r["resource"]["rendered_by"] == "overlays/prod" for r in diff.results), \
        diff.describe()
