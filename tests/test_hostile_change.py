"""A hostile change cannot make gate run its code or write through its links.

Each repository here is built with real git in a scratch directory and commits what an
adversarial pull request would: executable ``kustomize``, ``kubectl``, ``helm`` and
``git`` scripts (and a ``gate/`` package) that would leave a marker file if they ran,
and symbolic links where gate writes its reports. gate runs with a ``PATH`` that holds
an empty entry, ``.`` and a relative entry ahead of the real ones, the way
``shutil.which`` or ``execvp`` would find the change's scripts first.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from gate import executables, github, safewrite
from gate.errors import GateError
from tests.conftest import RunGate
from tests.gitrepo import GitRepo
from tests.manifests import CONFIGMAP, POD_LATEST, WEB_DEPLOYMENT
from tests.test_action import (
    ACTION,
    action_context,
    commands,
    read_outputs,
    run_step,
    runner_env,
    runner_files,
)

PROGRAMS = ("kustomize", "kubectl", "helm", "git")
CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
KUSTOMIZATION = "resources:\n  - deployment.yaml\n"
ONE_ERROR = re.compile(r"^.*error: .+$")


def script(marker: Path) -> str:
    """A program that leaves ``marker`` behind if it ever runs."""
    return f"#!/bin/sh\necho ran >> '{marker}'\nexit 0\n"


def hostile_repo(tmp_path: Path, *, package: bool = False) -> tuple[GitRepo, Path]:
    """A pull request (``feature`` on ``main``, ``origin/main`` fetched) that changes an
    overlay and a chart and commits the programs at its root and in ``bin/``; the
    directory its markers would appear in."""
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = GitRepo.init(tmp_path / "workspace")
    repo.write("apps/web/kustomization.yaml", KUSTOMIZATION)
    repo.write("apps/web/deployment.yaml", WEB_DEPLOYMENT)
    repo.write("charts/web/Chart.yaml", CHART)
    repo.write("charts/web/templates/cm.yaml", CONFIGMAP)
    repo.commit("initial")
    repo.checkout("-b", "feature")
    repo.write("apps/web/deployment.yaml", WEB_DEPLOYMENT.replace("1.0.0", "1.0.1"))
    repo.write("charts/web/values.yaml", "replicas: 2\n")
    for name in PROGRAMS:
        for where in (name, f"bin/{name}"):
            repo.write(where, script(markers / name))
            (repo.path / where).chmod(0o755)
    if package:  # what `python -m gate` would import from the working directory
        code = f"open('{markers / 'gate-package'}', 'a').write('ran')\n"
        repo.write("gate/__init__.py", code)
        repo.write("gate/__main__.py", code)
        repo.write("gate/github.py", code)
    repo.commit("a hostile change")
    repo.git("update-ref", "refs/remotes/origin/main", "main")
    return repo, markers


def hostile_path() -> str:
    """An empty entry, ``.`` and a relative entry ahead of the real PATH."""
    return os.pathsep.join(["", ".", "bin", os.environ.get("PATH", os.defpath)])


def ran(markers: Path) -> list[str]:
    return sorted(path.name for path in markers.iterdir())


def error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if ONE_ERROR.match(line)]


# -- code from the change never runs ------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("command", [
    ("diff", "--base", "main", "--helm", "--kustomize", "auto"),
    ("check", "--helm", "--kustomize", "auto", "."),
])
def test_committed_programs_never_run_whatever_the_path(
    tmp_path: Path, run_gate: RunGate, command: tuple[str, ...]
) -> None:
    repo, markers = hostile_repo(tmp_path)
    proc = run_gate(*command, "-f", "text", cwd=repo.path, env={"PATH": hostile_path()})
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert ran(markers) == []


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("kubectl") is None and shutil.which("kustomize") is None,
                    reason="neither kubectl nor kustomize is installed")
def test_the_real_kustomize_binary_renders_while_the_committed_one_is_ignored(
    tmp_path: Path, run_gate: RunGate
) -> None:
    repo, markers = hostile_repo(tmp_path)
    proc = run_gate("diff", "--base", "main", "--kustomize", "binary", "-f", "json",
                    cwd=repo.path, env={"PATH": hostile_path()})
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "neither kustomize nor kubectl" not in proc.stdout + proc.stderr
    assert '"rendered_by"' in proc.stdout and "apps/web" in proc.stdout
    assert ran(markers) == []


@pytest.mark.e2e
def test_without_git_on_the_path_gate_says_so_in_one_line(
    tmp_path: Path, run_gate: RunGate
) -> None:
    repo, markers = hostile_repo(tmp_path)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = run_gate("diff", "--base", "main", cwd=repo.path,
                    env={"PATH": os.pathsep.join(["", ".", "bin", str(empty)])})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "gate: error: git is not installed or not on PATH (gate diff needs it; only absolute "
        "PATH entries outside the repository are searched)"]
    assert ran(markers) == []


@pytest.mark.e2e
@pytest.mark.parametrize("value", ["helm", "bin/helm", "./helm", "{repo}/helm"])
def test_gate_helm_must_be_absolute_and_outside_the_repository(
    tmp_path: Path, run_gate: RunGate, value: str
) -> None:
    repo, markers = hostile_repo(tmp_path)
    proc = run_gate("check", "--helm", ".", cwd=repo.path,
                    env={"GATE_HELM": value.format(repo=repo.path)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    [line] = error_lines(proc)
    assert line.startswith("gate: error: GATE_HELM=") and "helm" in line
    assert ran(markers) == []


def executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_lookup_walks_only_absolute_entries_outside_distrusted_trees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    executable(work / "tool")
    executable(work / "rel" / "tool")
    outside = executable(tmp_path / "outside" / "tool")
    monkeypatch.chdir(work)
    monkeypatch.setattr(executables, "_distrusted", set())
    monkeypatch.setenv("PATH", os.pathsep.join(["", ".", "rel", str(work / "rel")]))
    assert executables.find("tool") is None  # only in the working directory
    monkeypatch.setenv("PATH", os.pathsep.join(["", ".", str(outside.parent)]))
    assert executables.find("tool") == str(outside)
    assert executables.child_environment()["PATH"] == str(outside.parent)


def test_lookup_refuses_links_into_the_tree_directories_and_plain_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged = tmp_path / "judged"
    inside = executable(judged / "tool")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "tool").symlink_to(inside)  # resolves into the judged tree
    (elsewhere / "dir-tool").mkdir()  # a directory is not a program
    (elsewhere / "plain-tool").write_text("#!/bin/sh\n")  # not executable
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setattr(executables, "_distrusted", set())
    monkeypatch.setenv("PATH", str(elsewhere))
    assert executables.find("tool") is not None  # /tmp/.../judged is trusted so far
    executables.distrust(judged)
    assert executables.find("tool") is None
    assert executables.find("dir-tool") is None
    assert executables.find("plain-tool") is None


def test_a_named_program_must_be_absolute_and_outside_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(executables, "_distrusted", set())
    inside = executable(tmp_path / "helm")
    outside_dir = tmp_path.parent / f"{tmp_path.name}-bin"
    outside = executable(outside_dir / "helm")
    try:
        for value in ("helm", "./helm", str(inside)):
            with pytest.raises(GateError, match="GATE_HELM="):
                executables.named("GATE_HELM", "helm", {"GATE_HELM": value})
        assert executables.named("GATE_HELM", "helm", {"GATE_HELM": str(outside)}) \
            == str(outside)
        assert executables.named("GATE_HELM", "helm",
                                 {"GATE_HELM": str(outside_dir / "missing")}) is None
    finally:
        shutil.rmtree(outside_dir)


# -- reports never written through links, never inside .git -------------------------------


def linked_repo(tmp_path: Path, links: Mapping[str, str]) -> GitRepo:
    """A repository whose change commits ``links`` (path -> link target)."""
    repo = GitRepo.init(tmp_path / "workspace")
    repo.write("apps/settings.yaml", CONFIGMAP)
    repo.commit("initial")
    repo.checkout("-b", "feature")
    repo.write("apps/web.yaml", POD_LATEST)
    for path, target in links.items():
        (repo.path / path).parent.mkdir(parents=True, exist_ok=True)
        (repo.path / path).symlink_to(target)
    repo.commit("links")
    repo.git("update-ref", "refs/remotes/origin/main", "main")
    return repo


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.mark.e2e
@pytest.mark.parametrize("links, report", [
    ({"gate-reports/gate.md": "../.git/config"}, "gate-reports/gate.md"),
    ({"gate-reports": ".git"}, "gate-reports/gate.md"),
    ({"gate-reports": ".git/hooks"}, "gate-reports/../config"),
    ({"gate-reports/gate.md": "../nowhere/gate.md"}, "gate-reports/gate.md"),
    ({"gate-reports": "{outside}"}, "gate-reports/gate.md"),
    ({}, ".git/gate.md"),
    ({}, ".git"),
])
@pytest.mark.parametrize("command", [("check", "apps"), ("diff", "--base", "main")])
def test_a_report_is_never_written_through_a_committed_link_or_into_git(
    tmp_path: Path, run_gate: RunGate, links: dict[str, str], report: str,
    command: tuple[str, ...],
) -> None:
    outside = tmp_path / "x"
    outside.mkdir()
    repo = linked_repo(tmp_path, {k: v.format(outside=outside) for k, v in links.items()})
    git_before = snapshot(repo.path / ".git")
    proc = run_gate(*command, "-f", f"markdown={report}", cwd=repo.path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1 and lines[0].startswith(f"{report}: error: cannot write report: "), \
        proc.stderr
    assert snapshot(repo.path / ".git") == git_before  # .git/config and all unchanged
    assert list(outside.iterdir()) == []
    assert not (repo.path / "nowhere").exists()


@pytest.mark.e2e
def test_a_report_replaces_a_regular_file_without_touching_its_other_links(
    tmp_path: Path, run_gate: RunGate
) -> None:
    repo = linked_repo(tmp_path, {})
    keep = tmp_path / "keep.txt"
    keep.write_text("mine\n")
    (repo.path / "out").mkdir()
    os.link(keep, repo.path / "out" / "gate.json")  # a hard link made on the runner
    proc = run_gate("check", "apps", "-f", "json=out/gate.json", cwd=repo.path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert keep.read_text() == "mine\n"
    assert '"verdict": "fail"' in (repo.path / "out" / "gate.json").read_text()


@pytest.mark.e2e
@pytest.mark.parametrize("links", [
    # An existing policies/ (here a link) is left alone: init writes to .gate/policies.
    {"policies": ".git"},
    # That folder a link too: refused.
    {"policies/kyverno.yaml": "../.git/HEAD", ".gate": ".git"},
    {"policies/kyverno.yaml": "../.git/HEAD", ".gate/policies": "../.git"},
], ids=["policies", "dot-gate", "dot-gate-policies"])
def test_gate_init_never_writes_through_a_committed_link(
    tmp_path: Path, run_gate: RunGate, links: dict[str, str]
) -> None:
    repo = linked_repo(tmp_path, links)
    git_before = snapshot(repo.path / ".git")
    proc = run_gate("init", cwd=repo.path)
    assert snapshot(repo.path / ".git") == git_before
    if links == {"policies": ".git"}:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "policies/ exists and is left untouched" in proc.stdout
        assert (repo.path / ".gate" / "policies" / "require-team-label.yaml").is_file()
    else:
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "symbolic link" in proc.stderr or "exist" in proc.stderr, proc.stderr


def test_runner_files_are_appended_to_but_never_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_text("keep\n")
    link = tmp_path / "summary"
    link.symlink_to(target)
    with pytest.raises(GateError, match="symbolic link"):
        safewrite.append_file(link, "x\n")
    assert target.read_text() == "keep\n"
    plain = tmp_path / "output"
    safewrite.append_file(plain, "a\n")
    safewrite.append_file(plain, "b\n")
    assert plain.read_text() == "a\nb\n"


# -- the Action ----------------------------------------------------------------------------


def run_action_module(env: Mapping[str, str], cwd: Path, monkeypatch: pytest.MonkeyPatch,
                      *argv: str) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    out = io.StringIO()
    code = github.run(list(argv), {**os.environ, **env}, out)
    return code, out.getvalue()


@pytest.mark.e2e
@pytest.mark.parametrize("links", [
    {"gate-reports": ".git"},
    {"gate-reports": "{outside}"},
    {"gate-reports": "nowhere"},
    {"gate-reports/leak": "../.git/config", "gate-reports/gate-junit.xml": "/dev/null"},
])
def test_the_action_creates_its_report_folder_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: dict[str, str]
) -> None:
    outside = tmp_path / "x"
    outside.mkdir()
    repo = linked_repo(tmp_path, {k: v.format(outside=outside) for k, v in links.items()})
    git_before = snapshot(repo.path / ".git")
    env = runner_files(tmp_path, repo)
    code, stdout = run_action_module(env, repo.path, monkeypatch)
    assert code == 1, stdout
    reports = repo.path / "gate-reports"
    assert reports.is_dir() and not reports.is_symlink()
    assert sorted(p.name for p in reports.iterdir()) == [
        "gate-comment.md", "gate-junit.xml", "gate.json", "gate.md"]
    assert not any(p.is_symlink() for p in reports.iterdir())
    assert snapshot(repo.path / ".git") == git_before
    assert list(outside.iterdir()) == []
    assert read_outputs(env["GITHUB_OUTPUT"])["verdict"] == "fail"


@pytest.mark.e2e
@pytest.mark.parametrize("report_dir", [".", "..", ".git", "sub/../.git/reports"])
def test_the_action_refuses_a_report_folder_that_would_hold_the_workspace_or_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report_dir: str
) -> None:
    repo = linked_repo(tmp_path, {})
    (repo.path / "sub").mkdir()
    before = snapshot(repo.path)
    env = {**runner_files(tmp_path, repo), "INPUT_REPORT_DIR": report_dir}
    code, stdout = run_action_module(env, repo.path, monkeypatch)
    assert code == 2, stdout
    [error] = [message for name, _, message in commands(stdout) if name == "error"]
    assert "report-dir" in error
    assert snapshot(repo.path) == before
    assert read_outputs(env["GITHUB_OUTPUT"])["verdict"] == "error"


FAKE_GATE = """\
import sys
paths = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a and not a.startswith("-"))
open(paths["markdown"], "w").write("<!-- gate-report:v1 -->\\n## ✅ gate: passed\\n")
if "json" in paths and {json}:
    open(paths["json"], "w").write('{{"verdict": "pass", "summary": {{"errors": 0}}}}')
