"""``gate diff`` end to end: the real CLI, in real git repositories built in tmp_path.

Every run is a subprocess (``python -m gate diff ...``) with its working directory
inside a scratch repository; every JSON report it writes is validated against the
shipped schema. The repositories keep ``.gate.yaml`` switching off the policies a
test does not look at, so each test sees exactly the findings it is about.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gate.evaluation.policy_loading import load_builtin
from tests.gitrepo import ENV, GitRepo, run_git
from tests.processes import run

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

TIMEOUT = 60  # seconds for one gate run

_SCHEMA = json.loads(
    resources.files("gate.schemas").joinpath("report.schema.json").read_text("utf-8"))
_VALIDATOR = Draft202012Validator(_SCHEMA)
# The caller's settings that would change gate's output.
_SCRUBBED = ("NO_COLOR", "FORCE_COLOR", "GATE_DEBUG", "TERM")
_GATE_ENV = {k: v for k, v in ENV.items() if k not in _SCRUBBED}

# -- manifests -------------------------------------------------------------------------------

# The diff tests are about how a change is judged, through two of the resource policies;
# every other built-in resource policy is off, so that their manifests stay short.
_KEPT = {"no-latest-tag", "resource-limits"}
_PLAIN_CONFIG = "policies:\n" + "".join(
    f"  {policy.id}: {{enabled: false}}\n" for policy in load_builtin()
    if policy.target == "resources" and policy.enabled and policy.id not in _KEPT)


def deployment(name: str, image: str, *, replicas: int = 1, cpu_limit: bool = True) -> str:
    """A Deployment that passes every policy left on, unless told otherwise."""
    cpu = "              cpu: 500m\n" if cpu_limit else ""
    return (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        f"  name: {name}\n"
        "spec:\n"
        f"  replicas: {replicas}\n"
        "  selector:\n"
        f"    matchLabels: {{app: {name}}}\n"
        "  template:\n"
        "    metadata:\n"
        f"      labels: {{app: {name}}}\n"
        "    spec:\n"
        "      containers:\n"
        f"        - name: {name}\n"
        f"          image: {image}\n"
        "          resources:\n"
        "            requests:\n"
        "              cpu: 100m\n"
        "              memory: 128Mi\n"
        "            limits:\n"
        f"{cpu}"
        "              memory: 256Mi\n"
    )


SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
"""

