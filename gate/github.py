"""GitHub Actions: run ``gate diff`` and report to the workflow run.

The composite action (``action.yml`` at the root of the repository) installs gate and
runs ``python -m gate.github``. Its inputs arrive as ``INPUT_*`` environment variables
(composite actions get none of their own: ``action.yml`` passes each ``${{ inputs.x }}``
through ``env:``, never into the script), and each has a command-line option too, so
the module runs by hand as well:

    python -m gate.github --base origin/main --formats markdown,json,junit

What it does, in order:

1. Works out the base of the change: the ``base`` input; else, on a pull request,
   ``origin/<GITHUB_BASE_REF>``; in a merge queue, the queue's base commit; on a push,
   the commit before the push; on a branch's first push, ``origin/<default branch>``.
   On a pull request the pull request's head commit is passed as ``--head-commit``, so
   change tickets and overrides are read from the author's commits, not from the merge
   commit ``actions/checkout`` checks out (a merge queue's or a push's merges are found
   by ``gate diff`` itself: docs/change-policies.md).
2. Runs ``gate diff --base BASE`` with each requested report written to the report
   directory (``gate.md``, ``gate.html``, ``gate.json``, ``gate-junit.xml``,
   ``gate.sarif``...), and a text report for the log. The written reports are whole;
   with ``markdown``, ``gate-comment.md`` is written beside ``gate.md``: the same report
   shortened to fit a pull-request comment (``-f markdown-comment``). The log is printed
   between ``::stop-commands::`` markers, since it quotes file names and manifest values
   a pull request controls.
3. Reads the JSON report and writes an ``::error`` annotation per blocking finding or
   input error and a ``::warning`` per overridden finding and warning, at the file and
   line of the finding (GitHub shows at most 10 of each per step: the rest are counted
   in a notice).
4. Appends the shortened Markdown report (``markdown-comment``: a job summary holds at
   most 1 MiB, a comment 65,536 characters) to ``$GITHUB_STEP_SUMMARY`` and sets the step
   outputs in ``$GITHUB_OUTPUT`` (verdict, counts, report paths).
5. Exits with gate's status (0 pass, 1 a finding blocks, 2 an error), so the step, and a
   required check on its job, fails exactly when the gate does.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from gate import safewrite
from gate.errors import GateError

# Report file names in the report directory, by format.
REPORT_FILES = {
    "markdown": "gate.md",
    # The Markdown report shortened for a comment or a job summary; written whenever
    # markdown is asked for (see run).
    "markdown-comment": "gate-comment.md",
    "html": "gate.html",
    "json": "gate.json",
    "junit": "gate-junit.xml",
    "sarif": "gate.sarif",
    "text": "gate.txt",
    "codequality": "gl-code-quality-report.json",  # GitLab's own name for it
}
DEFAULT_FORMATS = "markdown,json,junit"
DEFAULT_REPORT_DIR = "gate-reports"
# GitHub shows at most 10 error and 10 warning annotations of a step.
MAX_ANNOTATIONS = 10
ZERO_SHA = re.compile(r"^0+$")
FULL_SHA = re.compile(r"[0-9a-f]{40}")
# Counts set as outputs, from the JSON report's summary.
COUNT_OUTPUTS = {
    "blocking": "fail",
    "warnings": "warn",
    "waived": "waived",
    "overridden": "overridden",
    "new": "new",
    "errors": "errors",
}


class ActionError(Exception):
    """The action cannot run gate (no base to compare with): exit status 2."""


@dataclass
class Inputs:
    base: str = ""
    config: str = ""
    policies: list[str] = field(default_factory=list)
    fail_on: str = ""
    formats: list[str] = field(default_factory=list)
    report_dir: str = DEFAULT_REPORT_DIR
    args: list[str] = field(default_factory=list)
    # A required check judges a pull request by the rules already merged (its base):
    # otherwise the pull request could loosen the rules that judge it.
    rules_from: str = "base"


def _split(value: str) -> list[str]:
    """Items of a list input: separated by commas, spaces or newlines."""
    return [item for item in re.split(r"[,\s]+", value) if item]


def parse_inputs(argv: Sequence[str], env: Mapping[str, str]) -> Inputs:
    """Options from the command line, each defaulting to its ``INPUT_*`` variable."""
    def default(name: str, fallback: str = "") -> str:
        return env.get(f"INPUT_{name}", "").strip() or fallback

    parser = argparse.ArgumentParser(
        prog="python -m gate.github",
        description="Run gate diff in a GitHub Actions job: annotations, job summary, "
                    "reports and step outputs.",
    )
    parser.add_argument("--base", default=default("BASE"),
                        help="git ref the change is compared with (default: worked out "
                             "from the event)")
    parser.add_argument("--config", default=default("CONFIG"), help="gate config file")
    parser.add_argument("--policies", default=default("POLICIES"),
                        help="more policy directories, separated by commas or newlines")
    parser.add_argument("--fail-on", default=default("FAIL_ON"),
                        help="lowest severity that blocks")
    parser.add_argument("--formats", default=default("FORMATS", DEFAULT_FORMATS),
                        help=f"report formats to write (default: {DEFAULT_FORMATS})")
    parser.add_argument("--report-dir", default=default("REPORT_DIR", DEFAULT_REPORT_DIR),
                        help="directory for the reports, relative to GITHUB_WORKSPACE")
    parser.add_argument("--rules-from", default=default("RULES_FROM", "base"),
                        choices=("base", "working-tree"),
                        help="read the config, policies and waivers from the base of the "
                             "change (default) or from the checked-out working tree")
    parser.add_argument("--args", default=default("ARGS"),
                        help="more options for gate diff, split as a shell would "
                             "(no expansion); write --args='--all ...'")
    parsed = parser.parse_args(list(argv))
    formats = list(dict.fromkeys(_split(parsed.formats)))
    return Inputs(
        base=parsed.base.strip(),
        config=parsed.config.strip(),
        policies=_split(parsed.policies),
        fail_on=parsed.fail_on.strip(),
        formats=formats,
        report_dir=parsed.report_dir.strip() or DEFAULT_REPORT_DIR,
        args=shlex.split(parsed.args),
        rules_from=parsed.rules_from,
    )


def resolve_base(inputs: Inputs, env: Mapping[str, str]) -> str:
    """What the change is compared with, from the input or the event."""
    if inputs.base:
        return inputs.base
    base_ref = env.get("GITHUB_BASE_REF", "").strip()
    if base_ref:  # pull_request, pull_request_target
        return f"origin/{base_ref}"
    merge_group = env.get("GATE_MERGE_GROUP_BASE", "").strip()
    if merge_group:  # merge_group: the queue's base commit
        return merge_group
    before = env.get("GATE_EVENT_BEFORE", "").strip()
    if before and not ZERO_SHA.match(before):  # push: the commit the branch was at
        return before
    default_branch = env.get("GATE_DEFAULT_BRANCH", "").strip()
    if default_branch:  # a branch's first push: what it adds to the default branch
        return f"origin/{default_branch}"
    raise ActionError(
        "cannot tell what to compare the change with: set the action's `base` input "
        "(e.g. origin/main), or run it on pull_request, merge_group or push events"
    )


def resolve_head_commit(env: Mapping[str, str]) -> str:
    """The pull request's head commit, from the event (``GATE_HEAD_COMMIT``, which
    action.yml sets to ``github.event.pull_request.head.sha``); empty on other events.

    The runner writes it from the event, not the change, so it is trusted to name the
    pull request's head; still, anything but a full SHA is refused, never passed on."""
    sha = env.get("GATE_HEAD_COMMIT", "").strip()
    if sha and not FULL_SHA.fullmatch(sha):
        raise ActionError(f"GATE_HEAD_COMMIT is not a full commit SHA: {sha[:80]!r}")
    return sha


