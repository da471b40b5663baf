"""What each environment deploys at a tree (gate/governance/releases/versions.py):
rendered overlays, Helm values merged as Helm merges them, and what cannot be read."""
from __future__ import annotations

from pathlib import Path

import pytest

from gate.config import load_config
from gate.git.repository import open_repository
from gate.governance.releases.versions import Deployment, read_deployment
from gate.loading.trees import WorkTree
from gate.rulesource import disk
from tests.releaserepo import DIGEST_MS3_140, HISTORY, build_release_repo, tree_files

MS3 = "registry.example.com/shop/ms3"


def _write(root: Path, files: dict[str, str]) -> None:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


def _deployment(root: Path) -> Deployment:
    files = disk()
    config = load_config(files.find_config(), files)  # the cwd is root
    return read_deployment(WorkTree(str(root)), config)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _table(deployment: Deployment) -> list[tuple[str, str, str, str, int]]:
    return [(d.microservice.rsplit("/", 1)[-1], d.environment, d.version, d.file, d.line)
            for d in deployment.versions]


@pytest.mark.e2e
def test_the_fixture_at_each_release_tag(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = build_release_repo(tmp_path / "shop")
    monkeypatch.chdir(root)
    files = disk()
    config = load_config(files.find_config(), files)
    with open_repository(".") as repository:
        for step in (s for s in HISTORY if s.tag):
            deployment = read_deployment(
                repository.tree_at(repository.resolve(step.tag or "")), config)
            assert deployment.unread == []
            found = {(d.microservice.rsplit("/", 1)[-1], d.environment): (d.tag, d.digest)
                     for d in deployment.versions}
            expected = {(name, environment): version
                        for environment, versions in step.versions.items()
                        for name, version in versions.items()}
            assert found == expected, step.tag


@pytest.mark.e2e
def test_a_chart_several_environments_deploy_is_each_applications(in_tmp: Path) -> None:
    # Three Applications deploy one chart: as a path it is "unknown", but each release
    # (an Application and its values files) belongs to its Application's environment.
    _write(in_tmp, tree_files(HISTORY[-1]))
    _write(in_tmp, {".gate.yaml": "environments:\n  - discover: argocd\n"})
    deployment = _deployment(in_tmp)
    assert [row for row in _table(deployment) if row[0] == "ms3"] == [
        ("ms3", "dev", f"1.4.0@{DIGEST_MS3_140}", "charts/ms3/values-dev.yaml", 2),
        ("ms3", "prod", "1.3.0", "charts/ms3/values-prod.yaml", 2),
        ("ms3", "staging", f"1.4.0@{DIGEST_MS3_140}", "charts/ms3/values-staging.yaml", 2),
    ]


@pytest.mark.e2e
def test_an_explicit_entry_places_the_chart(in_tmp: Path) -> None:
    _write(in_tmp, tree_files(HISTORY[-1]))
    _write(in_tmp, {".gate.yaml": "environments:\n  - name: platform\n"
                                  "    paths: [charts/ms3]\n  - discover: argocd\n"})
    deployment = _deployment(in_tmp)
    assert {d.environment for d in deployment.versions if d.microservice == MS3} == {"platform"}


def test_values_merge_key_by_key_and_glob_environments(in_tmp: Path) -> None:
    _write(in_tmp, {
        ".gate.yaml": "environments:\n  - name: prod\n    paths: ['chart/values-prod.yaml']\n"
                      "  - name: dev\n    paths: ['chart/values-dev.yaml']\n",
        "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        "chart/values.yaml": "app:\n  image:\n    repository: nginx\n    tag: '1.0'\n",
        "chart/values-prod.yaml": "app:\n  image:\n    tag: '1.1'\n",
        "chart/values-dev.yaml": "other: 1\n",
    })
    assert _table(_deployment(in_tmp)) == [
        ("nginx", "dev", "1.0", "chart/values.yaml", 4),
        ("nginx", "prod", "1.1", "chart/values-prod.yaml", 3),
    ]
    assert _deployment(in_tmp).versions[0].repository == "docker.io/library/nginx"


def test_what_cannot_be_read_is_listed(in_tmp: Path) -> None:
    _write(in_tmp, {
        ".gate.yaml": "environments:\n  - name: prod\n    paths: ['chart/values-prod.yaml',"
                      " 'broken/**']\n",
        "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        "chart/values.yaml": "replicas: 2\n",
        "chart/values-prod.yaml": "replicas: 3\n",
        "broken/kustomization.yaml": "resources:\n  - missing.yaml\n",
    })
    deployment = _deployment(in_tmp)
    assert deployment.versions == []
    assert [(u.file, u.environment) for u in deployment.unread] == [
        ("broken/kustomization.yaml", ""), ("chart/values-prod.yaml", "prod")]
    assert "hold no image block" in deployment.unread[1].message
