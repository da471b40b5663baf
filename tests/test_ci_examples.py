"""The CI recipes under ``examples/`` (docs/ci.md): each parses, validates against its
CI system's schema where one is vendored by check-jsonschema (no network), and runs the
gate commands the documentation promises. The shell recipe runs for real."""
from __future__ import annotations

import itertools
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.github import REPORT_FILES
from tests.gitrepo import GitRepo, git_environment
from tests.manifests import CONFIGMAP, POD_LATEST

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GITHUB = EXAMPLES / "github" / "gate.yml"
GITLAB = EXAMPLES / "gitlab" / ".gitlab-ci.yml"
JENKINS = EXAMPLES / "jenkins" / "Jenkinsfile"
SHELL = EXAMPLES / "shell" / "gate-ci.sh"
PRE_COMMIT = EXAMPLES / "pre-commit" / ".pre-commit-config.yaml"
DOC = ROOT / "docs" / "ci.md"
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
HOOK_IDS = {hook["id"] for hook in
            yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
POD_PINNED = POD_LATEST.replace("nginx:latest", "nginx:1.27.3")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    """Validate with a schema vendored in the installed check-jsonschema package."""
    pytest.importorskip("check_jsonschema")
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )


def gate_diff_commands(text: str) -> list[list[str]]:
    """Every ``gate diff ...`` command line in a script (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        if line.lstrip().startswith(("#", "//")):
            continue
        match = re.search(r"\bgate\"?\s+(diff\s.*)", line)
        if match:
            found.append(["gate", *shlex.split(match.group(1), comments=True)])
    return found


def report_files(command: list[str]) -> dict[str, str]:
    """``{format: file}`` of a gate command's ``-f FMT=FILE`` options."""
    files = {}
    for option, value in itertools.pairwise(command):
        if option in ("-f", "--format") and "=" in value:
            name, _, path = value.partition("=")
            files[name] = path
    return files


def test_every_example_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for path in (GITHUB, GITLAB, JENKINS, SHELL, PRE_COMMIT):
        relative = path.relative_to(ROOT).as_posix()
        assert f"(../{relative})" in doc, f"docs/ci.md does not link {relative}"


def test_docs_name_every_action_input_and_output() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name in [*ACTION["inputs"], *ACTION["outputs"]]:
        assert f"`{name}`" in doc, name


# -- GitHub Actions --------------------------------------------------------------------------


def test_github_workflow_validates_against_the_workflow_schema() -> None:
    done = check_jsonschema("vendor.github-workflows", GITHUB)
    assert done.returncode == 0, done.stdout + done.stderr


