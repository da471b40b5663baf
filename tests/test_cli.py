"""The command line end to end: each test runs ``python -m gate`` in a subprocess."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gate import __version__
from gate.evaluation.policy_loading import load_builtin
from tests.conftest import RunGate
from tests.manifests import CONFIGMAP, HARDENED, POD_LATEST
from tests.processes import TIMEOUT, run

ANSI = re.compile(r"\x1b\[[0-9;]*m")


# resource-limits (medium, block) fails at line 9; image-digest (warn) warns at line 10.
# Every other built-in policy passes it.
POD_NO_LIMITS = """\
apiVersion: v1
kind: Pod
metadata:
  name: api
  labels:
    app.kubernetes.io/name: api
spec:
  containers:
    - name: api
      image: nginx:1.25.3
""" + HARDENED

# The built-in pack as shipped: the counts below follow it as policies are added.
PACK = load_builtin()
BUILTINS = sorted(policy.id for policy in PACK)
ENABLED = sum(policy.enabled for policy in PACK)
# What a check's summary counts: the enabled policies that judge resources (change
# policies judge only `gate diff`'s changes).
CHECKED = sum(policy.enabled and policy.target != "change" for policy in PACK)


def out(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def findings(text: str) -> list[str]:
    """The ``file:line: [policy]`` / ``file:line: warning: [policy]`` heads of a text report."""
    heads = []
    for line in text.splitlines():
        match = re.match(r"^(\S+:\d+: (?:warning: )?\[[a-z0-9-]+\])", line)
        if match:
            heads.append(match.group(1))
    return heads


def json_report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def statuses(report: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for result in report["results"]:
        key = (result["resource"]["name"], result["policy"])
        found.setdefault(key, set()).add(result["status"])
    return found


# -- version, usage ------------------------------------------------------------------

@pytest.mark.e2e
def test_version_console_script(tmp_path: Path) -> None:
    beside = Path(sys.executable).with_name("gate")  # the script of this interpreter
    gate = str(beside) if beside.is_file() else shutil.which("gate")
    if gate is None:
        pytest.skip("the gate console script is not on PATH")
    proc = run([gate, "--version"], cwd=tmp_path, timeout=TIMEOUT)
    assert proc.returncode == 0
    assert proc.stdout == f"gate {__version__}\n"


@pytest.mark.e2e
@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_module(flag: str, tmp_path: Path, run_gate: RunGate) -> None:
    proc = run_gate(flag, cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == f"gate {__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


def test_no_command_is_a_usage_error(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli(cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: gate")
    assert "gate: error:" in proc.stderr
    assert "Traceback" not in out(proc)


@pytest.mark.parametrize(
    "args",
    [("check", "--bogus"), ("--bogus",), ("frobnicate",), ("check", "--color", "purple"),
     ("check", "--fail-on", "urgent"), ("explain",)],
    ids=["check-option", "global-option", "command", "color", "fail-on", "explain-no-id"],
)
def test_bad_arguments_are_usage_errors(
    args: tuple[str, ...], tmp_path: Path, gate_cli: RunGate
) -> None:
    proc = gate_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr
    assert "gate: error:" in proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in out(proc)


@pytest.mark.parametrize("command", ["check", "policies", "explain"])
def test_help(command: str, tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"usage: gate {command}")


# -- gate check: inputs --------------------------------------------------------------

def test_check_a_file(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "pod.yaml", cwd=tmp_path)
    assert proc.returncode == 1, out(proc)
    assert findings(proc.stdout) == [
        "pod.yaml:10: warning: [image-digest]",
        "pod.yaml:10: [no-latest-tag]",
    ]
    assert "nginx:latest" in proc.stdout
    assert "gate explain no-latest-tag" in proc.stdout  # how to fix
    assert proc.stdout.splitlines()[-1].startswith("gate: FAIL: 1 blocking, 1 warning(s)")


def test_check_stdin_matches_the_file(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    from_file = gate_cli("check", "pod.yaml", cwd=tmp_path)
    from_stdin = gate_cli("check", "-", cwd=tmp_path, input=POD_LATEST)
    assert from_stdin.returncode == from_file.returncode == 1
    assert from_stdin.stdout == from_file.stdout.replace("pod.yaml:", "<stdin>:")
    assert findings(from_stdin.stdout) == [
        "<stdin>:10: warning: [image-digest]",
        "<stdin>:10: [no-latest-tag]",
    ]


@pytest.mark.e2e
def test_check_stdin_piped_from_cat(tmp_path: Path) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    cat = shutil.which("cat")
    if cat is None:
        pytest.skip("no cat")
    with subprocess.Popen([cat, "pod.yaml"], cwd=tmp_path, stdout=subprocess.PIPE) as producer:
        proc = subprocess.run([sys.executable, "-m", "gate", "check", "-", "-f", "json"],
                              cwd=tmp_path, stdin=producer.stdout, capture_output=True,
                              text=True, timeout=TIMEOUT, check=False)
        assert producer.stdout is not None
        producer.stdout.close()
    assert proc.returncode == 1, out(proc)
    report = json_report(proc)
    assert {(r["resource"]["file"], r["resource"]["line"]) for r in report["results"]} == {
        ("<stdin>", 1)
    }


def test_empty_stdin(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("check", "-", cwd=tmp_path, input="")
    assert proc.returncode == 0
    assert "0 resource(s)" in proc.stdout


MULTI = """\
---
apiVersion: v1
kind: ConfigMap
metadata: {name: first, labels: {app.kubernetes.io/name: first}}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: second, labels: {app.kubernetes.io/name: second}}
  - apiVersion: v1
    kind: Pod
    metadata: {name: third, labels: {app.kubernetes.io/name: third}}
    spec:
      containers:
        - name: c
          image: nginx
  - just a string
