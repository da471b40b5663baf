"""Both sides of a change are complete trees, whatever fields a kustomization uses.

For every kustomization field that names a file, a repository whose overlay uses it,
then a change (an image bump in the base, or a comment added to the field's file):
``gate diff`` with the Kustomize binary must render both sides (no input error, no
"base side could not be read"), and a comment-only edit adds no finding. Before the
planner read every field, the binary saw a git side without the files of
``transformers``, ``replacements``, ``configurations``... and the base failed.
"""
# ruff: noqa: F811 (pytest passes the imported diff fixture by its name)
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.gitrepo import GitRepo

# The diff fixture of test_diff.py (gate diff in a subprocess, its JSON report validated).
from tests.test_diff import Diff, diff  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None,
    reason="neither kubectl nor kustomize is on PATH")]

WEB = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/name: web}
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/name: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0@sha256:%s
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 200m, memory: 128Mi}
""" % ("a" * 64)

#: field -> (the overlay's kustomization body, the field's files).
FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    "transformers": ("transformers: [labels.yaml]\n", {"labels.yaml": (
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: labels}\n"
        "labels: {env: prod}\nfieldSpecs: [{path: metadata/labels, create: true}]\n")}),
    "generators": ("generators: [gen.yaml]\n", {"gen.yaml": (
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: cfg\n"
        "  labels: {app.kubernetes.io/name: web}\nliterals: [a=b]\n")}),
    "replacements": ("replacements: [{path: repl.yaml}]\n", {"repl.yaml": (
        "- source: {kind: Deployment, name: web, fieldPath: metadata.name}\n"
        "  targets:\n  - select: {kind: Deployment}\n"
        "    fieldPaths: [metadata.annotations.copied]\n    options: {create: true}\n")}),
    "configurations": ("configurations: [conf.yaml]\ncommonLabels: {team: shop}\n",
                       {"conf.yaml": "commonLabels:\n- path: metadata/labels\n  create: true\n"}),
    "openapi": ("openapi: {path: schema.json}\n", {"schema.json": '{"definitions": {}}\n'}),
    "crds": ("crds: [crd.json]\n", {"crd.json": "{}\n"}),
    "patches": ("patches: [{path: patch.yaml}]\n", {"patch.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n")}),
    "patchesStrategicMerge": ("patchesStrategicMerge: [sm.yaml]\n", {"sm.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n")}),
    "patchesJson6902": (
        "patchesJson6902: [{path: j.yaml, target: {group: apps, version: v1, "
        "kind: Deployment, name: web}}]\n",
        {"j.yaml": "- {op: add, path: /spec/replicas, value: 4}\n"}),
    "configMapGenerator": (
        "configMapGenerator:\n- name: files\n  files: [conf=app.conf]\n  envs: [app.env]\n"
        "  options: {labels: {app.kubernetes.io/name: web}}\n",
        {"app.conf": "x = 1\n", "app.env": "A=1\n"}),
}


def overlay_repo(root: Path, field: str) -> GitRepo:
    body, files = FIELDS[field]
    repo = GitRepo.init(root)
    repo.write("base/kustomization.yaml", "resources: [web.yaml]\n")
    repo.write("base/web.yaml", WEB)
    repo.write("overlays/prod/kustomization.yaml", "resources: [../../base]\n" + body)
    for name, text in files.items():
        repo.write(f"overlays/prod/{name}", text)
    repo.commit("overlay using " + field)
    return repo


def assert_both_sides_rendered(run_report: dict[str, object] | None) -> None:
    assert run_report is not None
    assert run_report["errors"] == [], run_report["errors"]
    notes = run_report["change"]["notes"]  # type: ignore[index]
    assert not [note for note in notes if "could not be read" in note], notes


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_base_image_bump_renders_both_sides(tmp_path: Path, diff: Diff, field: str) -> None:
    repo = overlay_repo(tmp_path / "repo", field)
    repo.replace("base/web.yaml", "web:1.0@", "web:1.1@")
    repo.commit("bump web")
    run = diff(repo, "--base", "HEAD~1", "--kustomize", "binary")
    assert run.code in (0, 1), run.stdout + run.stderr
    assert_both_sides_rendered(run.report)
    assert run.report is not None
    assert [r["resource"]["rendered_by"] for r in run.report["results"]
            if r["resource"]["kind"] == "Deployment"], "the overlay was not judged"
    # Nothing the bump did not cause is new: the overlay's findings were there before.
    assert [r for r in run.findings() if r["new"]] == []


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_comment_on_the_fields_file_adds_no_finding(tmp_path: Path, diff: Diff,
                                                       field: str) -> None:
    repo = overlay_repo(tmp_path / "repo", field)
    for name in FIELDS[field][1]:
        path = f"overlays/prod/{name}"
        if name.endswith((".yaml", ".env", ".conf")):
            repo.write(path, repo.read(path) + "# reviewed\n")
    repo.commit("comment only")
    run = diff(repo, "--base", "HEAD~1", "--kustomize", "binary")
    assert run.code in (0, 1), run.stdout + run.stderr
    assert_both_sides_rendered(run.report)
    assert [r for r in run.findings() if r["new"]] == []


def test_an_uncommitted_edit_renders_the_committed_base(tmp_path: Path, diff: Diff) -> None:
    """--worktree: the base is HEAD, read from git objects, and it uses replacements."""
    repo = overlay_repo(tmp_path / "repo", "replacements")
    repo.replace("base/web.yaml", "web:1.0@", "web:1.2@")
    run = diff(repo, "--worktree", "--kustomize", "binary")
    assert run.code in (0, 1), run.stdout + run.stderr
    assert_both_sides_rendered(run.report)
    assert [r for r in run.findings() if r["new"]] == []


def test_a_finding_behind_a_transformer_names_its_resource(tmp_path: Path, diff: Diff) -> None:
    """The built-in renderer may not render every field: the binary's output is still
    traced to the base's file and line, and the text names kind, namespace and name."""
    repo = overlay_repo(tmp_path / "repo", "transformers")
    repo.replace("base/web.yaml", "ghcr.io/acme/web:1.0@sha256:" + "a" * 64,
                 "ghcr.io/acme/web:latest")
    repo.commit("latest")
    run = diff(repo, "--base", "HEAD~1", "--kustomize", "binary")
    assert run.code == 1, run.stdout + run.stderr
    [finding] = [r for r in run.findings() if r["policy"] == "no-latest-tag"]
    assert finding["file"] == "base/web.yaml"
    assert finding["line"] == repo.line_of("base/web.yaml", "image:")
    assert "(Deployment web, overlays/prod, new)" in run.stdout