def test_github_workflow_is_a_required_check_with_reports_and_sarif() -> None:
    workflow = load(GITHUB)
    triggers = workflow[True]  # PyYAML reads the key `on` as a YAML 1.1 boolean
    assert "pull_request" in triggers and "merge_group" in triggers
    for trigger in triggers.values():
        # A path-filtered workflow leaves a required check pending: never filter.
        assert not trigger or not {"paths", "paths-ignore"} & set(trigger)
    [job] = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    steps = job["steps"]
    checkout = next(step for step in steps if step.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    gate = next(step for step in steps if step.get("id") == "gate")
    assert re.fullmatch(r"[\w-]+/gate@v\d+\.\d+\.\d+", gate["uses"])
    assert set(gate["with"]) <= set(ACTION["inputs"])
    formats = [name.strip() for name in gate["with"]["formats"].split(",")]
    assert {"markdown", "json", "junit", "sarif"} <= set(formats)
    report_dir = gate["with"]["report-dir"]

    upload = next(step for step in steps
                  if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "${{ !cancelled() }}"  # the reports of a failed gate too
    assert upload["with"]["path"].rstrip("/") == report_dir
    sarif = next(step for step in steps
                 if step.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert sarif["with"]["sarif_file"] == f"{report_dir}/{REPORT_FILES['sarif']}"
    assert "!cancelled()" in sarif["if"]
    assert steps.index(gate) < steps.index(upload) < steps.index(sarif)


# -- GitLab CI -------------------------------------------------------------------------------


def test_gitlab_pipeline_validates_against_the_gitlab_ci_schema() -> None:
    done = check_jsonschema("vendor.gitlab-ci", GITLAB)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_gitlab_schema_check_has_teeth(tmp_path: Path) -> None:
    pipeline = load(GITLAB)
    pipeline["gate"]["artifacts"]["when"] = "sometimes"
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text(yaml.safe_dump(pipeline), encoding="utf-8")
    assert check_jsonschema("vendor.gitlab-ci", path).returncode == 1


def test_gitlab_job_publishes_the_junit_and_code_quality_reports_it_writes() -> None:
    pipeline = load(GITLAB)
    assert pipeline["variables"]["GIT_DEPTH"] == "0"
    job = pipeline["gate"]
    script = "\n".join(job["script"])
    [command] = gate_diff_commands(script)
    assert command[:3] == ["gate", "diff", "--base"]
    files = report_files(command)
    assert job["artifacts"]["reports"]["junit"] == files["junit"]
    assert job["artifacts"]["reports"]["codequality"] == files["codequality"]
    assert job["artifacts"]["when"] == "always"
    assert "CI_MERGE_REQUEST_DIFF_BASE_SHA" in script
    note = pipeline["gate-mr-note"]
    assert note["allow_failure"] is True
    assert files["markdown"] in "\n".join(note["script"])
    assert "<!-- gate-report:v1 -->" in "\n".join(note["script"])


def test_gitlab_note_script_is_valid_python() -> None:
    script = "\n".join(load(GITLAB)["gate-mr-note"]["script"])
    body = re.search(r"<<'EOF'\n(.*?)\nEOF", script, re.S)
    assert body, script
    compile(body.group(1), "gate-mr-note", "exec")


# -- Jenkins ---------------------------------------------------------------------------------


def test_jenkinsfile_fails_the_stage_and_records_junit_always() -> None:
    text = JENKINS.read_text(encoding="utf-8")
    [command] = gate_diff_commands(text)
    assert command[1:3] == ["diff", "--base"]
    files = report_files(command)
    post = text[text.index("post {"):]
    always = post[post.index("always {"):]
    assert f"junit testResults: '{files['junit']}'" in always
    assert "archiveArtifacts" in always
    assert "CHANGE_TARGET" in text
    assert "--exit-zero" not in text  # the exit status must fail the stage
    # The sh script is single-quoted: Groovy interpolates nothing into the shell.
    assert "sh '''" in text and 'sh """' not in text
    assert text.count("{") == text.count("}")


# -- the shell recipe ------------------------------------------------------------------------


def test_shell_recipe_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", str(SHELL)], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert os.access(SHELL, os.X_OK)
    [command] = gate_diff_commands(SHELL.read_text(encoding="utf-8"))
    assert command[:3] == ["gate", "diff", "--base"]


@pytest.fixture
def gate_on_path(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has a ``gate`` that runs this checkout's gate."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "gate"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m gate "$@"\n',
                       encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in git_environment().items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.parametrize(("manifest", "status"), [(POD_LATEST, 1), (POD_PINNED, 0)])
def test_shell_recipe_runs_and_exits_with_gates_status(
    tmp_path: Path, gate_on_path: dict[str, str], manifest: str, status: int
) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write("apps/settings.yaml", CONFIGMAP)
    repo.commit("initial")
    repo.checkout("-b", "feature")
    repo.write("apps/web.yaml", manifest)
    repo.commit("add web")
    done = subprocess.run(["bash", str(SHELL), "main"], cwd=repo.path, env=gate_on_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == status, done.stdout + done.stderr
    reports = repo.path / "gate-reports"
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        REPORT_FILES[name] for name in ("json", "junit", "markdown"))
    if status:
        assert "apps/web.yaml:10: [no-latest-tag]" in done.stdout
        assert "a finding blocks" in done.stderr
    else:
        assert "nothing blocks" in done.stdout


def test_recipes_name_the_reports_as_the_action_does() -> None:
    """One set of file names everywhere, so docs and artifacts agree."""
    for path in (JENKINS, SHELL):
        [command] = gate_diff_commands(path.read_text(encoding="utf-8"))
        for name, file in report_files(command).items():
            assert file.rsplit("/", 1)[-1] == REPORT_FILES[name], (path.name, name)
    [command] = gate_diff_commands("\n".join(load(GITLAB)["gate"]["script"]))
    for name, file in report_files(command).items():
        assert file.rsplit("/", 1)[-1] == REPORT_FILES[name], ("gitlab", name)


# -- pre-commit ------------------------------------------------------------------------------


def test_pre_commit_config_example_is_valid_and_names_real_hooks() -> None:
    pytest.importorskip("pre_commit")
    done = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config",
                           str(PRE_COMMIT)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [repo] = load(PRE_COMMIT)["repos"]
    assert {hook["id"] for hook in repo["hooks"]} <= HOOK_IDS
