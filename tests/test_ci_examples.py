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
from tests import cimerge
from tests.cimerge import SCENARIOS, Checkout, Scenario, assert_judged_by_the_authors_commits
from tests.gitrepo import GitRepo, git_environment
from tests.manifests import CONFIGMAP, POD_LATEST
from tests.processes import check_jsonschema, run

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


@pytest.mark.e2e
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


@pytest.mark.e2e
def test_gitlab_pipeline_validates_against_the_gitlab_ci_schema() -> None:
    done = check_jsonschema("vendor.gitlab-ci", GITLAB)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.e2e
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
    # The target's tip as base, the author's head (not the merged result) as head commit.
    assert "CI_MERGE_REQUEST_TARGET_BRANCH_SHA" in script
    assert "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA" in script
    note = pipeline["gate-mr-note"]
    assert note["allow_failure"] is True
    # The note is the shortened report; the artifacts keep the whole one.
    assert files["markdown-comment"] in "\n".join(note["script"])
    assert files["markdown"] not in "\n".join(note["script"])
    assert {"markdown", "html"} <= set(files)
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


@pytest.mark.e2e
def test_shell_recipe_is_valid_bash() -> None:
    done = run(["bash", "-n", str(SHELL)], timeout=30)
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


@pytest.mark.e2e
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
    done = run(["bash", str(SHELL), "main"], cwd=repo.path, env=gate_on_path, timeout=120)
    assert done.returncode == status, done.stdout + done.stderr
    reports = repo.path / "gate-reports"
    assert sorted(p.name for p in reports.iterdir()) == sorted(
        REPORT_FILES[name] for name in ("json", "junit", "markdown", "markdown-comment",
                                        "html"))
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


