"""The pre-commit config ``gate init`` writes, run by the real ``pre-commit`` on real
``git commit``s, in a repository with a freeze in force and a finding already merged.

The hook repository is a committed copy of this working tree, tagged with the release
tag ``gate init`` pins (``v`` + the version), so the config is used exactly as written:
``pre-commit install`` clones it at that tag and pip-installs gate into a virtualenv of
its own (offline, as in tests/test_precommit.py).
"""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from gate import __version__
from tests.conftest import RunGate
from tests.gitrepo import GitRepo, git_environment, run_git
from tests.manifests import CONFIGMAP, POD_LATEST
from tests.processes import run
from tests.test_precommit import INSTALL_TIMEOUT, snapshot

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

pytest.importorskip("pre_commit")

# Christmas Eve, half past eleven at night in Berlin: a year-end freeze is in force, and
# the office-hours window is closed.
NIGHT = datetime.fromisoformat("2026-12-24T23:30:00+01:00")
CALENDAR = """
calendar:
  windows:
    - {name: office-hours, kind: allow, schedule: "0 9 * * 1-5", duration: 8h,
       timeZone: Europe/Berlin, environments: [prod]}
  freezes:
    - {name: year-end, start: "2026-12-18T00:00:00+01:00", end: "2027-01-04T00:00:00+01:00",
       reason: year-end freeze, environments: [prod]}
"""
LEGACY = POD_LATEST.replace("name: web\n", "name: legacy\n", 1)  # nginx:latest, merged
NEW_FINDING = "envs/prod/web.yaml:10: [no-latest-tag] container 'web' image 'nginx:latest'"


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree, committed and tagged as the release gate init pins."""
    path = snapshot(tmp_path_factory.mktemp("gate-release"))
    run_git(path, "tag", f"v{__version__}")
    return path


def hook_environment(home: Path) -> dict[str, str]:
    """What ``git commit`` runs the installed hook with: no network (the hook's virtualenv
    sees this interpreter's packages, and pip may not ask an index), and the clock at
    night in the freeze (gate reads SOURCE_DATE_EPOCH)."""
    env = git_environment()
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM", "PRE_COMMIT_COLOR"):
        env.pop(name, None)
    env.update(PRE_COMMIT_HOME=str(home), VIRTUALENV_SYSTEM_SITE_PACKAGES="1",
               PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0",
               PIP_DISABLE_PIP_VERSION_CHECK="1",
               SOURCE_DATE_EPOCH=str(int(NIGHT.timestamp())))
    return env


def commit(repo: GitRepo, message: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``git commit`` of what is staged, with the hooks pre-commit installed."""
    date = f"{int(NIGHT.timestamp())} +0100"
    return run(["git", "-c", "commit.gpgsign=false", "commit", "-q", "-m", message],
               cwd=repo.path, env={**env, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
               timeout=INSTALL_TIMEOUT)


def head(repo: GitRepo) -> str:
    return repo.git("rev-parse", "HEAD").strip()


def test_the_ratchet_hook_gate_init_writes_on_real_commits(
    hook_repo: Path, tmp_path: Path, run_gate: RunGate
) -> None:
    repo = GitRepo.init(tmp_path / "manifests")
    repo.write("envs/prod/settings.yaml", CONFIGMAP)
    repo.write("envs/prod/legacy.yaml", LEGACY)  # a blocking finding, already merged
    proc = run_gate("init", "--hooks-repo", str(hook_repo), cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert "environment prod: envs/prod" in proc.stdout
    config = yaml.safe_load(repo.read(".pre-commit-config.yaml"))
    assert config["repos"] == [{"repo": str(hook_repo), "rev": f"v{__version__}",
                                "hooks": [{"id": "gate-diff"}]}]
    repo.write(".gate.yaml", repo.read(".gate.yaml") + CALENDAR)
    repo.commit("gate, with a year-end freeze")  # no hook installed yet
    env = hook_environment(tmp_path / "pre-commit-home")
    installed = run([sys.executable, "-m", "pre_commit", "install"], cwd=repo.path, env=env,
                    timeout=60)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (repo.path / ".git" / "hooks" / "pre-commit").is_file()
    # What the pre-commit config replaced would have done: block on the old finding.
    proc = run_gate("check", "envs/prod/legacy.yaml", cwd=repo.path)
    assert proc.returncode == 1 and "[no-latest-tag]" in proc.stdout

    repo.git("switch", "-q", "-c", "feature/faster")
    # 1. At night, in the freeze, a commit to prod on a feature branch: the window governs
    # merging, not committing.
    repo.replace("envs/prod/settings.yaml", "mode: fast", "mode: faster")
    repo.git("add", "envs/prod/settings.yaml")
    before = head(repo)
    done = commit(repo, "faster settings", env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert head(repo) != before
    # ... and gate says what it did not judge, and why.
    repo.replace("envs/prod/settings.yaml", "mode: faster", "mode: fastest")
    repo.git("add", "envs/prod/settings.yaml")
    proc = run_gate("diff", "--staged", cwd=repo.path,
                    env={"SOURCE_DATE_EPOCH": env["SOURCE_DATE_EPOCH"], "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ".gate.yaml: not judged: change policy release-window not applied locally" \
        in proc.stdout
    repo.git("reset", "-q", "--hard")

    # 2. An unrelated edit of the file with the merged finding: only new findings block.
    repo.replace("envs/prod/legacy.yaml", "app.kubernetes.io/name: web",
                 "app.kubernetes.io/name: web\n    team: payments")
    repo.git("add", "envs/prod/legacy.yaml")
    before = head(repo)
    done = commit(repo, "legacy: name its team", env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert head(repo) != before

    # 3. A new blocking finding still stops the commit, with file and line.
    repo.write("envs/prod/web.yaml", POD_LATEST)
    repo.git("add", "envs/prod/web.yaml")
    before = head(repo)
    done = commit(repo, "add web", env)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert head(repo) == before
    assert "gate diff --staged" in output and "Failed" in output
    assert NEW_FINDING in output
    assert "(prod, new)" in output
    assert "release-window" not in output.replace("change policy release-window", "")
    repo.git("reset", "-q", "--hard")  # the refused commit's new file goes too
    assert not (repo.path / "envs" / "prod" / "web.yaml").exists()

    # 4. The freeze was in force: where the config asks for change policies on local
    # changes, the same kind of commit is refused by the window.
    repo.write(".gate.yaml", repo.read(".gate.yaml") + "judge_change_policies_locally: true\n")
    repo.replace("envs/prod/settings.yaml", "mode: faster", "mode: fastest")
    repo.git("add", "-A")
    done = commit(repo, "fastest settings", env)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "[release-window] prod is closed for changes: freeze 'year-end'" in output
