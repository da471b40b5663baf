"""``gate init`` reads the repository: on copies of real repository layouts
(``tests/realrepos/layouts/``, see its README) it proposes the environments they show,
``discover: argocd`` where gate's discovery reads Applications, and never writes into an
existing ``policies/`` folder."""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
import yaml

from gate.config import load_config
from gate.initlayout import environment_name, read_layout
from gate.loading.globs import match_path
from tests.conftest import RunGate

LAYOUTS = Path(__file__).parent / "realrepos" / "layouts"
HOOKS_REPO = "https://git.example.com/platform/gate.git"
ARGOCD = "argocd-example-apps"
ARGOCD_APPS = "argocd-example-apps-pr53"
FLUX = "flux2-kustomize-helm-example"
KYVERNO = "kyverno-policies"


def entries(name: str) -> list[tuple[str, str, str]]:
    """``(mode, blob sha, path)`` of every file of a layout, as upstream ``git ls-tree -r``
    listed them."""
    listed = []
    for line in (LAYOUTS / name / "tree.txt").read_text(encoding="utf-8").splitlines():
        meta, path = line.split("\t", 1)
        mode, kind, sha = meta.split()
        assert kind == "blob", line
        listed.append((mode, sha, path))
    return listed


def materialize(name: str, destination: Path, under: str = "") -> Path:
    """A copy of the layout ``name`` in ``destination`` (below ``under``): the vendored
    files as upstream wrote them, every other file of the listing empty."""
    vendored = LAYOUTS / name / "files"
    for mode, _sha, path in entries(name):
        target = destination / under / path
        target.parent.mkdir(parents=True, exist_ok=True)
        source = vendored / path
        target.write_bytes(source.read_bytes() if source.is_file() else b"")
        if mode == "100755":
            target.chmod(target.stat().st_mode | stat.S_IXUSR)
    return destination


def repository(tmp_path: Path, *layouts: tuple[str, str]) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)  # the repository root, for gate
    for name, under in layouts:
        materialize(name, root, under)
    return root


def tree_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# -- the vendored layouts are what upstream had ---------------------------------------------


@pytest.mark.parametrize("name", [ARGOCD, ARGOCD_APPS, FLUX, KYVERNO])
def test_vendored_files_are_byte_for_byte_upstream(name: str) -> None:
    listed = {path: sha for _mode, sha, path in entries(name)}
    vendored = LAYOUTS / name / "files"
    files = [p for p in vendored.rglob("*") if p.is_file()]
    assert files
    for path in files:
        relative = path.relative_to(vendored).as_posix()
        assert listed[relative] == git_blob_sha(path.read_bytes()), relative
    readme = (LAYOUTS / "README.md").read_text(encoding="utf-8")
    assert f"`{name}/`" in readme


# -- environments ------------------------------------------------------------------------------


@pytest.mark.parametrize(("folder", "parent", "expected"), [
    ("prod", "overlays", "prod"),
    ("production", "clusters", "production"),
    ("staging", "envs", "staging"),
    ("production", "apps", "production"),      # Flux: apps/production
    ("prod-eu", "overlays", "prod-eu"),
    ("eu-west-1-prod", "clusters", "eu-west-1-prod"),
    ("dev", "kustomize-guestbook", "dev"),
    ("test", "overlays", "test"),               # weak names count among environments
    ("test", "", None),                         # ... and nowhere else
    ("tests", "overlays", None),
    ("base", "overlays", None),
    ("production-values", "helm", "production-values"),
    ("prod eu", "overlays", None),              # not a valid environment name
    ("products", "apps", None),
])
def test_environment_names(folder: str, parent: str, expected: str | None) -> None:
    assert environment_name(folder, parent) == expected