---
# a comment-only document
---
name: not-kubernetes
"""


def test_multi_document_files_and_lists(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "multi.yaml", MULTI)
    proc = gate_cli("check", "multi.yaml", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 1, out(proc)
    report = json_report(proc)
    lines = {(r["resource"]["kind"], r["resource"]["name"], r["resource"]["line"])
             for r in report["results"]}
    assert lines == {("ConfigMap", "first", 2), ("ConfigMap", "second", 9), ("Pod", "third", 12)}
    assert report["summary"]["resources"] == 3
    fails = [(r["policy"], r["line"]) for r in report["results"] if r["status"] == "fail"]
    assert sorted(fails) == [("no-latest-tag", 18), ("resource-limits", 17)]
    skipped = sorted((s["line"], s["message"]) for s in report["skipped"])
    assert [line for line, _ in skipped] == [19, 23]
    assert "list item 2" in skipped[0][1]

    text = gate_cli("check", "multi.yaml", "-v", cwd=tmp_path)
    assert "multi.yaml:18: [no-latest-tag]" in text.stdout
    assert "multi.yaml:19: note: skipped list item 2" in text.stdout
    assert "multi.yaml:23: note: skipped" in text.stdout


def test_directories_are_walked_and_hidden_ones_skipped(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "apps" / "pod.yaml", POD_LATEST)
    write(tmp_path / "apps" / "base" / "cm.yml", CONFIGMAP)
    write(tmp_path / "apps" / "notes.txt", "apiVersion: [broken\n")
    write(tmp_path / "apps" / ".github" / "workflow.yaml", "on: [push\n")
    proc = gate_cli("check", "apps", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 1, out(proc)
    report = json_report(proc)
    assert report["errors"] == []
    assert {r["resource"]["file"] for r in report["results"]} == {
        "apps/pod.yaml", "apps/base/cm.yml"
    }


def test_check_defaults_to_the_current_directory(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "deploy" / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", cwd=tmp_path)
    assert proc.returncode == 1
    assert "deploy/pod.yaml:10: [no-latest-tag]" in proc.stdout


# -- gate check: formats -------------------------------------------------------------

def test_formats_are_repeatable(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    (tmp_path / "out").mkdir()
    proc = gate_cli("check", "pod.yaml", "-f", "text", "-f", "json=out/r.json",
                    "--format", "junit=r.xml", "-f", "markdown=r.md", cwd=tmp_path)
    assert proc.returncode == 1, out(proc)
    assert "pod.yaml:10: [no-latest-tag]" in proc.stdout
    report = json.loads((tmp_path / "out" / "r.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "fail"
    assert "<testsuites" in (tmp_path / "r.xml").read_text(encoding="utf-8")
    assert "no-latest-tag" in (tmp_path / "r.md").read_text(encoding="utf-8")


def test_json_to_a_file_leaves_a_summary_on_stderr(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "pod.yaml", "-f", "json=report.json", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("gate: FAIL: 1 blocking")
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["fail"] == 1
    assert report["summary"]["warn"] == 1
    assert report["tool"] == {"name": "gate", "version": __version__}


def test_json_to_stdout(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "pod.yaml", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 1
    report = json_report(proc)
    found = statuses(report)
    # Its two findings; every other policy passes it or does not apply to it.
    assert {key: status for key, status in found.items() if status - {"pass", "skip"}} == {
        ("web", "image-digest"): {"warn"},
        ("web", "no-latest-tag"): {"fail"},
    }
    assert found[("web", "required-labels")] == found[("web", "resource-limits")] == {"pass"}


@pytest.mark.parametrize(
    ("formats", "message"),
    [
        (("-f", "json", "-f", "text"), "would all write to standard output"),
        (("-f", "text", "-f", "markdown"), "would all write to standard output"),
        (("-f", "xml",), "unknown report format 'xml'"),
        (("-f", "yaml=out.yaml",), "unknown report format 'yaml'"),
        (("-f", "json=",), "no file name"),
    ],
    ids=["json-and-text", "text-and-markdown", "unknown", "unknown-to-file", "empty-file-name"],
)
def test_bad_formats(
    formats: tuple[str, ...], message: str, tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "pod.yaml", *formats, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in out(proc)


# -- gate check: thresholds and exit status ------------------------------------------

def test_fail_on_turns_lower_severities_into_warnings(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "api.yaml", POD_NO_LIMITS)
    write(tmp_path / "web.yaml", POD_LATEST)
    medium = gate_cli("check", "api.yaml", cwd=tmp_path)
    assert medium.returncode == 1
    assert "api.yaml:9: [resource-limits]" in medium.stdout

    high = gate_cli("check", "api.yaml", "--fail-on", "high", cwd=tmp_path)
    assert high.returncode == 0, out(high)
    assert "api.yaml:9: warning: [resource-limits]" in high.stdout
    assert high.stdout.splitlines()[-1].startswith("gate: PASS: 0 blocking, 2 warning(s)")

    # no-latest-tag is high, so it still blocks at --fail-on high...
    assert gate_cli("check", "web.yaml", "--fail-on", "high", cwd=tmp_path).returncode == 1
    # ...and only warns at --fail-on critical.
    critical = gate_cli("check", "web.yaml", "--fail-on", "critical", "-f", "json", cwd=tmp_path)
    assert critical.returncode == 0
    report = json_report(critical)
    assert report["fail_on"] == "critical"
    assert report["verdict"] == "pass"
    assert statuses(report)[("web", "no-latest-tag")] == {"warn"}


def test_exit_zero(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "pod.yaml", "--exit-zero", cwd=tmp_path)
    assert proc.returncode == 0
    assert "pod.yaml:10: [no-latest-tag]" in proc.stdout
    assert "gate: FAIL" in proc.stdout  # the verdict is still reported honestly


def test_no_builtin_and_no_policies(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "--no-builtin", "pod.yaml", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, out(proc)
    report = json_report(proc)
    assert report["policies"] == []
    assert report["results"] == []
    assert report["summary"]["resources"] == 1
    assert "gate explain" not in gate_cli("policies", "--no-builtin", cwd=tmp_path).stdout


# -- colour --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        ((), {}, False),
        (("--color", "auto"), {}, False),
        (("--color", "auto"), {"NO_COLOR": "1"}, False),
        (("--color", "always"), {}, True),
        (("--color", "always"), {"NO_COLOR": "1"}, True),
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
        (("--color", "auto"), {"FORCE_COLOR": "1"}, True),
    ],
    ids=["default-pipe", "auto-pipe", "no-color", "always", "always-beats-no-color",
         "never-beats-force", "force-color"],
)
def test_colour(
    args: tuple[str, ...], env: dict[str, str], coloured: bool, tmp_path: Path,
    gate_cli: RunGate,
) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "pod.yaml", *args, cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert bool(ANSI.search(proc.stdout)) is coloured
    if coloured:  # colour changes nothing but the escapes
        plain = gate_cli("check", "pod.yaml", cwd=tmp_path)
        assert ANSI.sub("", proc.stdout) == plain.stdout


def test_json_is_never_coloured(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "pod.yaml", "-f", "json", "--color", "always", cwd=tmp_path)
    assert "\x1b" not in proc.stdout
    json.loads(proc.stdout)


# -- gate policies, gate explain -----------------------------------------------------

def test_policies_lists_the_builtins(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("policies", cwd=tmp_path)
    assert proc.returncode == 0, out(proc)
    rows = [line.split() for line in proc.stdout.splitlines()[1:] if line.strip()]
    *listed, count = rows
    table = {row[0]: row[1:4] for row in listed}
    assert sorted(table) == BUILTINS
    assert table["no-latest-tag"] == ["high", "block", "on"]
    assert table["image-digest"][1:] == ["warn", "on"]
    assert table["change-ticket"][2] == "off"  # opt-in change policies
    assert table["release-window"][2] == "on"
    assert " ".join(count) == f"{ENABLED} of {len(BUILTINS)} policies enabled"


def test_explain(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("explain", "no-latest-tag", cwd=tmp_path)
    assert proc.returncode == 0, out(proc)
    text = proc.stdout
    assert text.startswith("# no-latest-tag: ")
    assert "Severity: high" in text
    assert "Enforcement: block" in text
    for section in ("## What it checks", "## Why it matters", "## How to fix it",
                    "## Parameters", "## Example: fails", "## Example: passes"):
        assert section in text
    assert "- forbidden_tags:" in text
    assert 'default: ["latest"]' in text
    assert "    kind: Deployment" in text  # the examples, indented


def test_explain_a_check_defined_in_code(tmp_path: Path, gate_cli: RunGate) -> None:
    # Reports of gate release verify point at it: it is explained like a policy file.
    done = gate_cli("explain", "release-certified", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# release-certified: Production runs only versions "
                                  "certified in the certifying environment\n")
    assert "Enabled: in gate release verify" in done.stdout
    assert "## How to fix it" in done.stdout


def test_explain_unknown_policy(tmp_path: Path, gate_cli: RunGate) -> None:
    proc = gate_cli("explain", "nope", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("gate: error: no policy with id 'nope'")
    assert "no-latest-tag" in proc.stderr  # the known ids are listed
    assert "Traceback" not in out(proc)


# -- configuration -------------------------------------------------------------------

def test_config_discovered_in_cwd_disables_a_policy(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    write(tmp_path / ".gate.yaml", "policies:\n  no-latest-tag:\n    enabled: false\n")
    proc = gate_cli("check", "pod.yaml", cwd=tmp_path)
    assert proc.returncode == 0, out(proc)
    assert "no-latest-tag" not in proc.stdout
    assert f"(1 resource(s), {CHECKED - 1} policies)" in proc.stdout
    listed = gate_cli("policies", cwd=tmp_path)
    assert re.search(r"^no-latest-tag\s+high\s+block\s+off\s", listed.stdout, re.M)
    assert f"{ENABLED - 1} of {len(BUILTINS)} policies enabled" in listed.stdout
    assert "Enabled: no" in gate_cli("explain", "no-latest-tag", cwd=tmp_path).stdout


@pytest.mark.parametrize("name", [".gate.yaml", ".gate.yml"])
def test_config_changes_enforcement(name: str, tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    write(tmp_path / name, "policies:\n  no-latest-tag:\n    enforcement: warn\n")
    proc = gate_cli("check", "pod.yaml", cwd=tmp_path)
    assert proc.returncode == 0, out(proc)
    assert "pod.yaml:10: warning: [no-latest-tag]" in proc.stdout


def test_config_changes_severity(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    write(tmp_path / ".gate.yaml", "policies:\n  no-latest-tag:\n    severity: low\n")
    assert gate_cli("check", "pod.yaml", cwd=tmp_path).returncode == 1
    proc = gate_cli("check", "pod.yaml", "--fail-on", "medium", "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, out(proc)
    report = json_report(proc)
    [result] = [r for r in report["results"] if r["policy"] == "no-latest-tag"]
    assert (result["severity"], result["status"]) == ("low", "warn")


def test_config_fail_on_and_the_command_line(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    write(tmp_path / ".gate.yaml", "fail_on: critical\n")
    assert gate_cli("check", "pod.yaml", cwd=tmp_path).returncode == 0
    assert gate_cli("check", "pod.yaml", "--fail-on", "high", cwd=tmp_path).returncode == 1


def test_config_parameters(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "cm.yaml", CONFIGMAP)
    assert gate_cli("check", "cm.yaml", cwd=tmp_path).returncode == 0
    write(tmp_path / ".gate.yaml",
          "policies:\n  required-labels:\n    parameters:\n      labels: [team]\n")
    proc = gate_cli("check", "cm.yaml", cwd=tmp_path)
    assert proc.returncode == 1, out(proc)
    assert findings(proc.stdout) == ["cm.yaml:5: [required-labels]"]  # at labels:
    assert "label 'team'" in proc.stdout
    explained = gate_cli("explain", "required-labels", cwd=tmp_path)
    assert 'configured: ["team"]' in explained.stdout


def test_config_discovered_in_a_parent_directory(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / ".gate.yaml", "policies:\n  no-latest-tag:\n    enabled: false\n")
    write(tmp_path / "apps" / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "pod.yaml", cwd=tmp_path / "apps")
    assert proc.returncode == 0, out(proc)


def test_config_discovery_stops_at_the_repository_root(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    write(tmp_path / ".gate.yaml", "policies:\n  no-latest-tag:\n    enabled: false\n")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    write(tmp_path / "repo" / "pod.yaml", POD_LATEST)
    proc = gate_cli("check", "pod.yaml", cwd=tmp_path / "repo")
    assert proc.returncode == 1, out(proc)


def test_explicit_config_wins_over_discovery(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "pod.yaml", POD_LATEST)
    write(tmp_path / ".gate.yaml", "policies:\n  no-latest-tag:\n    enabled: false\n")
    write(tmp_path / "ci" / "strict.yaml", "policies:\n  image-digest:\n    enforcement: block\n")
    proc = gate_cli("check", "pod.yaml", "--config", "ci/strict.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert findings(proc.stdout) == ["pod.yaml:10: [image-digest]", "pod.yaml:10: [no-latest-tag]"]
    proc = gate_cli("check", "pod.yaml", "-c", "ci/strict.yaml", cwd=tmp_path)
    assert proc.returncode == 1


def test_config_policy_dirs_are_relative_to_the_config(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "ci" / "gate.yaml", "builtin: false\npolicy_dirs: [rules]\n")
    write(tmp_path / "ci" / "rules" / "names.yaml", """\
