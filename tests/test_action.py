"""The GitHub Action: ``action.yml`` (composite) and the module it runs, ``gate.github``.

``action.yml`` is validated against GitHub's action schema as vendored by
check-jsonschema (no network). The module runs on real scratch repositories with
``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY`` and the rest pointing at scratch files; and the
action's run steps are executed with bash the way the runner executes them, with their
``${{ }}`` expressions evaluated from the inputs and the event.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name

from gate import __version__ as gate_version
from gate import github
from tests import cimerge
from tests import wheelhouse as wheels
from tests.cimerge import SCENARIOS, Scenario
from tests.gitrepo import GitRepo, git_environment, run_git
from tests.manifests import CONFIGMAP, POD_LATEST
from tests.processes import check_jsonschema, output_of, run

ROOT = Path(__file__).resolve().parents[1]
ACTION_FILE = ROOT / "action.yml"
ACTION: dict[str, Any] = yaml.safe_load(ACTION_FILE.read_text(encoding="utf-8"))
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
POD_PINNED = POD_LATEST.replace("nginx:latest", "nginx:1.27.3")
# What the runner accepts as the name of a workflow command.
COMMAND = re.compile(r"^::([A-Za-z0-9_-]+)(?: ([^:]*))?::(.*)$")


# -- scratch repositories and the runner's files ---------------------------------------------


def pull_request(tmp_path: Path, manifest: str, subdir: str = "") -> GitRepo:
    """A repository whose branch ``feature`` adds ``apps/web.yaml`` on top of ``main``,
    with ``origin/main`` as a fetched pull request's checkout has it."""
    repo = GitRepo.init(tmp_path / "workspace")
    repo.write(f"{subdir}apps/settings.yaml", CONFIGMAP)
    repo.commit("initial")
    repo.checkout("-b", "feature")
    repo.write(f"{subdir}apps/web.yaml", manifest)
    repo.commit("add web")
    repo.git("update-ref", "refs/remotes/origin/main", "main")
    return repo


def runner_files(tmp_path: Path, repo: GitRepo) -> dict[str, str]:
    """The variables the runner sets for a step of a pull_request workflow."""
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    (tmp_path / "github_output").touch()
    (tmp_path / "step_summary").touch()
    return {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_BASE_REF": "main",
        "GITHUB_HEAD_REF": "feature",
        "GITHUB_WORKSPACE": str(repo.path),
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary"),
        "RUNNER_TEMP": str(temp),
    }


def read_outputs(path: str | Path) -> dict[str, str]:
    """Parse ``$GITHUB_OUTPUT`` as the runner does: ``k=v`` lines and ``k<<DELIM`` blocks."""
    outputs: dict[str, str] = {}
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            while lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            index += 1
            outputs[name] = "\n".join(value)
        else:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


def commands(stdout: str) -> list[tuple[str, dict[str, str], str]]:
    """The workflow commands the runner would act on: none between ``::stop-commands::T``
    and ``::T::``. Properties and message are unescaped."""
    def unescape(text: str) -> str:
        return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
                .replace("%2C", ",").replace("%25", "%"))

    found: list[tuple[str, dict[str, str], str]] = []
    stop_token: str | None = None
    for line in stdout.splitlines():
        match = COMMAND.match(line)
        if not match:
            continue
        name, props, message = match.groups()
        if stop_token is not None:
            if name == stop_token:
                stop_token = None
            continue
        if name == "stop-commands":
            stop_token = message
            continue
        properties = dict(item.split("=", 1) for item in props.split(",")) if props else {}
        found.append((name, {k: unescape(v) for k, v in properties.items()}, unescape(message)))
    return found


def run_module(env: Mapping[str, str], cwd: Path, monkeypatch: pytest.MonkeyPatch,
               *argv: str) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    out = io.StringIO()
    code = github.run(list(argv), {**os.environ, **env}, out)
    return code, out.getvalue()


# -- action.yml -----------------------------------------------------------------------------


@pytest.mark.e2e
def test_action_validates_against_the_github_actions_schema() -> None:
    done = check_jsonschema("vendor.github-actions", ACTION_FILE)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.e2e