@pytest.mark.e2e
def test_pre_commit_config_example_is_valid_and_names_real_hooks() -> None:
    pytest.importorskip("pre_commit")
    done = run([sys.executable, "-m", "pre_commit", "validate-config", PRE_COMMIT], timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    [repo] = load(PRE_COMMIT)["repos"]
    assert {hook["id"] for hook in repo["hooks"]} <= HOOK_IDS


# -- a required check everywhere: the base's rules judge the change ---------------------------


def test_every_recipe_for_a_required_check_reads_the_rules_from_the_base() -> None:
    """A merge request cannot waive its own findings or switch a policy off: every recipe
    judges it by the target branch's rules (the Action's `rules-from` defaults to base)."""
    scripts = {
        "gitlab": "\n".join(load(GITLAB)["gate"]["script"]),
        "jenkins": JENKINS.read_text(encoding="utf-8"),
        "shell": SHELL.read_text(encoding="utf-8"),
    }
    for name, script in scripts.items():
        [command] = gate_diff_commands(script)
        assert "--rules-from" in command, name
        assert command[command.index("--rules-from") + 1] == "base", name
    assert ACTION["inputs"]["rules-from"]["default"] == "base"
    [job] = load(GITHUB)["jobs"].values()
    gate = next(step for step in job["steps"] if step.get("id") == "gate")
    assert "rules-from" not in gate["with"]
    assert "--rules-from" in DOC.read_text(encoding="utf-8")


# -- each recipe on a checkout whose HEAD is the merge its CI made ----------------------------
#
# tests/cimerge.py builds the merge each CI system makes of the author's branch with its
# target, and the runner's clone with HEAD on it. Each recipe's script runs as its CI
# runs it, with the variables that CI sets; gate must read change tickets and overrides
# from the author's commits, never from the merge.

SCENARIO_IDS = [scenario.name for scenario in SCENARIOS]


def run_script(script: str, shell: list[str], cwd: Path, env: dict[str, str],
               tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "ci-script.sh"
    path.write_text(script, encoding="utf-8")
    return run([*shell, str(path)], cwd=cwd, env=env, timeout=300)


def judged(checkout: Checkout, scenario: Scenario,
           done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == scenario.exit_code, done.stdout + done.stderr
    report = cimerge.read_report(checkout.workspace.path / "gate-reports" / "gate.json")
    assert_judged_by_the_authors_commits(report, checkout, scenario)


def gitlab_job(checkout: Checkout, scenario: Scenario, env: dict[str, str], tmp_path: Path,
               **variables: str) -> subprocess.CompletedProcess[str]:
    """The `gate` job's script as the runner runs it (bash, errexit and pipefail), with
    gate already installed (before_script) and GitLab's predefined variables."""
    script = "\n".join(load(GITLAB)["gate"]["script"])
    ci = {"CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
          "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_SHA": checkout.merge,
          "CI_MERGE_REQUEST_IID": "1", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
          "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature",
          "CI_MERGE_REQUEST_DIFF_BASE_SHA": checkout.fork_point,
          "SOURCE_DATE_EPOCH": scenario.epoch, **variables}
    return run_script(script, ["bash", "-eo", "pipefail"], checkout.workspace.path,
                      {**env, **ci}, tmp_path)


@pytest.mark.e2e
@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_gitlab_merged_results_are_judged_by_the_authors_commits(
    tmp_path: Path, gate_on_path: dict[str, str], scenario: Scenario
) -> None:
    checkout = cimerge.gitlab_merged_results(tmp_path, scenario)
    done = gitlab_job(checkout, scenario, gate_on_path, tmp_path,
                      CI_MERGE_REQUEST_EVENT_TYPE="merged_result",
                      CI_MERGE_REQUEST_TARGET_BRANCH_SHA=checkout.base,
                      CI_MERGE_REQUEST_SOURCE_BRANCH_SHA=checkout.author_head)
    judged(checkout, scenario, done)


@pytest.mark.e2e
@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_a_gitlab_merge_request_pipeline_compares_with_the_fetched_target(
    tmp_path: Path, gate_on_path: dict[str, str], scenario: Scenario
) -> None:
    """Without merged results HEAD is the author's head; the job fetches the target
    branch, whose tip's rules judge the change."""
    checkout = cimerge.gitlab_merge_request(tmp_path, scenario)
    workspace = checkout.workspace
    # A merge request pipeline's clone has no target branch: the job fetches it.
    workspace.git("update-ref", "-d", "refs/remotes/origin/main")
    done = gitlab_job(checkout, scenario, gate_on_path, tmp_path,
                      CI_MERGE_REQUEST_EVENT_TYPE="detached")
    judged(checkout, scenario, done)
    assert workspace.sha("refs/remotes/origin/main") == checkout.base


def jenkins_script() -> tuple[str, dict[str, str]]:
    """The `sh` step's script as Groovy hands it to the shell (a single-quoted triple
    string: a backslash before a newline joins the lines, ``\\\\`` is one backslash), and
    the pipeline's `environment` block."""
    text = JENKINS.read_text(encoding="utf-8")
    body = re.search(r"sh '''\n(.*?)'''", text, re.S)
    assert body, "no sh ''' step in the Jenkinsfile"
    script = re.sub(r"\\(\n|\\|')", lambda m: "" if m.group(1) == "\n" else m.group(1),
                    body.group(1))
    block = re.search(r"environment \{(.*?)\}", text, re.S)
    variables = dict(re.findall(r"^\s*(\w+)\s*=\s*'([^']*)'", block.group(1), re.M)) \
        if block else {}
    return script, variables


@pytest.fixture
def python_without_network(tmp_path: Path) -> Path:
    """A directory with `python` and `python3` that run this interpreter, except that
    `-m venv DIR` makes DIR a "virtualenv" whose `gate` is this checkout's gate and
    `-m pip ...` does nothing: the install needs the network and is not what is tested."""
    bin_dir = tmp_path / "python-bin"
    bin_dir.mkdir()
    shim = bin_dir / "python"
    python, root = shlex.quote(sys.executable), shlex.quote(str(ROOT))
    gate = f'#!/bin/sh\nPYTHONPATH={root} exec {python} -m gate "$@"\n'
    shim.write_text(f"""#!{sys.executable}
import os, sys
args = sys.argv[1:]
module = args[args.index("-m") + 1] if "-m" in args[:-1] else None
if module == "venv":
    target = os.path.join(os.path.abspath(args[-1]), "bin")
    os.makedirs(target, exist_ok=True)
    for name, body in (("python", "#!/bin/sh\\nexec {shim} \\"$@\\"\\n"), ("gate", {gate!r})):
        with open(os.path.join(target, name), "w", encoding="utf-8") as handle:
            handle.write(body)
        os.chmod(os.path.join(target, name), 0o755)
    sys.exit(0)
if module == "pip":
    sys.exit(0)
os.execv({sys.executable!r}, [{sys.executable!r}, *args])
""", encoding="utf-8")
    shim.chmod(0o755)
    (bin_dir / "python3").symlink_to(shim)
    return bin_dir


@pytest.mark.e2e
@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_jenkins_merge_with_the_target_is_judged_by_the_authors_commits(
    tmp_path: Path, gate_on_path: dict[str, str], python_without_network: Path,
    scenario: Scenario
) -> None:
    checkout = cimerge.jenkins_merge_with_target(tmp_path, scenario)
    workspace = checkout.workspace.path
    script, variables = jenkins_script()
    (tmp_path / "workspace@tmp").mkdir()
    # The recipe fetches gate's source at GATE_REF: from a local repository, not the network.
    source = GitRepo.init(tmp_path / "gate-source")
    source.write("constraints/gate.txt", "# installed by the shim's pip, which does nothing\n")
    source.commit("gate's source")
    source.git("tag", variables["GATE_REF"])
    env = {**gate_on_path, **variables, "GATE_SOURCE": f"file://{source.path}",
           "PATH": f"{python_without_network}{os.pathsep}{gate_on_path['PATH']}",
           "JENKINS_URL": "http://jenkins.invalid/", "WORKSPACE": str(workspace),
           "WORKSPACE_TMP": str(tmp_path / "workspace@tmp"), "BRANCH_NAME": "PR-1",
           "CHANGE_ID": "1", "CHANGE_TARGET": "main", "CHANGE_BRANCH": "feature",
           "GIT_COMMIT": checkout.merge, "SOURCE_DATE_EPOCH": scenario.epoch}
    done = run_script(script, ["sh", "-xe"], workspace, env, tmp_path)
    judged(checkout, scenario, done)
    # Jenkins merged the target into the pull request: the base is the merge's second parent.
    assert checkout.workspace.git("rev-parse", "HEAD^2").strip() == checkout.base


@pytest.mark.e2e
@pytest.mark.parametrize("given", [True, False], ids=["GATE_HEAD_COMMIT", "found"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_the_shell_recipe_on_a_merge_commit_reads_the_authors_commits(
    tmp_path: Path, gate_on_path: dict[str, str], scenario: Scenario, given: bool
) -> None:
    """A pull request's merge commit checked out: the author's head given by the CI's
    variables, or found by gate as the merge's other parent."""
    checkout = cimerge.github_pull_request(tmp_path, scenario)
    env = {**gate_on_path, "SOURCE_DATE_EPOCH": scenario.epoch}
    if given:
        env["GATE_HEAD_COMMIT"] = checkout.author_head
    done = run(["bash", str(SHELL), "origin/main"], cwd=checkout.workspace.path, env=env,
               timeout=120)
    judged(checkout, scenario, done)
