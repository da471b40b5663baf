"""The pre-commit hooks (``.pre-commit-hooks.yaml``), run by the real ``pre-commit``.

``pre-commit try-repo`` clones a repository at its HEAD commit and pip-installs it into
a fresh virtualenv, exactly as a user's ``pre-commit install`` would. So that the hooks
are tested as they are in the working tree (committed or not), the tests point it at a
committed copy of this repository's tracked and new files. Installing needs a package
index (pip resolves gate's dependencies, and setuptools to build gate in an isolated
build environment): with no network, the index is the test wheelhouse
(tests/wheelhouse.py), so that nothing comes from the base interpreter's packages. Each
``try-repo`` installs once, so every scenario runs both hooks in one call.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.gitrepo import GitRepo, git_environment, run_git
from tests.manifests import CONFIGMAP, POD_LATEST
from tests.processes import run
from tests.wheelhouse import Wheelhouse, offline_pip_environment

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

pytest.importorskip("pre_commit")

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
INSTALL_TIMEOUT = 300  # seconds: a try-repo run creates a virtualenv and pip-installs gate

POD_PINNED = POD_LATEST.replace("nginx:latest", "nginx:1.27.3")
FINDING = "apps/web.yaml:10: [no-latest-tag] container 'web' image 'nginx:latest'"


def snapshot(destination: Path) -> Path:
    """A git repository holding this repository's working tree (tracked files as they
    are now, and new files git does not ignore), in one commit."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to snapshot")
    listed = run_git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    repo = GitRepo.init(destination)
    repo.commit("snapshot of the working tree")
    return destination


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("gate-hooks"))


@pytest.fixture
def manifests(tmp_path: Path) -> GitRepo:
    """A manifest repository with one committed, compliant resource."""
    repo = GitRepo.init(tmp_path / "manifests")
    repo.write("apps/settings.yaml", CONFIGMAP)
    repo.commit("initial")
    return repo


def try_repo(hook_repo: Path, repo: GitRepo, tmp_path: Path,
             wheelhouse: Wheelhouse) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo HOOK_REPO`` (every hook, on the staged files) in ``repo``."""
    env = git_environment()
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM", "PRE_COMMIT_COLOR"):
        env.pop(name, None)
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    # No network: pip's only index is the wheelhouse, for gate's dependencies and for
    # the setuptools of its isolated build; the hook's virtualenv sees no other packages.
    env = offline_pip_environment(env, wheelhouse.folder)
    done = run([sys.executable, "-m", "pre_commit", "try-repo", "--color", "never", hook_repo],
               cwd=repo.path, env=env, timeout=INSTALL_TIMEOUT)
    output = done.stdout + done.stderr
    if done.returncode not in (0, 1) or "An unexpected error has occurred" in output:
        log = Path(env["PRE_COMMIT_HOME"]) / "pre-commit.log"
        details = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        pytest.fail(f"pre-commit try-repo failed (status {done.returncode}):\n"
                    f"{output}\n{details}")
    return done


def hook_results(output: str) -> dict[str, str]:
    """``{hook name: Passed|Failed|...}`` from pre-commit's status lines."""
    return dict(re.findall(r"^(gate [^.\n]*?)\.{2,}(Passed|Failed|Skipped)", output, re.M))


def section(output: str, hook_id: str) -> str:
    """The output of one hook: from its ``- hook id:`` line to the next status line."""
    match = re.search(rf"^- hook id: {re.escape(hook_id)}\n(.*?)(?=^gate [^\n]*\.{{2,}}|\Z)",
                      output, re.M | re.S)
    assert match, f"no output from hook {hook_id}:\n{output}"
    return match.group(1)


# -- the manifest ---------------------------------------------------------------------------


def test_the_manifest_is_valid_and_declares_both_hooks() -> None:
    done = run([sys.executable, "-m", "pre_commit", "validate-manifest", str(HOOKS)], timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    hooks = {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}
    assert set(hooks) == {"gate", "gate-diff"}
    assert hooks["gate"]["entry"] == "gate check"
    assert hooks["gate"]["types"] == ["yaml"]
    assert hooks["gate"].get("pass_filenames", True) is True
    assert hooks["gate-diff"]["entry"] == "gate diff --staged"
    assert hooks["gate-diff"]["pass_filenames"] is False
    assert hooks["gate-diff"]["always_run"] is True
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["entry"].split()[0] == "gate"  # the console script pip installs


# -- end to end, with the real pre-commit ----------------------------------------------------


def test_a_staged_violation_fails_both_hooks_with_file_and_line(
    hook_repo: Path, manifests: GitRepo, tmp_path: Path, wheelhouse: Wheelhouse
) -> None:
    manifests.write("apps/web.yaml", POD_LATEST)
    manifests.git("add", "apps/web.yaml")
    done = try_repo(hook_repo, manifests, tmp_path, wheelhouse)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert hook_results(output) == {"gate check": "Failed", "gate diff --staged": "Failed"}
    check = section(output, "gate")
    assert "- exit code: 1" in check
    assert FINDING in check
    diff = section(output, "gate-diff")
    assert "- exit code: 1" in diff
    assert FINDING in diff
    assert "(new)" in diff


def test_a_clean_staged_change_passes_and_unstaged_files_are_not_judged(
    hook_repo: Path, manifests: GitRepo, tmp_path: Path, wheelhouse: Wheelhouse
) -> None:
    manifests.write("apps/web.yaml", POD_PINNED)
    manifests.git("add", "apps/web.yaml")
    # Not staged: neither hook may judge it.
    manifests.write("apps/scratch.yaml", POD_LATEST)
    done = try_repo(hook_repo, manifests, tmp_path, wheelhouse)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert hook_results(output) == {"gate check": "Passed", "gate diff --staged": "Passed"}
    assert "scratch.yaml" not in output


def test_the_hooks_honour_the_repositorys_gate_yaml(
    hook_repo: Path, manifests: GitRepo, tmp_path: Path, wheelhouse: Wheelhouse
) -> None:
    manifests.write(".gate.yaml", "policies:\n  no-latest-tag: {enabled: false}\n")
    manifests.commit("switch off no-latest-tag")
    manifests.write("apps/web.yaml", POD_LATEST)  # the violation of the first test
    manifests.git("add", "apps/web.yaml")
    done = try_repo(hook_repo, manifests, tmp_path, wheelhouse)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert hook_results(output) == {"gate check": "Passed", "gate diff --staged": "Passed"}
    assert "no-latest-tag" not in output


def test_snapshot_is_the_working_tree(hook_repo: Path) -> None:
    """try-repo sees the hooks file as it is in the working tree, committed or not."""
    assert (hook_repo / ".pre-commit-hooks.yaml").read_bytes() == HOOKS.read_bytes()
    assert run_git(hook_repo, "status", "--porcelain") == ""
    assert (hook_repo / "pyproject.toml").is_file()
    assert not (hook_repo / "build").exists()  # ignored files stay out