def test_the_schema_check_catches_a_run_step_without_shell(tmp_path: Path) -> None:
    """The validation above has teeth: the vendored schema rejects a broken action."""
    broken = json.loads(json.dumps(ACTION))
    del broken["runs"]["steps"][0]["shell"]
    path = tmp_path / "action.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    done = check_jsonschema("vendor.github-actions", path)
    assert done.returncode == 1, done.stdout + done.stderr


def test_no_expression_reaches_a_script_and_every_one_is_known() -> None:
    """Inputs and event data go through env:, never into run: (script injection)."""
    inputs = set(ACTION["inputs"])
    used: set[str] = set()
    steps = ACTION["runs"]["steps"]
    assert ACTION["runs"]["using"] == "composite"
    for step in steps:
        assert step["shell"] == "bash"
        assert "${{" not in step["run"]
        for value in [*(step.get("env") or {}).values(), step.get("working-directory", "")]:
            for expression in EXPRESSION.findall(str(value)):
                assert re.fullmatch(r"[a-z_]+(\.[a-z_-]+)+", expression), expression
                root, _, rest = expression.partition(".")
                assert root in {"inputs", "github", "steps"}, expression
                if root == "inputs":
                    used.add(rest)
    assert used == inputs, f"inputs never used: {sorted(inputs - used)}"


def test_declared_outputs_are_the_ones_the_module_sets() -> None:
    produced = {"verdict", "exit-code", "report-dir", *github.COUNT_OUTPUTS,
                *(f"{name}-report" for name in github.REPORT_FILES)}
    declared = ACTION["outputs"]
    assert set(declared) == produced
    for name, output in declared.items():
        assert output["value"] == f"${{{{ steps.gate.outputs.{name} }}}}"
    for name in github.REPORT_FILES:
        assert name in ACTION["inputs"]["formats"]["description"]