# base -> overlays/shared (an intermediate overlay, with the probes component) -> env overlay
KUSTOMIZE_FILES = {
    ".gate.yaml": _PLAIN_CONFIG + """\
environments:
  - name: dev
    paths: ["overlays/dev/**"]
  - name: staging
    paths: ["overlays/staging/**"]
  - name: prod
    paths: ["overlays/prod/**"]
""",
    "base/kustomization.yaml": "resources:\n  - ./deployment.yaml\n  - service.yaml\n",
    "base/deployment.yaml": deployment("web", "registry.example.com/web:1.4.2"),
    "base/service.yaml": SERVICE,
    "components/probes/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - path: probe.yaml
""",
    "components/probes/probe.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          readinessProbe:
            httpGet: {path: /healthz, port: 80}
""",
    "overlays/shared/kustomization.yaml": """\
resources:
  - ../../base/
components:
  - ../../components/probes
commonAnnotations:
  owner: team-web
""",
    "overlays/dev/kustomization.yaml": """\
namespace: dev
resources:
  - ../shared
images:
  - name: registry.example.com/web
    newTag: 1.5.0-rc1
""",
    "overlays/staging/kustomization.yml": """\
namespace: staging
resources:
  - ../shared
patches:
  - path: resources.yaml
""",
    "overlays/staging/resources.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          resources:
            limits:
              memory: 512Mi
""",
    "overlays/prod/Kustomization": """\
namespace: prod
resources:
  - ../shared
replicas:
  - name: web
    count: 3
""",
}
ENVIRONMENTS = ("dev", "prod", "staging")


# -- running gate ----------------------------------------------------------------------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def findings(self) -> list[dict[str, Any]]:
        """Results that are findings (not passes or skips), as the report orders them."""
        assert self.report is not None
        return [r for r in self.report["results"] if r["status"] in ("fail", "warn", "waived")]

    def change(self) -> dict[str, Any]:
        assert self.report is not None
        change: dict[str, Any] = self.report["change"]
        return change

    def one_line_error(self) -> str:
        """The one line a usage or git error prints, checked to be alone and traceback-free."""
        assert self.code == 2, (self.code, self.stdout, self.stderr)
        assert "Traceback" not in self.stderr
        assert self.stdout == ""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("gate: error: ")
        return lines[0]


Diff = Callable[..., Run]


def gate(cwd: Path, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "gate", *args], cwd=cwd, env=_GATE_ENV, timeout=TIMEOUT)


def validated(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text("utf-8"))
    errors = sorted(_VALIDATOR.iter_errors(report), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return report


@pytest.fixture
def diff(tmp_path: Path) -> Diff:
    """``diff(cwd, *args)``: ``gate diff ARGS -f text -f json=...`` (the JSON report is
    written outside the repository, so --worktree never sees it, and is validated)."""
    out = tmp_path / "reports"
    out.mkdir()
    count = 0

    def run(cwd: Path | GitRepo, *args: str) -> Run:
        nonlocal count
        count += 1
        where = cwd.path if isinstance(cwd, GitRepo) else cwd
        report_file = out / f"report-{count}.json"
        done = gate(where, "diff", *args, "-f", "text", "-f", f"json={report_file}")
        assert "Traceback" not in done.stderr, done.stderr
        report = validated(report_file) if report_file.exists() else None
        if report is not None:
            assert report["summary"]["new"] == sum(
                1 for r in report["results"] if r["new"] and r["status"] != "pass")
            assert report["summary"]["changed_files"] == len(report["change"]["files"])
            assert report["summary"]["deleted_resources"] == len(
                report["change"]["deleted_resources"])
        return Run(done.returncode, done.stdout, done.stderr, report)

    return run


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A repository with one compliant Deployment in apps/web.yaml."""
    made = GitRepo.init(tmp_path / "repo")
    made.write(".gate.yaml", _PLAIN_CONFIG)
    made.write("apps/web.yaml", deployment("web", "nginx:1.25.3"))
    made.commit("initial")
    return made


@pytest.fixture
def kustomized(tmp_path: Path) -> GitRepo:
    made = GitRepo.init(tmp_path / "kustomized")
    made.write_all(KUSTOMIZE_FILES)
    made.commit("initial")
    return made


def by_environment(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Findings by environment ("" for none), one each."""
    found: dict[str, dict[str, Any]] = {}
    for finding in findings:
        environment = finding["resource"]["environment"] or ""
        assert environment not in found, f"two findings in {environment}"
        found[environment] = finding
    return found


# -- plain manifests -------------------------------------------------------------------------


def test_a_new_latest_image_blocks(repo: GitRepo, diff: Diff) -> None:
    repo.write("apps/web.yaml", deployment("web", "nginx:latest"))
    line = repo.line_of("apps/web.yaml", "image: nginx:latest")
    head = repo.commit("use latest")
    run = diff(repo, "--base", "HEAD~1")
    assert run.code == 1, run.stderr
    [finding] = run.findings()
    assert finding["policy"] == "no-latest-tag"
    assert (finding["status"], finding["new"]) == ("fail", True)
    assert (finding["file"], finding["line"]) == ("apps/web.yaml", line)
    assert finding["field"] == "spec.template.spec.containers[0].image"
    assert finding["resource"]["rendered_by"] is None
    assert finding["resource"]["environment"] is None
    assert f"apps/web.yaml:{line}: [no-latest-tag]" in run.stdout
    assert "(new)" in run.stdout
    assert run.report is not None
    assert run.report["verdict"] == "fail"
    assert run.report["summary"]["new"] == 1
    change = run.change()
    assert change["mode"] == "commits"
    assert change["base"] == {"ref": "HEAD~1", "sha": repo.sha("HEAD~1")}
    assert change["head"] == {"ref": "HEAD", "sha": head}
    assert change["merge_base"] == repo.sha("HEAD~1")
    assert change["blocking"] == "new"
    assert change["files"] == [{"status": "M", "path": "apps/web.yaml", "old_path": None}]


@pytest.fixture
def indebted(repo: GitRepo) -> GitRepo:
    """apps/legacy.yaml has used :latest since before the change under test."""
    repo.write("apps/legacy.yaml", deployment("legacy", "legacy:latest"))
    repo.commit("legacy debt")
    return repo


def test_an_existing_finding_warns_and_does_not_block(indebted: GitRepo, diff: Diff) -> None:
    indebted.write("apps/legacy.yaml", deployment("legacy", "legacy:latest", replicas=2))
    line = indebted.line_of("apps/legacy.yaml", "image: legacy:latest")
    indebted.commit("scale legacy")
    run = diff(indebted, "--base", "HEAD~1", "--show-existing")
    assert run.code == 0, run.stdout + run.stderr
    [finding] = run.findings()
    assert finding["policy"] == "no-latest-tag"
    assert (finding["status"], finding["new"]) == ("warn", False)
    assert (finding["file"], finding["line"]) == ("apps/legacy.yaml", line)
    assert "(existing)" in run.stdout
    assert run.report is not None and run.report["verdict"] == "pass"
    assert run.report["summary"]["new"] == 0

    every = diff(indebted, "--base", "HEAD~1", "--all")
    assert every.code == 1
    [finding] = every.findings()
    assert (finding["status"], finding["new"]) == ("fail", False)
    assert every.change()["blocking"] == "all"


def test_files_the_change_does_not_touch_are_not_judged(indebted: GitRepo, diff: Diff) -> None:
    indebted.write("apps/web.yaml", deployment("web", "nginx:1.25.4"))
    indebted.commit("bump web")
    run = diff(indebted, "--base", "HEAD~1", "--all")
    assert run.code == 0, run.stdout
    assert run.findings() == []
    assert run.report is not None
    assert {r["resource"]["file"] for r in run.report["results"]} == {"apps/web.yaml"}


@pytest.mark.parametrize("edit", [False, True], ids=["pure", "with-edit"])
def test_a_renamed_file_keeps_its_findings_existing(indebted: GitRepo, diff: Diff,
                                                     edit: bool) -> None:
    indebted.git("mv", "apps/legacy.yaml", "apps/renamed.yaml")
    if edit:
        indebted.write("apps/renamed.yaml", deployment("legacy", "legacy:latest", replicas=3))
    indebted.commit("move legacy")
    run = diff(indebted, "--base", "HEAD~1", "--show-existing")
    assert run.code == 0, run.stdout
    assert run.change()["files"] == [
        {"status": "R", "path": "apps/renamed.yaml", "old_path": "apps/legacy.yaml"}]
    [finding] = run.findings()
    assert (finding["status"], finding["new"]) == ("warn", False)
    assert finding["file"] == "apps/renamed.yaml"
    assert run.change()["deleted_resources"] == []


def test_a_deleted_file_lists_its_resources(indebted: GitRepo, diff: Diff) -> None:
    indebted.write("apps/legacy.yaml", deployment("legacy", "legacy:latest") + "---\n" + SERVICE)
    indebted.commit("add a service")
    indebted.remove("apps/legacy.yaml")
    indebted.commit("retire legacy")
    run = diff(indebted, "--base", "HEAD~1")
    assert run.code == 0, run.stdout
    assert run.report is not None and run.report["results"] == []
    assert run.change()["files"] == [
        {"status": "D", "path": "apps/legacy.yaml", "old_path": None}]
    deleted = run.change()["deleted_resources"]
    assert [(r["kind"], r["name"], r["file"], r["rendered_by"]) for r in deleted] == [
        ("Deployment", "legacy", "apps/legacy.yaml", None),
        ("Service", "web", "apps/legacy.yaml", None),
    ]


def test_a_merge_commit_against_its_first_parent(repo: GitRepo, diff: Diff) -> None:
    repo.git("branch", "feature")
    repo.write("apps/main-only.yaml", deployment("main-only", "main:latest"))
    repo.commit("on main")
    repo.checkout("feature")
    repo.write("apps/feature.yaml", deployment("feature", "feature:latest"))
    line = repo.line_of("apps/feature.yaml", "image:")
    repo.commit("on feature")
    repo.checkout("main")
    merge = repo.merge("feature")
    run = diff(repo, "--base", "HEAD^1")
    assert run.code == 1
    assert run.change()["files"] == [{"status": "A", "path": "apps/feature.yaml",
                                      "old_path": None}]
    assert run.change()["merge_base"] == repo.sha("HEAD^1")
    assert run.change()["head"]["sha"] == merge
    [finding] = run.findings()
    assert (finding["file"], finding["line"], finding["new"]) == ("apps/feature.yaml", line, True)


def test_a_branch_is_judged_from_its_merge_base(repo: GitRepo, diff: Diff) -> None:
    repo.write("apps/legacy.yaml", deployment("legacy", "legacy:latest"))
    branch_point = repo.commit("debt at the branch point")
    repo.git("branch", "feature")
    # main moves on: it fixes the debt, and adds debt of its own
    repo.write("apps/legacy.yaml", deployment("legacy", "legacy:2.0.0"))
    repo.write("apps/main-only.yaml", deployment("main-only", "main:latest"))
    main = repo.commit("main moves on")
    repo.checkout("feature")
    repo.write("apps/legacy.yaml", deployment("legacy", "legacy:latest", replicas=4))
    feature = repo.commit("feature scales legacy")

    for args in (("--base", "main"), ("--base", "main", "--head", "feature")):
        run = diff(repo, *args, "--show-existing")
        assert run.code == 0, (args, run.stdout)
        change = run.change()
        assert change["base"] == {"ref": "main", "sha": main}
        assert change["head"]["sha"] == feature
        assert change["merge_base"] == branch_point
        assert [f["path"] for f in change["files"]] == ["apps/legacy.yaml"]
        [finding] = run.findings()  # main's fix does not make the branch's :latest new
        assert (finding["file"], finding["new"], finding["status"]) == (
            "apps/legacy.yaml", False, "warn")

    repo.checkout("main")  # the same comparison, run from another checkout
    run = diff(repo, "--base", "main", "--head", "feature")
    assert run.code == 0
    assert [f["path"] for f in run.change()["files"]] == ["apps/legacy.yaml"]


# -- Kustomize -------------------------------------------------------------------------------

_NEEDS_BINARY = pytest.mark.skipif(
    shutil.which("kubectl") is None and shutil.which("kustomize") is None,
    reason="neither kubectl nor kustomize is on PATH")
# Most tests render with the built-in renderer (the fastest); the parametrized ones and the
# determinism and read-only tests use the default (auto: a binary when one is on PATH).
BUILTIN = ("--kustomize", "builtin")
KUSTOMIZE_MODES = ["builtin", "auto", pytest.param("binary", marks=_NEEDS_BINARY)]


@pytest.mark.parametrize("mode", KUSTOMIZE_MODES)
def test_a_base_change_is_judged_in_every_environment(kustomized: GitRepo, diff: Diff,
                                                      mode: str) -> None:
    kustomized.replace("base/deployment.yaml", "              cpu: 500m\n", "")
    line = kustomized.line_of("base/deployment.yaml", "resources:")
    kustomized.commit("drop the cpu limit")
    run = diff(kustomized, "--base", "HEAD~1", "--kustomize", mode)
    assert run.code == 1, run.stdout + run.stderr
    found = by_environment(run.findings())
    assert sorted(found) == list(ENVIRONMENTS)
    for environment, finding in found.items():
        assert finding["policy"] == "resource-limits"
        assert "limits.cpu" in finding["message"]
        assert (finding["status"], finding["new"]) == ("fail", True)
        assert (finding["file"], finding["line"]) == ("base/deployment.yaml", line)
        assert finding["resource"]["rendered_by"] == f"overlays/{environment}"
        assert finding["resource"]["namespace"] == environment
        resource = finding["resource"]
        assert (f"({resource['kind']} {environment}/{resource['name']}, {environment}, "
                f"overlays/{environment}, new)") in run.stdout
    assert run.report is not None
    assert run.report["summary"]["new"] == 3
    assert run.report["errors"] == []
    # the base is judged only through its overlays, never as a file of its own
    assert {r["resource"]["rendered_by"] for r in run.report["results"]} == {
        f"overlays/{e}" for e in ENVIRONMENTS}


def test_an_overlay_that_overrides_the_base_is_spared(kustomized: GitRepo, diff: Diff) -> None:
    kustomized.replace("base/deployment.yaml", "web:1.4.2", "web:latest")
    line = kustomized.line_of("base/deployment.yaml", "image:")
    kustomized.commit("base on latest")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 1
    found = by_environment(run.findings())
    assert sorted(found) == ["prod", "staging"]  # dev sets its own tag in images:
    for finding in found.values():
        assert (finding["file"], finding["line"], finding["new"]) == (
            "base/deployment.yaml", line, True)


def test_an_overlay_image_tag_is_traced_to_its_kustomization(kustomized: GitRepo,
                                                             diff: Diff) -> None:
    kustomized.replace("overlays/dev/kustomization.yaml", "newTag: 1.5.0-rc1", "newTag: latest")
    line = kustomized.line_of("overlays/dev/kustomization.yaml", "newTag: latest")
    kustomized.commit("dev on latest")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 1
    [finding] = run.findings()
    assert finding["policy"] == "no-latest-tag"
    assert (finding["file"], finding["line"]) == ("overlays/dev/kustomization.yaml", line)
    assert finding["new"] is True
    assert finding["resource"]["environment"] == "dev"
    assert finding["resource"]["rendered_by"] == "overlays/dev"
    assert finding["resource"]["file"] == "base/deployment.yaml"
    assert f"overlays/dev/kustomization.yaml:{line}: [no-latest-tag]" in run.stdout
    assert run.report is not None
    assert {r["resource"]["environment"] for r in run.report["results"]} == {"dev"}


def test_a_patch_change_reaches_the_overlay_that_uses_it(kustomized: GitRepo,
                                                         diff: Diff) -> None:
    kustomized.replace("overlays/staging/resources.yaml", "          resources:\n",
                       "          image: registry.example.com/web:latest\n"
                       "          resources:\n")
    line = kustomized.line_of("overlays/staging/resources.yaml", "image:")
    kustomized.commit("staging patch on latest")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 1
    [finding] = run.findings()
    assert (finding["file"], finding["line"]) == ("overlays/staging/resources.yaml", line)
    assert finding["resource"]["environment"] == "staging"
    assert finding["resource"]["rendered_by"] == "overlays/staging"
    assert run.report is not None
    # the patch is not a resource: it is judged only through its overlay
    assert {r["resource"]["rendered_by"] for r in run.report["results"]} == {"overlays/staging"}


def test_a_component_change_reaches_every_overlay_using_it(kustomized: GitRepo,
                                                           diff: Diff) -> None:
    kustomized.replace("components/probes/probe.yaml", "          readinessProbe:\n",
                       "          image: registry.example.com/web:latest\n"
                       "          readinessProbe:\n")
    line = kustomized.line_of("components/probes/probe.yaml", "image:")
    kustomized.commit("probes on latest")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 1
    found = by_environment(run.findings())
    # dev's images: entry sets the tag after the component's patch
    assert sorted(found) == ["prod", "staging"]
    for finding in found.values():
        assert (finding["file"], finding["line"]) == ("components/probes/probe.yaml", line)


def test_a_file_no_kustomization_reads_is_judged_on_its_own(kustomized: GitRepo,
                                                            diff: Diff) -> None:
    kustomized.write("base/unused.yaml", deployment("unused", "unused:latest"))
    kustomized.write("overlays/dev/debug.yaml", deployment("debug", "debug:latest"))
    kustomized.commit("stray files")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 1
    findings = run.findings()
    assert [(f["file"], f["resource"]["environment"], f["resource"]["rendered_by"], f["new"])
            for f in findings] == [
        ("base/unused.yaml", None, None, True),
        ("overlays/dev/debug.yaml", "dev", None, True),
    ]
    assert run.report is not None
    assert all(r["resource"]["rendered_by"] is None for r in run.report["results"])


def test_a_kustomization_change_alone_rerenders_its_overlay(kustomized: GitRepo,
                                                            diff: Diff) -> None:
    kustomized.replace("overlays/dev/kustomization.yaml", "namespace: dev\n",
                       "namespace: dev\ncommonLabels:\n  tier: frontend\n")
    kustomized.commit("label dev")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 0, run.stdout
    assert run.report is not None
    assert run.report["summary"]["resources"] == 2
    assert {(r["resource"]["environment"], r["resource"]["rendered_by"])
            for r in run.report["results"]} == {("dev", "overlays/dev")}
    assert run.findings() == []

    kustomized.replace("overlays/shared/kustomization.yaml", "owner: team-web",
                       "owner: team-storefront")
    kustomized.commit("shared annotation")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 0
    assert run.report is not None
    assert run.report["summary"]["resources"] == 6
    assert {r["resource"]["rendered_by"] for r in run.report["results"]} == {
        f"overlays/{e}" for e in ENVIRONMENTS}


def test_a_deleted_overlay_lists_its_resources(kustomized: GitRepo, diff: Diff) -> None:
    kustomized.remove("overlays/prod")
    kustomized.commit("retire prod")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 0, run.stdout
    assert run.report is not None and run.report["results"] == []
    assert run.change()["files"] == [
        {"status": "D", "path": "overlays/prod/Kustomization", "old_path": None}]
    deleted = run.change()["deleted_resources"]
    assert sorted((r["kind"], r["namespace"], r["name"], r["environment"], r["rendered_by"])
                  for r in deleted) == [
        ("Deployment", "prod", "web", "prod", "overlays/prod"),
        ("Service", "prod", "web", "prod", "overlays/prod"),
    ]


@pytest.mark.parametrize("mode", [
    "builtin",
    pytest.param("binary", marks=[_NEEDS_BINARY]),
])
def test_an_overlay_that_cannot_render_at_the_head_is_an_error(kustomized: GitRepo,
                                                               diff: Diff, mode: str) -> None:
    kustomized.replace("overlays/staging/kustomization.yml", "- path: resources.yaml",
                       "- path: missing.yaml")
    kustomized.commit("break staging")
    run = diff(kustomized, "--base", "HEAD~1", "--kustomize", mode)
    assert run.code == 2, run.stdout + run.stderr
    assert run.report is not None
    assert run.report["verdict"] == "fail"
    [error] = run.report["errors"]
    assert error["file"].startswith("overlays/staging/")
    assert "missing.yaml" in error["message"]
    assert "Traceback" not in run.stderr
    # What the broken overlay deploys is unknown at the head, not deleted.
    assert not [r for r in run.report["change"]["deleted_resources"]
                if r["rendered_by"] == "overlays/staging"]


def test_an_overlay_broken_at_the_base_makes_its_findings_new(kustomized: GitRepo,
                                                              diff: Diff) -> None:
    kustomized.replace("overlays/prod/Kustomization", "  - ../shared\n",
                       "  - ../shared\n  - missing.yaml\n")
    kustomized.commit("break prod")
    kustomized.replace("overlays/prod/Kustomization", "  - missing.yaml\n", "")
    kustomized.replace("base/deployment.yaml", "web:1.4.2", "web:latest")
    kustomized.commit("mend prod, base on latest")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 1
    assert run.report is not None and run.report["errors"] == []
    notes = run.change()["notes"]
    assert any("base side could not be read" in note and "findings count as new" in note
               for note in notes), notes
    found = by_environment(run.findings())
    assert sorted(found) == ["prod", "staging"]
    assert all(finding["new"] for finding in found.values())


def test_a_base_file_removed_with_its_reference_is_deleted_everywhere(
        kustomized: GitRepo, diff: Diff) -> None:
    kustomized.remove("base/service.yaml")
    kustomized.replace("base/kustomization.yaml", "  - service.yaml\n", "")
    kustomized.commit("no service")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert run.code == 0, run.stdout
    assert [(f["status"], f["path"]) for f in run.change()["files"]] == [
        ("M", "base/kustomization.yaml"), ("D", "base/service.yaml")]
    deleted = run.change()["deleted_resources"]
    assert sorted((r["kind"], r["namespace"], r["environment"], r["rendered_by"])
                  for r in deleted) == [
        ("Service", e, e, f"overlays/{e}") for e in ENVIRONMENTS]
    assert run.report is not None
    assert {r["resource"]["kind"] for r in run.report["results"]} == {"Deployment"}


def _finding_keys(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (r["policy"], r["status"], r["file"], r["line"], r["field"], r["message"],
         *(r["resource"][k] for k in ("environment", "rendered_by", "kind", "namespace",
                                      "name", "file", "line")))
        for r in report["results"])


def _check_and_diff(tmp_path: Path, files: dict[str, str]) -> tuple[Any, Any]:
    """The results of ``gate check .`` and of ``gate diff`` of a commit adding every file
    to an empty one: the same units, judged the same way."""
    added = GitRepo.init(tmp_path / "added")
    added.commit("empty")
    added.write_all(files)
    added.commit("everything")
    reports = tmp_path / "agreement"
    reports.mkdir()
    check = gate(added.path, "check", ".", *BUILTIN, "-f", f"json={reports / 'check.json'}")
    diffed = gate(added.path, "diff", "--base", "HEAD~1", *BUILTIN,
                  "-f", f"json={reports / 'diff.json'}")
    assert "Traceback" not in check.stderr + diffed.stderr
    check_report, diff_report = (validated(reports / name)
                                 for name in ("check.json", "diff.json"))
    assert all(r["new"] for r in diff_report["results"] if r["status"] != "pass")
    assert (check.returncode, check_report["errors"]) == (diffed.returncode,
                                                          diff_report["errors"])
    return _finding_keys(check_report), _finding_keys(diff_report)


def test_adding_a_whole_tree_is_judged_as_gate_check_judges_it(tmp_path: Path) -> None:
    files = dict(KUSTOMIZE_FILES)
    files["base/deployment.yaml"] = deployment("web", "registry.example.com/web:latest",
                                               cpu_limit=False)
    files["overlays/dev/debug.yaml"] = deployment("debug", "debug:latest")
    files["apps/plain.yaml"] = deployment("plain", "plain:1.0.0", cpu_limit=False)
    check, diffed = _check_and_diff(tmp_path, files)
    assert check == diffed
    # 5 Deployments (web in 3 overlays, debug, plain) x 2 policies (no-latest-tag,
    # resource-limits).
    assert len(check) == 10


_UNUSED_COMPONENT = {
    "components/unused/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "patches:\n  - path: patch.yaml\n"),
    "components/unused/patch.yaml": deployment("web", "registry.example.com/web:latest"),
}


def test_a_patch_of_an_unused_component_is_judged_alike(tmp_path: Path) -> None:
    check, diffed = _check_and_diff(tmp_path, {**KUSTOMIZE_FILES, **_UNUSED_COMPONENT})
    assert check == diffed
    # A patch is no manifest: gate check says why it judged nothing there.
    report = validated_check(tmp_path / "added")
    assert not [r for r in report["results"] if r["resource"]["file"].startswith("components/")]
    [item] = report["unjudged"]
    assert (item["file"], item["what"], item["category"]) == (
        "components/unused", "Kustomize component", "not referenced")
    assert "no overlay uses it" in item["reason"]


def validated_check(repo: Path) -> dict[str, Any]:
    out = repo.parent / "check-only.json"
    done = gate(repo, "check", ".", *BUILTIN, "-f", f"json={out}")
    assert "Traceback" not in done.stderr
    return validated(out)


def test_a_base_in_a_hidden_directory_is_followed(kustomized: GitRepo, diff: Diff) -> None:
    kustomized.git("mv", "base", ".base")
    kustomized.replace("overlays/shared/kustomization.yaml", "../../base/", "../../.base/")
    kustomized.commit("hide the base")
    kustomized.replace(".base/deployment.yaml", "web:1.4.2", "web:latest")
    kustomized.commit("base on latest")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert sorted(by_environment(run.findings())) == ["prod", "staging"]
    assert run.code == 1


def test_an_escaped_reference_is_followed(kustomized: GitRepo, diff: Diff) -> None:
    kustomized.replace("overlays/shared/kustomization.yaml", "  - ../../base/",
                       '  - "../../b\\x61se/"')
    kustomized.commit("escape")
    kustomized.replace("base/deployment.yaml", "web:1.4.2", "web:latest")
    kustomized.commit("base on latest")
    run = diff(kustomized, "--base", "HEAD~1", *BUILTIN)
    assert sorted(by_environment(run.findings())) == ["prod", "staging"]


# -- the index and the working tree ----------------------------------------------------------


def test_staged_sees_the_index_and_not_the_working_tree(repo: GitRepo, diff: Diff) -> None:
    repo.write("apps/web.yaml", deployment("web", "nginx:latest"))
    line = repo.line_of("apps/web.yaml", "image:")
    repo.git("add", "apps/web.yaml")
    head = repo.sha("HEAD")
    # unstaged: web.yaml is mended on disk, and a new file is left untracked
    repo.write("apps/web.yaml", deployment("web", "nginx:1.25.3", replicas=2))
    repo.write("apps/untracked.yaml", deployment("untracked", "untracked:latest"))

    staged = diff(repo, "--staged")
    assert staged.code == 1
    change = staged.change()
    assert change["mode"] == "staged"
    assert change["base"] == {"ref": "HEAD", "sha": head}
    assert change["head"] == {"ref": "index", "sha": None}
    assert change["files"] == [{"status": "M", "path": "apps/web.yaml", "old_path": None}]
    [finding] = staged.findings()
    assert (finding["file"], finding["line"], finding["new"]) == ("apps/web.yaml", line, True)

    worktree = diff(repo, "--worktree")
    assert worktree.code == 1
    change = worktree.change()
    assert change["mode"] == "worktree"
    assert change["head"] == {"ref": "working tree", "sha": None}
    assert change["files"] == [
        {"status": "A", "path": "apps/untracked.yaml", "old_path": None},
        {"status": "M", "path": "apps/web.yaml", "old_path": None},
    ]
    [finding] = worktree.findings()
    assert (finding["file"], finding["new"]) == ("apps/untracked.yaml", True)


def test_staged_in_a_repository_without_commits(tmp_path: Path, diff: Diff) -> None:
    empty = GitRepo.init(tmp_path / "empty")
    empty.write(".gate.yaml", _PLAIN_CONFIG)
    empty.write("apps/web.yaml", deployment("web", "nginx:latest"))
    line = empty.line_of("apps/web.yaml", "image:")
    empty.git("add", "-A")
    for mode in ("--staged", "--worktree"):
        run = diff(empty, mode)
        assert run.code == 1, run.stdout + run.stderr
        change = run.change()
        assert change["base"] == {"ref": "HEAD", "sha": None}
        assert change["merge_base"] is None
        assert change["files"] == [{"status": "A", "path": ".gate.yaml", "old_path": None},
                                   {"status": "A", "path": "apps/web.yaml", "old_path": None}]
        [finding] = run.findings()
        assert (finding["file"], finding["line"], finding["new"]) == ("apps/web.yaml", line, True)
    error = diff(empty, "--base", "HEAD").one_line_error()
    assert "no commits yet" in error


# -- the paths filter ------------------------------------------------------------------------


def test_paths_limit_the_change(repo: GitRepo, diff: Diff) -> None:
    repo.write("apps/web.yaml", deployment("web", "nginx:latest"))
    repo.write("apps-legacy/old.yaml", deployment("old", "old:latest"))
    repo.write("infra/db.yaml", deployment("db", "db:latest"))
    repo.commit("latest everywhere")

    def paths(run: Run) -> list[str]:
        return [f["path"] for f in run.change()["files"]]

    whole = diff(repo, "--base", "HEAD~1")
    assert paths(whole) == ["apps-legacy/old.yaml", "apps/web.yaml", "infra/db.yaml"]
    assert len(whole.findings()) == 3

    for cwd, args in ((repo.path, ("apps/",)), (repo.path, ("apps",)),
                      (repo.path / "apps", (".",)), (repo.path / "infra", ("../apps",)),
                      (repo.path, (str(repo.path / "apps"),))):
        run = diff(cwd, "--base", "HEAD~1", *args)
        assert run.code == 1, (cwd, args)
        assert paths(run) == ["apps/web.yaml"], (cwd, args)  # not apps-legacy/
        assert [f["file"] for f in run.findings()] == ["apps/web.yaml"]

    run = diff(repo, "--base", "HEAD~1", "apps/web.yaml", "infra")
    assert paths(run) == ["apps/web.yaml", "infra/db.yaml"]
    run = diff(repo, "--base", "HEAD~1", "docs")
    assert run.code == 0
    assert paths(run) == []
    assert run.findings() == []


# -- errors ----------------------------------------------------------------------------------


def test_outside_a_repository(tmp_path: Path, diff: Diff) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    error = diff(plain, "--base", "main").one_line_error()
    assert "not a git repository" in error


@pytest.fixture(scope="module")
def two_commits(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """A repository of two commits, which the error tests only read."""
    made = GitRepo.init(tmp_path_factory.mktemp("errors") / "repo")
    made.write("apps/web.yaml", deployment("web", "nginx:1.25.3"))
    made.commit("first")
    made.write("apps/web.yaml", deployment("web", "nginx:latest"))
    made.commit("second")
    return made


@pytest.mark.parametrize(("args", "expected"), [
    (["--base", "nope"], "unknown ref 'nope'"),
    (["--base=-x"], "must not start with '-'"),
    (["--base", "HEAD..main"], "a range names several commits"),
    (["--base", "HEAD~1...HEAD"], "a range names several commits"),
    (["--base", ""], "it is empty"),
    (["--base", "HEAD~1", "--head", "nope"], "unknown ref 'nope'"),
    (["--head", "HEAD"], "--base"),
    (["--staged", "--head", "HEAD"], "--head goes with --base"),
    (["--base", "HEAD~1", "--staged"], "exactly one of"),
    (["--base", "HEAD~1", "--worktree"], "exactly one of"),
    (["--staged", "--worktree"], "exactly one of"),
    ([], "exactly one of"),
    (["--base", "HEAD~1", "../outside"], "path outside the repository"),
])
def test_usage_and_ref_errors(two_commits: GitRepo, diff: Diff, args: list[str],
                             expected: str) -> None:
    assert expected in diff(two_commits, *args).one_line_error()


def test_an_option_like_base_is_a_usage_error(two_commits: GitRepo, diff: Diff) -> None:
    run = diff(two_commits, "--base", "-x")  # argparse reads -x as an option: usage, then the error
    assert run.code == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("gate: error: ")


@pytest.fixture
def shallow(tmp_path: Path, repo: GitRepo) -> tuple[GitRepo, str]:
    """A depth-1 clone of every branch, on ``feature``; and a commit it lacks."""
    old = repo.sha("HEAD")
    repo.git("branch", "feature")
    repo.write("apps/web.yaml", deployment("web", "nginx:1.26.0"))
    repo.commit("main moves on")
    repo.checkout("feature")
    repo.write("apps/feature.yaml", deployment("feature", "feature:1.0.0"))
    repo.commit("feature work")
    repo.checkout("main")
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch",
            repo.path.as_uri(), str(clone))
    cloned = GitRepo(clone)
    cloned.checkout("feature")
    return cloned, old


def test_a_shallow_clone_asks_for_the_history(shallow: tuple[GitRepo, str], diff: Diff) -> None:
    clone, missing = shallow
    for args in (["--base", missing], ["--base", "origin/main"]):
        error = diff(clone, *args).one_line_error()
        assert "shallow clone" in error, error
        assert "git fetch --unshallow" in error
        assert "fetch-depth: 0" in error


# -- the repository is left alone ------------------------------------------------------------


def _state(repo: GitRepo) -> dict[str, bytes]:
    """The working tree (bytes and mtimes), the index, HEAD, refs, the object names, and
    what ``git status`` says (asked without the optional index refresh)."""
    state: dict[str, bytes] = {}
    for directory, _, names in os.walk(repo.path):
        for name in names:
            path = Path(directory, name)
            relative = path.relative_to(repo.path).as_posix()
            if relative.startswith(".git/objects/"):
                state[relative] = b""
            elif relative.startswith(".git/"):
                state[relative] = path.read_bytes()
            else:
                state[relative] = path.read_bytes()
                state[relative + "#mtime"] = str(path.stat().st_mtime_ns).encode()
    state["#status"] = run_git(repo.path, "--no-optional-locks", "status", "--porcelain=v1",
                               "-z", "--untracked-files=all").encode()
    return state


def test_a_run_leaves_the_repository_unchanged(kustomized: GitRepo, diff: Diff) -> None:
    kustomized.replace("base/deployment.yaml", "web:1.4.2", "web:latest")
    kustomized.commit("base on latest")
    # staged, unstaged, untracked, and a file whose stat data in the index is stale
    kustomized.replace("overlays/dev/kustomization.yaml", "1.5.0-rc1", "latest")
    kustomized.git("add", "overlays/dev/kustomization.yaml")
    kustomized.replace("overlays/staging/resources.yaml", "512Mi", "1Gi")
    kustomized.write("overlays/prod/extra.yaml", deployment("extra", "extra:latest"))
    stale = kustomized.path / "base" / "service.yaml"
    os.utime(stale, ns=(stale.stat().st_atime_ns, stale.stat().st_mtime_ns + 5_000_000_000))

    before = _state(kustomized)
    assert " M overlays/staging/resources.yaml" in before["#status"].decode()
    runs = [diff(kustomized, "--base", "HEAD~1"), diff(kustomized, "--staged"),
            diff(kustomized, "--worktree")]
    after = _state(kustomized)
    assert sorted(after) == sorted(before)
    assert after == before
    assert [run.code for run in runs] == [1, 1, 1], [run.stderr for run in runs]
    # the stale file is no change at all
    assert "base/service.yaml" not in [f["path"] for f in runs[2].change()["files"]]
    assert [f["path"] for f in runs[2].change()["files"]] == [
        "overlays/dev/kustomization.yaml", "overlays/prod/extra.yaml",
        "overlays/staging/resources.yaml"]


# -- deterministic reports -------------------------------------------------------------------


def test_reports_are_byte_identical_across_runs(kustomized: GitRepo, tmp_path: Path) -> None:
    kustomized.remove("overlays/prod")
    kustomized.replace("overlays/dev/kustomization.yaml", "newTag: 1.5.0-rc1", "newTag: latest")
    kustomized.replace("base/deployment.yaml", "              cpu: 500m\n", "")
    kustomized.commit("retire prod, dev on latest, no cpu limit")

    def outputs(name: str) -> dict[str, bytes]:
        out = tmp_path / name
        out.mkdir()
        done = gate(kustomized.path, "diff", "--base", "HEAD~1", "--now", "2026-11-28T10:00:00Z",
                    "-f", f"json={out / 'r.json'}", "-f", f"junit={out / 'r.xml'}",
                    "-f", f"markdown={out / 'r.md'}", "-f", "text")
        assert done.returncode == 1, done.stderr
        validated(out / "r.json")
        return {path.name: path.read_bytes() for path in out.iterdir()} | {
            "stdout": done.stdout.encode(), "stderr": done.stderr.encode()}

    first, second = outputs("first"), outputs("second")
    assert first == second
    markdown = first["r.md"].decode("utf-8")
    assert "### Change (3)" in markdown
    for row in ("| M | base/deployment.yaml |", "| M | overlays/dev/kustomization.yaml |",
                "| D | overlays/prod/Kustomization |"):
        assert row in markdown
    deleted = markdown.split("Resources this change deletes", 1)[1]
    assert "| prod | Deployment prod/web | overlays/prod |" in deleted
    assert "| prod | Service prod/web | overlays/prod |" in deleted
    assert markdown.count("**NEW**") == 3  # dev: latest and the cpu limit; staging: the cpu limit