def test_flux_layout_proposes_its_clusters_and_overlays(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    root = repository(tmp_path, (FLUX, ""))
    before = tree_of(root)
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "environment production: apps/production, clusters/production" in proc.stdout
    assert "environment staging: apps/staging, clusters/staging" in proc.stdout
    config = load_config(str(root / ".gate.yaml"))
    assert config.environments.names() == ["production", "staging"]
    data = yaml.safe_load((root / ".gate.yaml").read_text(encoding="utf-8"))
    assert data["environments"] == [
        {"name": "production", "paths": ["apps/production/**", "clusters/production/**"]},
        {"name": "staging", "paths": ["apps/staging/**", "clusters/staging/**"]},
    ]
    files = [path for _mode, _sha, path in entries(FLUX)]
    for entry in data["environments"]:
        for glob in entry["paths"]:  # every proposed glob matches files of the repository
            assert any(match_path(glob, path) for path in files), glob
    mapping = config.environments.map()
    assert mapping.environment_of("clusters/production/apps.yaml") == "production"
    assert mapping.environment_of("apps/staging/podinfo-values.yaml") == "staging"
    assert mapping.environment_of("infrastructure/configs/gateway.yaml") is None
    assert all(tree_of(root)[name] == data for name, data in before.items())


def test_argo_cd_applications_are_discovered(tmp_path: Path, gate_cli: RunGate) -> None:
    root = repository(tmp_path, (ARGOCD_APPS, ""))
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load((root / ".gate.yaml").read_text(encoding="utf-8"))
    # ksonnet-guestbook/environments/{dev,prod} hold no YAML: gate judges nothing there.
    assert data["environments"] == [{"discover": "argocd"}]
    assert "4 Argo CD Application(s): discover: argocd" in proc.stdout
    assert load_config(str(root / ".gate.yaml")).environments.names() == []


def test_applications_only_in_a_chart_template_are_reported_not_proposed(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    """argocd-example-apps keeps its Applications in a Helm chart (apps/), which
    discovery cannot read unrendered; blue-green's Rollout is no Application."""
    root = repository(tmp_path, (ARGOCD, ""))
    layout = read_layout(str(root))
    assert layout.applications == 0
    assert layout.templated == ["apps/templates/applications.yaml"]
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert ("Argo CD Applications only in Helm chart templates, which discovery does not "
            "render: apps/templates/applications.yaml") in proc.stdout
    assert "no environment folders" in proc.stdout
    data = yaml.safe_load((root / ".gate.yaml").read_text(encoding="utf-8"))
    assert "environments" not in data  # a commented example only: nothing would match


def test_a_kyverno_policies_folder_is_left_untouched(tmp_path: Path, gate_cli: RunGate) -> None:
    """A Flux repository keeping its Kyverno policies in policies/."""
    root = repository(tmp_path, (FLUX, ""), (KYVERNO, "policies"))
    before = tree_of(root)
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "policies/ exists and is left untouched: gate's policies go to .gate/policies/" \
        in proc.stdout
    assert "gate test .gate/policies" in proc.stdout  # the next steps name the new folder
    after = tree_of(root)
    assert {name: after[name] for name in before} == before
    written = sorted(set(after) - set(before))
    assert written == [
        ".gate.yaml", ".gate/policies/.tests/require-team-label/fail.yaml",
        ".gate/policies/.tests/require-team-label/pass.yaml",
        ".gate/policies/.tests/require-team-label/require-team-label.test.yaml",
        ".gate/policies/require-team-label.yaml", ".pre-commit-config.yaml",
    ]
    config = load_config(str(root / ".gate.yaml"))
    assert config.policy_dirs == [str(root / ".gate" / "policies")]
    # gate runs in the repository: its policies load, Kyverno's are not taken for gate's.
    proc = gate_cli("test", ".gate/policies", cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = gate_cli("policies", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "require-team-label" in proc.stdout
    # What writing into policies/ would have done: every run fails on Kyverno's files.
    proc = gate_cli("policies", "--policies", "policies", cwd=root)
    assert proc.returncode == 2 and "not a gate policy" in proc.stderr


def test_both_policy_folders_taken_is_a_refusal(tmp_path: Path, gate_cli: RunGate) -> None:
    root = repository(tmp_path, (KYVERNO, "policies"), (KYVERNO, ".gate/policies"))
    before = tree_of(root)
    proc = gate_cli("init", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 2
    assert proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert line.startswith("gate: error: refusing to write into an existing layout: policies/ "
                           "and .gate/policies/ both exist"), line
    assert "nothing written" in line
    assert tree_of(root) == before


def test_init_in_a_subdirectory_proposes_globs_from_the_repository_root(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    """Environment globs are relative to the repository root, not to the config file."""
    root = repository(tmp_path, (FLUX, "deploy"))
    proc = gate_cli("init", "deploy", "--hooks-repo", HOOKS_REPO, cwd=root)
    assert proc.returncode == 0, proc.stderr
    config = load_config(str(root / "deploy" / ".gate.yaml"))
    mapping = config.environments.map()
    assert mapping.environment_of("deploy/clusters/production/apps.yaml") == "production"
    assert mapping.environment_of("clusters/production/apps.yaml") is None


def test_links_and_hidden_folders_are_not_followed(tmp_path: Path) -> None:
    root = repository(tmp_path)
    outside = tmp_path / "outside" / "overlays" / "prod"
    outside.mkdir(parents=True)
    (outside / "deployment.yaml").write_text("kind: Deployment\n", encoding="utf-8")
    os.symlink(tmp_path / "outside" / "overlays", root / "overlays")
    (root / ".hidden" / "envs" / "prod").mkdir(parents=True)
    (root / ".hidden" / "envs" / "prod" / "a.yaml").write_text("a: 1\n", encoding="utf-8")
    (root / "envs" / "staging").mkdir(parents=True)
    (root / "envs" / "staging" / "a.yaml").write_text("a: 1\n", encoding="utf-8")
    layout = read_layout(str(root))
    assert [(e.name, e.paths) for e in layout.environments] == [
        ("staging", ("envs/staging/**",))]