# -- workflow commands ----------------------------------------------------------------------


def escape_data(value: str) -> str:
    """A workflow command's message: controls, bidirectional controls and undecodable
    bytes made visible (gate/reports/_escape.py), then ``%``, CR and LF escaped (as
    @actions/core does)."""
    from gate.reports._escape import visible

    return visible(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``, which end it."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """``::name key=value,...::message`` with everything escaped; None properties left out."""
    props = ",".join(f"{key}={escape_property(str(value))}"
                     for key, value in properties.items() if value is not None and value != "")
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _subject(resource: Mapping[str, Any]) -> str:
    environment = resource.get("environment") or ""
    if resource.get("kind") == "Change" and resource.get("apiVersion") == "gate.dev/v1":
        return f"change to {environment}" if environment else "change"
    namespace = resource.get("namespace") or ""
    name = f"{resource.get('kind')}/{namespace + '/' if namespace else ''}{resource.get('name')}"
    return f"{name} in {environment}" if environment else name


def _finding(result: Mapping[str, Any]) -> str:
    text = f"{_subject(result.get('resource') or {})}: {result.get('message', '')}"
    if result.get("new") is True:
        text += " (new)"
    elif result.get("new") is False:
        text += " (existing)"
    return text


@dataclass(frozen=True)
class Annotation:
    level: str  # "error" or "warning"
    title: str
    message: str
    file: str | None
    line: int | None

    def render(self) -> str:
        return command(self.level, self.message, file=self.file,
                       line=self.line if self.file else None, title=self.title)


def collect_annotations(report: Mapping[str, Any]) -> list[Annotation]:
    """Every annotation the report calls for, most important first within each level."""
    errors: list[Annotation] = []
    for error in report.get("errors") or []:
        errors.append(Annotation("error", "gate: input error", error.get("message", ""),
                                 error.get("file"), error.get("line")))
    overridden: list[Annotation] = []
    new_warnings: list[Annotation] = []
    old_warnings: list[Annotation] = []
    for result in report.get("results") or []:
        status = result.get("status")
        policy = result.get("policy", "")
        title = f"gate: {policy} ({result.get('severity', '')})"
        where = (result.get("file"), result.get("line"))
        if status == "fail":
            message = f"{_finding(result)}\nHow to fix: gate explain {policy}"
            errors.append(Annotation("error", title, message, *where))
        elif status == "overridden":
            override = result.get("override") or {}
            message = (f"{_finding(result)}\nOVERRIDDEN by {override.get('trailer', '')}: "
                       f"{override.get('value', '')} (by {override.get('author', '')}, "
                       f"commit {str(override.get('commit', ''))[:12]}"
                       f"{_approval(override)})")
            overridden.append(Annotation("warning", f"gate: {policy} overridden", message,
                                         *where))
        elif status == "warn":
            target = old_warnings if result.get("new") is False else new_warnings
            target.append(Annotation("warning", title, _finding(result), *where))
    return errors + overridden + new_warnings + old_warnings


def annotation_lines(report: Mapping[str, Any], limit: int = MAX_ANNOTATIONS) -> list[str]:
    """The workflow commands for the report: at most ``limit`` of each level, then a
    notice saying how many more there are."""
    lines: list[str] = []
    left_out: dict[str, int] = {}
    shown: dict[str, int] = {}
    for item in collect_annotations(report):
        if shown.get(item.level, 0) < limit:
            shown[item.level] = shown.get(item.level, 0) + 1
            lines.append(item.render())
        else:
            left_out[item.level] = left_out.get(item.level, 0) + 1
    for level, count in sorted(left_out.items()):
        kind = "error(s)" if level == "error" else "warning(s)"
        lines.append(command("notice", f"{count} more {kind} not annotated (GitHub shows "
                                       f"{limit} per step): see the job summary and the "
                                       "reports", title="gate"))
    return lines


# -- outputs and summary --------------------------------------------------------------------


def format_output(name: str, value: str) -> str:
    """One ``$GITHUB_OUTPUT`` entry, as a heredoc with a random delimiter."""
    while True:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter not in value:
            break
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(path: str | None, values: Mapping[str, str]) -> None:
    if not path:
        return
    # The runner names the file, not the change; still appended without following a link.
    safewrite.append_file(path, "".join(format_output(name, value)
                                        for name, value in values.items()))


def append_summary(path: str | None, markdown: str) -> None:
    if not path:
        return
    safewrite.append_file(path, (markdown if markdown.endswith("\n") else markdown + "\n")
                          + "\n")


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text.rstrip()}\n{ticks}\n"


def error_summary(code: int, base: str, stderr: str, wrote_report: bool = False) -> str:
    """The job summary when gate wrote no report to trust: none, or one its exit status
    contradicts (it stopped after writing it)."""
    if base and wrote_report:
        what = (f"`gate diff` against the base `{base.replace('`', '')}` stopped with exit "
                f"status {code} after writing a report that does not agree with it; the "
                "report is not the verdict:")
    elif base:
        what = (f"`gate diff` against the base `{base.replace('`', '')}` stopped with exit "
                f"status {code} before writing a report:")
    else:
        what = f"The gate could not run (exit status {code}):"
    lines = ["<!-- gate-report:v1 -->", "## ❌ gate: error", "", what, "",
             _fence(stderr.strip() or "(no message)")]
    if "shallow" in stderr or "merge-base" in stderr or "unknown" in stderr:
        lines.append("The base must be in the clone: check out with `fetch-depth: 0`.\n")
    return "\n".join(lines)


# -- the run --------------------------------------------------------------------------------


def print_untrusted(text: str, out: TextIO) -> None:
    """Print text a pull request may control with workflow commands switched off."""
    if not text:
        return
    token = secrets.token_hex(16)
    out.write(f"::stop-commands::{token}\n")
    out.write(text if text.endswith("\n") else text + "\n")
    out.write(f"::{token}::\n")


def gate_command(python: str, base: str, inputs: Inputs,
                 paths: Mapping[str, Path], head_commit: str = "") -> list[str]:
    # -I: the working directory is the change's checkout, and a committed gate/ package
    # there must not be what runs (nor PYTHON* variables or the user's site packages).
    argv = [python, "-I", "-m", "gate", "diff", f"--base={base}"]
    if head_commit:
        argv.append(f"--head-commit={head_commit}")
    argv.append(f"--rules-from={inputs.rules_from}")
    if inputs.config:
        argv.append(f"--config={inputs.config}")
    argv += [f"--policies={directory}" for directory in inputs.policies]
    if inputs.fail_on:
        argv.append(f"--fail-on={inputs.fail_on}")
    argv += ["-f", "text"]
    argv += [item for name, path in paths.items() for item in ("-f", f"{name}={path}")]
    return argv + inputs.args


def run(argv: Sequence[str], env: Mapping[str, str], out: TextIO) -> int:
    try:
        inputs = parse_inputs(argv, env)
    except SystemExit as exc:  # argparse: --help, or a bad option
        return exc.code if isinstance(exc.code, int) else 2
    try:
        base = resolve_base(inputs, env)
        head_commit = resolve_head_commit(env)
    except ActionError as exc:
        out.write(command("error", str(exc), title="gate") + "\n")
        write_outputs(env.get("GITHUB_OUTPUT"), {"verdict": "error", "exit-code": "2"})
        append_summary(env.get("GITHUB_STEP_SUMMARY"), error_summary(2, "", str(exc)))
        return 2

    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    try:
        report_dir = fresh_report_dir(workspace, inputs.report_dir)
    except GateError as exc:
        out.write(command("error", str(exc), title="gate") + "\n")
        write_outputs(env.get("GITHUB_OUTPUT"), {"verdict": "error", "exit-code": "2"})
        append_summary(env.get("GITHUB_STEP_SUMMARY"), error_summary(2, "", str(exc)))
        return 2
    paths = {name: report_dir / REPORT_FILES.get(name, f"gate.{name}")
             for name in inputs.formats}
    if "markdown" in paths:  # the whole file, and beside it the text to post as a comment
        paths.setdefault("markdown-comment", report_dir / REPORT_FILES["markdown-comment"])
    scratch = Path(tempfile.mkdtemp(prefix="gate-", dir=env.get("RUNNER_TEMP") or None))
    try:
        # The action needs the JSON report and the shortened Markdown (the job summary)
        # even when not asked to keep them. Both directories are new and empty: no
        # report of an earlier run is ever read.
        wanted = dict(paths)
        wanted.setdefault("json", scratch / "gate.json")
        wanted.setdefault("markdown-comment", scratch / "gate-comment.md")
        argv_gate = gate_command(sys.executable, base, inputs, wanted, head_commit)
        out.write(f"gate: {shlex.join(['gate', *argv_gate[4:]])}\n")
        out.flush()
        done = subprocess.run(argv_gate, capture_output=True, text=True, encoding="utf-8",
                              errors="replace", stdin=subprocess.DEVNULL, check=False,
                              env={**os.environ, **env})
        print_untrusted(done.stdout + done.stderr, out)
        code = done.returncode
        report = _load(wanted["json"])
        summary_file = wanted["markdown-comment"]
        markdown = summary_file.read_text(encoding="utf-8") if summary_file.is_file() else None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    wrote_report = report is not None or markdown is not None
    if report is not None and not agrees(report, code, inputs.args):
        report = None  # gate stopped after writing it (an internal error): not the verdict
    if report is None:
        markdown = None  # the summary never shows a verdict gate did not stand by
    outputs: dict[str, str] = {"exit-code": str(code), "report-dir": str(report_dir)}
    if report is None:
        first = next((line for line in done.stderr.splitlines() if line.strip()),
                     f"gate diff exited with status {code}")
        out.write(command("error", first, title="gate") + "\n")
        outputs["verdict"] = "error"
    else:
        for line in annotation_lines(report):
            out.write(line + "\n")
        outputs["verdict"] = str(report.get("verdict", "error"))
        summary = report.get("summary") or {}
        for name, key in COUNT_OUTPUTS.items():
            outputs[name] = str(summary.get(key, 0))
    for name, path in paths.items():
        outputs[f"{name}-report"] = str(path) if path.is_file() else ""
    write_outputs(env.get("GITHUB_OUTPUT"), outputs)
    append_summary(env.get("GITHUB_STEP_SUMMARY"),
                   markdown if markdown is not None
                   else error_summary(code, base, done.stderr, wrote_report))
    out.flush()
    return code if code in (0, 1, 2) else 2


def agrees(report: Mapping[str, Any], code: int, args: Sequence[str]) -> bool:
    """Whether gate's exit status is the one its report implies: 2 with input errors,
    1 with a blocking finding, else 0 (or 0 with ``--exit-zero``). Anything else means
    gate stopped after writing the report, so the report is not the verdict."""
    summary = report.get("summary")
    if not isinstance(summary, dict):
        return False
    if summary.get("errors"):
        expected = 2
    elif report.get("verdict") == "fail":
        expected = 1
    elif report.get("verdict") == "pass":
        expected = 0
    else:
        return False
    return code == expected or (code == 0 and expected == 1 and "--exit-zero" in args)


def fresh_report_dir(workspace: Path, report_dir: str) -> Path:
    """The report directory, created anew and empty; its absolute path.

    Whatever is at that path beforehand (a directory, file or symbolic link, committed
    by the change or left by an earlier step) is removed without following any link,
    so the folder a later step uploads holds only what gate wrote, and no report is
    written through a link the change committed (``gate-reports -> .git``). Its
    parents are checked as every file gate writes is (:mod:`gate.safewrite`): no link
    inside the repository on the way, never inside ``.git``. A report directory that
    is, or holds, the workspace or the working directory is refused rather than
    emptied.
    """
    what = "report-dir"
    target = os.path.join(str(workspace), report_dir)
    parent, name = safewrite.real_parent(target, what, create=True)
    path = os.path.join(parent, name)
    for keep in {os.path.realpath(workspace), os.path.realpath(os.getcwd())}:
        if keep == path or keep.startswith(path.rstrip(os.sep) + os.sep):
            raise GateError(f"{what}: {report_dir!r} would hold the workspace; name a "
                            "directory of its own, e.g. gate-reports", report_dir)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    try:
        if info is not None and stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path)  # removes links inside it, never what they point at
        elif info is not None:
            os.unlink(path)  # a file or a symbolic link itself, never its target
        os.mkdir(path)
    except OSError as exc:
        raise GateError(f"{what}: cannot create {path} afresh: {exc.strerror or exc}",
                        report_dir) from None
    return Path(path)


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _approval(override: dict[str, Any]) -> str:
    """``; approved by NAME, commit SHA`` of a four-eyes approval, or ""."""
    approver = override.get("approved_by")
    if not approver:
        return ""
    return f"; approved by {approver}, commit {str(override.get('approval_commit', ''))[:12]}"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv, os.environ, sys.stdout)
    except Exception as exc:  # exit 2, never 1: a crash must not look like a finding
        sys.stdout.write(command("error", f"internal error: {exc!r}", title="gate") + "\n")
        # The job summary must say so too, not stay empty or read "passed" (best effort:
        # the annotation above already says it).
        with contextlib.suppress(Exception):
            append_summary(os.environ.get("GITHUB_STEP_SUMMARY"),
                           error_summary(2, "", f"internal error: {exc!r}"))
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