print("gate: internal error: RuntimeError: boom", file=sys.stderr)
sys.exit(2)
"""


@pytest.mark.e2e
@pytest.mark.parametrize("json_written", [True, False])
def test_a_crash_after_writing_the_markdown_report_is_no_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, json_written: bool
) -> None:
    """gate writes a passing report, then stops with an internal error (exit 2): the job
    summary says error, never "passed", and the verdict output is error."""
    fake = tmp_path / "fake_gate.py"
    fake.write_text(FAKE_GATE.format(json=json_written))

    def command(python: str, base: str, inputs: github.Inputs,
                paths: Mapping[str, Path], head_commit: str = "") -> list[str]:
        return [sys.executable, str(fake), *(f"{k}={v}" for k, v in paths.items())]

    monkeypatch.setattr(github, "gate_command", command)
    repo = linked_repo(tmp_path, {})
    env = runner_files(tmp_path, repo)
    code, _ = run_action_module(env, repo.path, monkeypatch)
    assert code == 2
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "passed" not in summary
    assert "## ❌ gate: error" in summary and "boom" in summary
    assert read_outputs(env["GITHUB_OUTPUT"])["verdict"] == "error"


@pytest.mark.e2e
def test_the_action_never_imports_a_gate_package_the_change_commits(tmp_path: Path) -> None:
    """The gate step as the runner runs it (bash, in the checkout): neither it nor the
    gate diff it starts imports the change's gate/ package, and no committed program
    runs."""
    repo, markers = hostile_repo(tmp_path, package=True)
    env = {**runner_env(tmp_path, repo, Path(github.__file__).parents[1]),
           "PATH": hostile_path()}
    context = action_context({"formats": "markdown,json"}, before="")
    context["steps"]["install"] = {"outputs": {"python": sys.executable}}
    [step] = [step for step in ACTION["runs"]["steps"] if step["id"] == "gate"]
    done, outputs = run_step(step, context, env, repo.path, tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert outputs["verdict"] in ("pass", "fail")
    assert ran(markers) == []


def test_every_python_the_action_starts_is_isolated_from_the_checkout() -> None:
    scripts = "\n".join(step["run"] for step in ACTION["runs"]["steps"])
    calls = re.findall(r'"\$(?:GATE_PYTHON|python)"\s+(\S+)', scripts)
    assert calls and all(flag == "-I" for flag in calls), calls


# -- reports are data ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
RECIPES = [ROOT / "action.yml", ROOT / "docs" / "ci.md",
           *(p for p in (ROOT / "examples").rglob("*") if p.is_file())]
REPORT = re.compile(r"gate-reports|gate\.(md|json|txt|sarif)|gate-junit\.xml|-report\b")
RUNS = re.compile(r"(^|[;&|(\s])(source|\.|eval|exec|bash|sh|zsh)\s+\S*"
                  r"(gate-reports|gate\.(md|json|txt|sarif)|gate-junit|report)"
                  r"|\$\(\s*cat\b|`cat\b|\$\(\s*<")


def test_no_recipe_sources_evaluates_or_executes_a_report() -> None:
    for recipe in RECIPES:
        for number, line in enumerate(recipe.read_text(encoding="utf-8").splitlines(), 1):
            if REPORT.search(line):
                assert not RUNS.search(line), f"{recipe.relative_to(ROOT)}:{number}: {line}"


def test_recipes_make_their_report_folder_afresh() -> None:
    for name in ("examples/shell/gate-ci.sh", "examples/gitlab/.gitlab-ci.yml",
                 "examples/jenkins/Jenkinsfile"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert re.search(r"rm -rf (-- )?\"?\$?\{?(reports|gate-reports)", text), name
        assert "mkdir -p gate-reports" not in text, name


def test_the_action_reads_reports_only_as_data() -> None:
    """No step of the action reads a report or an output back into a shell."""
    for step in ACTION["runs"]["steps"]:
        assert not RUNS.search(step["run"]), step["run"]
        assert "eval" not in step["run"].split()


@pytest.mark.e2e
def test_a_report_to_the_null_device_is_discarded_but_a_link_to_it_is_refused(
    tmp_path: Path, run_gate: RunGate
) -> None:
    """``-f json=/dev/null`` (a report nobody keeps) works; a committed link to it does
    not, like any link."""
    repo = linked_repo(tmp_path, {"out/gate.json": os.devnull})
    proc = run_gate("check", "apps", "-f", f"json={os.devnull}", cwd=repo.path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    proc = run_gate("check", "apps", "-f", "json=out/gate.json", cwd=repo.path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "symbolic link" in proc.stderr


def test_a_report_written_in_pieces_is_whole_or_absent(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    safewrite.write_file(target, iter(["{\n", '  "a": 1\n', "}\n"]))
    assert target.read_text(encoding="utf-8") == '{\n  "a": 1\n}\n'

    def failing() -> Iterator[str]:
        yield "half a report"
        raise RuntimeError("the renderer failed")

    with pytest.raises(RuntimeError):
        safewrite.write_file(target, failing())
    # The old report stays as it was, and no temporary file is left beside it.
    assert target.read_text(encoding="utf-8") == '{\n  "a": 1\n}\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.json"]
    with pytest.raises(RuntimeError):
        safewrite.write_file(tmp_path / "new.json", failing(), exclusive=True)
    assert not (tmp_path / "new.json").exists()


def test_a_report_to_the_null_device_is_still_made() -> None:
    made: list[str] = []

    def pieces() -> Iterator[str]:
        made.append("made")
        yield "report"

    safewrite.write_file(os.devnull, pieces())
    assert made == ["made"]