# -- the module -----------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_violating_pull_request_fails_with_annotations_summary_and_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = pull_request(tmp_path, POD_LATEST)
    env = runner_files(tmp_path, repo)
    code, stdout = run_module(env, repo.path, monkeypatch, "--formats", "markdown,json,junit")
    assert code == 1, stdout

    found = commands(stdout)
    errors = [(props, message) for name, props, message in found if name == "error"]
    warnings = [(props, message) for name, props, message in found if name == "warning"]
    assert errors == [({"file": "apps/web.yaml", "line": "10",
                        "title": "gate: no-latest-tag (high)"},
                       "Pod/web: container 'web' image 'nginx:latest' uses the mutable tag "
                       "'latest' (new)\nHow to fix: gate explain no-latest-tag")]
    assert [(props["file"], props["line"], props["title"]) for props, _ in warnings] == [
        ("apps/web.yaml", "10", "gate: image-digest (medium)")]
    # The text report is in the log, with commands switched off around it.
    assert "apps/web.yaml:10: [no-latest-tag]" in stdout
    assert stdout.index("::stop-commands::") < stdout.index("apps/web.yaml:10: [no-latest")
    assert "--base=origin/main" in stdout

    reports = repo.path / "gate-reports"
    markdown = (reports / "gate.md").read_text(encoding="utf-8")
    comment = (reports / "gate-comment.md").read_text(encoding="utf-8")
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("<!-- gate-report:v1 -->")
    assert summary == comment + "\n"
    assert comment == markdown  # a small report is the same whole and shortened
    report = json.loads((reports / "gate.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "fail"
    assert report["change"]["base"]["ref"] == "origin/main"
    assert (reports / "gate-junit.xml").read_text(encoding="utf-8").startswith("<?xml")

    outputs = read_outputs(env["GITHUB_OUTPUT"])
    assert outputs == {
        "exit-code": "1", "report-dir": str(reports), "verdict": "fail",
        "blocking": "1", "warnings": "1", "waived": "0", "overridden": "0", "new": "2",
        "errors": "0",
        "markdown-report": str(reports / "gate.md"), "json-report": str(reports / "gate.json"),
        "junit-report": str(reports / "gate-junit.xml"),
        "markdown-comment-report": str(reports / "gate-comment.md"),
    }


@pytest.mark.e2e
def test_the_written_markdown_is_whole_and_the_summary_shortened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change too big for a comment: gate.md and gate.html hold every finding;
    gate-comment.md, and the job summary, are the shortened form."""
    pods = "---\n".join(POD_LATEST.replace("name: web", f"name: web-{n:03d}")
                        for n in range(150))
    repo = pull_request(tmp_path, pods)
    env = runner_files(tmp_path, repo)
    code, stdout = run_module(env, repo.path, monkeypatch, "--formats", "markdown,html,json")
    assert code == 1, stdout
    reports = repo.path / "gate-reports"
    assert sorted(p.name for p in reports.iterdir()) == [
        "gate-comment.md", "gate.html", "gate.json", "gate.md"]
    markdown = (reports / "gate.md").read_text(encoding="utf-8")
    comment = (reports / "gate-comment.md").read_text(encoding="utf-8")
    assert len(markdown) > 65_000 and "Shortened" not in markdown and "not shown" not in markdown
    assert len(comment) < 65_000 and "Shortened to fit 65,000 characters" in comment
    assert all(f"Pod web-{n:03d}" in markdown for n in range(150))
    assert markdown.count("no-latest-tag |") >= 150
    assert all(f"Pod web-{n:03d}" in (reports / "gate.html").read_text(encoding="utf-8")
               for n in range(150))
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary == comment + "\n"
    outputs = read_outputs(env["GITHUB_OUTPUT"])
    assert outputs["markdown-report"] == str(reports / "gate.md")
    assert outputs["markdown-comment-report"] == str(reports / "gate-comment.md")
    assert outputs["html-report"] == str(reports / "gate.html")


@pytest.mark.e2e
def test_a_clean_pull_request_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = pull_request(tmp_path, POD_PINNED)
    env = runner_files(tmp_path, repo)
    code, stdout = run_module(env, repo.path, monkeypatch, "--formats", "json")
    assert code == 0, stdout
    assert [name for name, _, _ in commands(stdout)] == ["warning"]  # image-digest warns
    outputs = read_outputs(env["GITHUB_OUTPUT"])
    assert outputs["verdict"] == "pass"
    assert outputs["blocking"] == "0"
    assert outputs["exit-code"] == "0"
    # The summary gets the Markdown report even when it is not one of the formats kept.
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("<!-- gate-report:v1 -->")
    assert sorted(p.name for p in (repo.path / "gate-reports").iterdir()) == ["gate.json"]
    assert list(Path(env["RUNNER_TEMP"]).iterdir()) == []  # scratch reports removed


@pytest.mark.e2e
def test_findings_point_at_repository_paths_from_a_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = pull_request(tmp_path, POD_LATEST, subdir="deploy/")
    env = {**runner_files(tmp_path, repo), "INPUT_REPORT_DIR": "out/reports"}
    code, stdout = run_module(env, repo.path / "deploy", monkeypatch)
    assert code == 1, stdout
    files = {props.get("file") for name, props, _ in commands(stdout) if name == "error"}
    assert files == {"deploy/apps/web.yaml"}
    # report-dir is relative to the workspace, as actions/upload-artifact's path is.
    assert read_outputs(env["GITHUB_OUTPUT"])["report-dir"] == str(repo.path / "out/reports")


@pytest.mark.e2e
def test_a_push_compares_with_the_commit_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = pull_request(tmp_path, POD_LATEST)
    env = {**runner_files(tmp_path, repo), "GITHUB_BASE_REF": "", "GITHUB_EVENT_NAME": "push",
           "GATE_EVENT_BEFORE": repo.sha("main")}
    code, stdout = run_module(env, repo.path, monkeypatch)
    assert code == 1
    assert f"--base={repo.sha('main')}" in stdout


@pytest.mark.e2e
def test_gate_errors_exit_2_with_an_error_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = pull_request(tmp_path, POD_PINNED)
    env = {**runner_files(tmp_path, repo), "INPUT_BASE": "origin/no-such-branch"}
    code, stdout = run_module(env, repo.path, monkeypatch)
    assert code == 2
    errors = [message for name, _, message in commands(stdout) if name == "error"]
    assert len(errors) == 1 and "no-such-branch" in errors[0]
    assert read_outputs(env["GITHUB_OUTPUT"])["verdict"] == "error"
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "## ❌ gate: error" in summary and "no-such-branch" in summary


@pytest.mark.e2e
def test_no_base_to_compare_with_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = pull_request(tmp_path, POD_PINNED)
    env = {**runner_files(tmp_path, repo), "GITHUB_BASE_REF": "",
           "GATE_EVENT_BEFORE": "0" * 40, "GATE_DEFAULT_BRANCH": ""}
    code, stdout = run_module(env, repo.path, monkeypatch)
    assert code == 2
    assert [name for name, _, _ in commands(stdout)] == ["error"]
    assert read_outputs(env["GITHUB_OUTPUT"]) == {"verdict": "error", "exit-code": "2"}


@pytest.mark.parametrize(("env", "expected"), [
    ({"INPUT_BASE": "release", "GITHUB_BASE_REF": "main"}, "release"),
    ({"GITHUB_BASE_REF": "main", "GATE_EVENT_BEFORE": "a" * 40}, "origin/main"),
    ({"GATE_MERGE_GROUP_BASE": "b" * 40, "GATE_EVENT_BEFORE": "a" * 40}, "b" * 40),
    ({"GATE_EVENT_BEFORE": "a" * 40, "GATE_DEFAULT_BRANCH": "main"}, "a" * 40),
    ({"GATE_EVENT_BEFORE": "0" * 40, "GATE_DEFAULT_BRANCH": "trunk"}, "origin/trunk"),
])
def test_the_base_follows_the_event(env: dict[str, str], expected: str) -> None:
    assert github.resolve_base(github.parse_inputs([], env), env) == expected


def test_the_pull_requests_head_commit_comes_from_the_event() -> None:
    sha = "c" * 40
    assert github.resolve_head_commit({"GATE_HEAD_COMMIT": f" {sha}\n"}) == sha
    assert github.resolve_head_commit({"GATE_HEAD_COMMIT": ""}) == ""
    assert github.resolve_head_commit({}) == ""
    for bad in ("HEAD", "c" * 39, "--all", "C" * 40, f"{sha} x"):
        with pytest.raises(github.ActionError, match="not a full commit SHA"):
            github.resolve_head_commit({"GATE_HEAD_COMMIT": bad})
    argv = github.gate_command("python", "origin/main", github.Inputs(), {}, sha)
    assert argv[5:8] == ["--base=origin/main", f"--head-commit={sha}", "--rules-from=base"]


def test_inputs_are_split_and_passed_as_single_arguments() -> None:
    env = {"INPUT_POLICIES": "compliance/policies,\nteam policies", "INPUT_FORMATS": "json, sarif",
           "INPUT_ARGS": "--all --kustomize builtin 'apps/my dir'", "INPUT_FAIL_ON": "high",
           "INPUT_CONFIG": "ci/.gate.yaml", "INPUT_BASE": "-x"}
    inputs = github.parse_inputs([], env)
    assert inputs.policies == ["compliance/policies", "team", "policies"]
    assert inputs.formats == ["json", "sarif"]
    assert inputs.rules_from == "base"
    assert github.parse_inputs([], {"INPUT_RULES_FROM": "working-tree"}).rules_from == \
        "working-tree"
    argv = github.gate_command("python", "-x", inputs, {"sarif": Path("/r/gate.sarif")})
    assert argv == ["python", "-I", "-m", "gate", "diff", "--base=-x", "--rules-from=base",
                    "--config=ci/.gate.yaml",
                    "--policies=compliance/policies", "--policies=team", "--policies=policies",
                    "--fail-on=high", "-f", "text", "-f", "sarif=/r/gate.sarif",
                    "--all", "--kustomize", "builtin", "apps/my dir"]


# -- workflow commands ----------------------------------------------------------------------


def test_commands_escape_data_and_properties() -> None:
    line = github.command("error", "100% bad\r\n::set-output name=x::y",
                          file="a,b:c.yaml", line=3, title="t: 50%")
    assert line == ("::error file=a%2Cb%3Ac.yaml,line=3,title=t%3A 50%25::"
                    "100%25 bad%0D%0A::set-output name=x::y")
    assert "\n" not in line
    assert github.command("notice", "m") == "::notice::m"


def _result(status: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"policy": "p", "severity": "high", "status": status, "message": message,
            "file": "apps/x.yaml", "line": 4, "new": True,
            "resource": {"apiVersion": "v1", "kind": "Pod", "name": "x", "namespace": "ns",
                         "environment": "prod"}, **extra}


def test_annotations_are_capped_per_level_with_a_notice() -> None:
    report = {
        "errors": [{"file": "apps/bad.yaml", "line": 2, "message": "invalid YAML"}],
        "results": [_result("fail", f"finding {n}") for n in range(12)]
        + [_result("warn", "old", new=False), _result("warn", "fresh"),
           _result("overridden", "let through", override={
               "trailer": "Gate-Override", "value": "INC-1 outage", "author": "Ann <a@x>",
               "commit": "0123456789abcdef" * 2 + "01234567"}),
           _result("waived", "quiet"), _result("pass", "")],
    }
    found = commands("\n".join(github.annotation_lines(report)))
    errors = [(p, m) for name, p, m in found if name == "error"]
    assert len(errors) == 10
    assert errors[0] == ({"file": "apps/bad.yaml", "line": "2", "title": "gate: input error"},
                         "invalid YAML")
    assert errors[1][1].startswith("Pod/ns/x in prod: finding 0 (new)\n")
    warnings = [m for name, _, m in found if name == "warning"]
    assert [m.split("\n")[0] for m in warnings] == [
        "Pod/ns/x in prod: let through (new)", "Pod/ns/x in prod: fresh (new)",
        "Pod/ns/x in prod: old (existing)"]
    assert "OVERRIDDEN by Gate-Override: INC-1 outage (by Ann <a@x>, commit 0123456789ab)" \
        in warnings[0]
    notices = [m for name, _, m in found if name == "notice"]
    assert notices == ["3 more error(s) not annotated (GitHub shows 10 per step): see the job "
                       "summary and the reports"]


def test_a_change_finding_without_a_file_is_a_job_annotation() -> None:
    result = _result("fail", "prod is frozen", file=None, line=None,
                     resource={"apiVersion": "gate.dev/v1", "kind": "Change", "name": "prod",
                               "namespace": "", "environment": "prod"})
    [line] = github.annotation_lines({"results": [result]})
    assert line.startswith("::error title=gate%3A p (high)::change to prod: prod is frozen")


def test_outputs_are_heredocs_whatever_the_value(tmp_path: Path) -> None:
    path = tmp_path / "out"
    github.write_outputs(str(path), {"a": "one", "b": "two\nlines\nb<<EOF", "c": ""})
    assert read_outputs(path) == {"a": "one", "b": "two\nlines\nb<<EOF", "c": ""}


# -- the composite action, run as the runner runs it -----------------------------------------


def evaluate(value: str, context: Mapping[str, Any]) -> str:
    """``${{ a.b.c }}`` looked up in ``context``; a missing value is empty, as on GitHub."""
    def lookup(match: re.Match[str]) -> str:
        node: Any = context
        for part in match.group(1).split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        return "" if node is None else str(node)

    return EXPRESSION.sub(lookup, value)


def run_step(step: Mapping[str, Any], context: Mapping[str, Any], base_env: Mapping[str, str],
             workspace: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str],
                                                       dict[str, str]]:
    """Run a ``shell: bash`` step the way the runner does: its script in a file, run with
    ``bash --noprofile --norc -eo pipefail``, a fresh GITHUB_OUTPUT, the step's env."""
    assert step["shell"] == "bash"
    script = tmp_path / f"step-{step['id']}.sh"
    script.write_text(step["run"], encoding="utf-8")
    output = tmp_path / f"output-{step['id']}"
    output.write_text("", encoding="utf-8")
    env = {**base_env, "GITHUB_OUTPUT": str(output)}
    env.update({name: evaluate(str(value), context)
                for name, value in (step.get("env") or {}).items()})
    cwd = workspace / evaluate(str(step.get("working-directory", ".")), context)
    done = run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env,
               timeout=600)
    return done, read_outputs(output)


def action_context(inputs: Mapping[str, str], before: str) -> dict[str, Any]:
    defaults = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    return {
        "inputs": {**defaults, **inputs},
        "github": {"event": {"before": before, "repository": {"default_branch": "main"}}},
        "steps": {},
    }


def runner_env(tmp_path: Path, repo: GitRepo, action_path: Path) -> dict[str, str]:
    env = {k: v for k, v in git_environment().items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    return {**env, **runner_files(tmp_path, repo), "GITHUB_ACTION_PATH": str(action_path)}


@pytest.mark.e2e
def test_the_run_step_fails_the_job_on_a_violation(tmp_path: Path) -> None:
    repo = pull_request(tmp_path, POD_LATEST)
    env = runner_env(tmp_path, repo, ROOT)
    context = action_context({"formats": "markdown,json,junit,text"}, before="")
    context["steps"]["install"] = {"outputs": {"python": sys.executable}}  # gate is installed
    [step] = [step for step in ACTION["runs"]["steps"] if step["id"] == "gate"]
    done, outputs = run_step(step, context, env, repo.path, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("error", {"file": "apps/web.yaml", "line": "10",
                      "title": "gate: no-latest-tag (high)"}) in [
        (name, props) for name, props, _ in commands(done.stdout)]
    assert outputs["verdict"] == "fail"
    assert outputs["blocking"] == "1"
    assert outputs["text-report"] == str(repo.path / "gate-reports" / "gate.txt")
    # The action's outputs, as GitHub maps them from the step's.
    action_outputs = {name: evaluate(spec["value"], {"steps": {"gate": {"outputs": outputs}}})
                      for name, spec in ACTION["outputs"].items()}
    assert action_outputs["verdict"] == "fail"
    assert action_outputs["junit-report"].endswith("gate-junit.xml")
    assert action_outputs["sarif-report"] == ""


@pytest.mark.e2e
def test_the_composite_action_installs_gate_and_passes_a_clean_change(
    tmp_path: Path, wheelhouse: wheels.Wheelhouse
) -> None:
    """Every step of the action, the install included, with the real ``python -m venv``
    and pip: a virtualenv in RUNNER_TEMP, gate's dependencies and setuptools installed
    with ``--require-hashes`` from the action's constraints file, then gate itself,
    ``--no-deps``, built from the action's files with that setuptools. No network, and
    nothing from the base interpreter but its standard library: pip's only index is the
    test wheelhouse (tests/wheelhouse.py), and the copy of the action pins exactly its
    wheels, with their hashes (the real file pins releases this machine may not hold;
    tests/test_install.py checks that file)."""
    action_path = tmp_path / "action"
    if (ROOT / ".git").exists():
        listed = run_git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        for name in filter(None, listed.split("\0")):
            if (ROOT / name).is_file():
                (action_path / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, action_path / name)
    else:
        shutil.copytree(ROOT, action_path, ignore=shutil.ignore_patterns(
            "build", "*.egg-info", ".*cache", "__pycache__", ".git"))
    constraints = action_path / "constraints" / "gate.txt"
    assert constraints.is_file()
    constraints.write_text(wheelhouse.hashed_requirements(), encoding="utf-8")
    repo = pull_request(tmp_path, POD_PINNED)
    env = wheels.offline_pip_environment(runner_env(tmp_path, repo, action_path),
                                         wheelhouse.folder)
    context = action_context({"python": sys.executable}, before="")
    for step in ACTION["runs"]["steps"]:
        done, outputs = run_step(step, context, env, repo.path, tmp_path)
        assert done.returncode == 0, f"step {step['id']}:\n{done.stdout}\n{done.stderr}"
        context["steps"][step["id"]] = {"outputs": outputs}
    python = context["steps"]["install"]["outputs"]["python"]
    assert python.startswith(env["RUNNER_TEMP"])
    # The virtualenv holds what the constraints pin, gate, and nothing of the base's.
    listed = output_of([python, "-I", "-m", "pip", "list", "--format", "json"], env=env,
                       timeout=120)
    installed = {canonicalize_name(item["name"]): item["version"]
                 for item in json.loads(listed)}
    pinned = wheelhouse.pins()
    assert {name: installed.get(name) for name in pinned} == pinned
    assert installed[wheels.distribution_name()] == gate_version
    assert set(installed) <= {*pinned, wheels.distribution_name(), "pip"}
    assert context["steps"]["gate"]["outputs"]["verdict"] == "pass"
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("<!-- gate-report:v1 -->")


# -- a pull request's merge commit, as actions/checkout checks it out ------------------------


def gate_step() -> dict[str, Any]:
    [step] = [step for step in ACTION["runs"]["steps"] if step["id"] == "gate"]
    return step


@pytest.mark.e2e
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_pull_requests_merge_commit_is_judged_by_the_authors_commits(
    tmp_path: Path, scenario: Scenario
) -> None:
    """On `pull_request` HEAD is GitHub's "Merge <head> into <base>" (no trailers of the
    author's): the action passes the pull request's head, whose commits carry the ticket
    and the override; a ticket missing there still fails."""
    checkout = cimerge.github_pull_request(tmp_path, scenario)
    repo = checkout.workspace
    env = {**runner_env(tmp_path, repo, ROOT), "SOURCE_DATE_EPOCH": scenario.epoch}
    context = action_context({}, before="")
    context["github"]["event"]["pull_request"] = {"head": {"sha": checkout.author_head}}
    context["steps"]["install"] = {"outputs": {"python": sys.executable}}
    done, outputs = run_step(gate_step(), context, env, repo.path, tmp_path)
    assert done.returncode == scenario.exit_code, done.stdout + done.stderr
    assert f"--head-commit={checkout.author_head}" in done.stdout
    report = cimerge.read_report(repo.path / "gate-reports" / "gate.json")
    cimerge.assert_judged_by_the_authors_commits(report, checkout, scenario)
    assert outputs["overridden"] == ("1" if scenario.name == "override" else "0")


@pytest.mark.e2e
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_merge_queues_merge_commit_is_judged_by_the_authors_commits(
    tmp_path: Path, scenario: Scenario
) -> None:
    """On `merge_group` the event names no pull request head: gate finds it, the second
    parent of the queue's merge into the base."""
    checkout = cimerge.github_merge_group(tmp_path, scenario)
    repo = checkout.workspace
    env = {**runner_env(tmp_path, repo, ROOT), "SOURCE_DATE_EPOCH": scenario.epoch,
           "GITHUB_EVENT_NAME": "merge_group", "GITHUB_BASE_REF": "", "GITHUB_HEAD_REF": ""}
    context = action_context({}, before="")
    context["github"]["event"]["merge_group"] = {"base_sha": checkout.base,
                                                 "head_sha": checkout.merge}
    context["steps"]["install"] = {"outputs": {"python": sys.executable}}
    done, _ = run_step(gate_step(), context, env, repo.path, tmp_path)
    assert done.returncode == scenario.exit_code, done.stdout + done.stderr
    assert f"--base={checkout.base}" in done.stdout and "--head-commit" not in done.stdout
    report = cimerge.read_report(repo.path / "gate-reports" / "gate.json")
    cimerge.assert_judged_by_the_authors_commits(report, checkout, scenario)


@pytest.mark.e2e
def test_a_checkout_that_is_not_the_pull_request_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pull_request_target` checks out the base: the pull request's head is not in what
    is judged, so gate says so (exit 2) rather than pass a change it did not see."""
    checkout = cimerge.github_pull_request(tmp_path, SCENARIOS[0])
    repo = checkout.workspace
    repo.checkout("--detach", "origin/main")
    env = {**runner_files(tmp_path, repo), "GITHUB_EVENT_NAME": "pull_request_target",
           "GATE_HEAD_COMMIT": checkout.author_head}
    code, stdout = run_module(env, repo.path, monkeypatch)
    assert code == 2, stdout
    errors = [message for name, _, message in commands(stdout) if name == "error"]
    assert len(errors) == 1 and "--head-commit" in errors[0] and "neither the head" in errors[0]
    assert read_outputs(env["GITHUB_OUTPUT"])["verdict"] == "error"