apiVersion: gate.dev/v1
kind: Policy
id: no-settings
title: Nothing is called settings
description: d
rationale: r
remediation: rename it
severity: low
rules:
  - assert: "metadata.name != 'settings'"
    message: "{{ metadata.name }} is a forbidden name"
    field: metadata.name
""")
    write(tmp_path / "cm.yaml", CONFIGMAP)
    proc = gate_cli("check", "cm.yaml", "--config", "ci/gate.yaml", cwd=tmp_path)
    assert proc.returncode == 1, out(proc)
    assert findings(proc.stdout) == ["cm.yaml:4: [no-settings]"]
    assert "settings is a forbidden name" in proc.stdout


# -- determinism ---------------------------------------------------------------------

def _reports(tmp_path: Path, run_gate: RunGate, name: str, *paths: str,
             seed: str) -> dict[str, bytes]:
    directory = tmp_path / name
    directory.mkdir()
    proc = run_gate("check", *paths, "-f", f"json={name}/a.json", "-f", f"junit={name}/b.xml",
                    "-f", f"markdown={name}/c.md", "-f", "text", cwd=tmp_path,
                    env={"PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1798102800"})
    assert proc.returncode == 2, out(proc)  # one input error among the findings
    files = {f: (directory / f).read_bytes() for f in ("a.json", "b.xml", "c.md")}
    files["stdout"] = proc.stdout.encode()
    return files


def test_reports_are_deterministic(tmp_path: Path, gate_cli: RunGate) -> None:
    write(tmp_path / "apps" / "web.yaml", POD_LATEST + "---\n" + POD_NO_LIMITS)
    write(tmp_path / "apps" / "multi.yaml", MULTI)
    write(tmp_path / "apps" / "cm.yaml", CONFIGMAP)
    write(tmp_path / "apps" / "broken.yaml", "apiVersion: v1\nkind: [\n")
    first = _reports(tmp_path, gate_cli, "one", "apps", seed="1")
    second = _reports(tmp_path, gate_cli, "two", "apps", seed="2")
    # The same files named in another order give the same reports.
    third = _reports(tmp_path, gate_cli, "three", "apps/multi.yaml", "apps/web.yaml",
                     "apps/broken.yaml", "apps/cm.yaml", seed="3")
    for name in first:
        assert first[name] == second[name], name
        assert first[name] == third[name], name
    report = json.loads(first["a.json"])
    assert report["summary"]["errors"] == 1
    assert report["summary"]["fail"] >= 3


def test_files_are_named_from_the_working_directory_below_the_repository_root(
    tmp_path: Path, gate_cli: RunGate
) -> None:
    """Run in a subdirectory of a repository (as a hook or a developer may), gate names
    each file as it was typed, not by an absolute path through the repository root."""
    (tmp_path / ".git").mkdir()
    write(tmp_path / "deploy" / "apps" / "pod.yaml", POD_LATEST)
    write(tmp_path / "other" / "pod.yaml", POD_LATEST)
    deploy = tmp_path / "deploy"
    proc = gate_cli("check", "apps/pod.yaml", "../other/pod.yaml", cwd=deploy)
    assert proc.returncode == 1
    files = {line.split(":", 1)[0] for line in proc.stdout.splitlines() if ": [" in line}
    assert files == {"apps/pod.yaml", str(tmp_path / "other" / "pod.yaml")}
