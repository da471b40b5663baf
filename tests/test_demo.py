"""The demo repository (fixtures/demo) fails the gate with exactly its deliberate violations.

Runs ``gate check fixtures/demo`` as a real subprocess from the repository root, as the
README of the demo tells a reader to, with the built-in policies and no configuration.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gate.evaluation.policy_loading import load_builtin
from tests.processes import gate_environment, run

ROOT = Path(__file__).resolve().parents[1]
DEMO = "fixtures/demo"

# (file relative to the demo, line, policy, status): keep in step with fixtures/demo/README.md.
VIOLATIONS: list[tuple[str, int, str, str]] = [
    ("envs/dev/storefront/deployment.yaml", 41, "no-latest-tag", "fail"),
    ("envs/dev/storefront/deployment.yaml", 41, "image-digest", "warn"),
    ("envs/staging/orders/deployment.yaml", 62, "no-latest-tag", "fail"),
    ("envs/staging/orders/deployment.yaml", 62, "image-digest", "warn"),
    ("envs/prod/payments/cronjob.yaml", 45, "resource-limits", "fail"),
    ("envs/prod/storefront/service.yaml", 6, "required-labels", "fail"),
]
RESOURCES = 59
# Every built-in policy a plain `gate check` runs: the enabled ones that judge resources or
# documents (change policies need a change to judge and do not run here).
POLICIES = sum(1 for policy in load_builtin() if policy.enabled and policy.target != "change")
FINDING_LINE = re.compile(r"^\S+\.ya?ml:\d+: ")


def gate(*args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "gate", *args], cwd=ROOT,
               env=gate_environment({"NO_COLOR": "1"}), timeout=120)


def prefix(file: str, line: int, policy: str, status: str) -> str:
    level = "warning: " if status == "warn" else ""
    return f"{DEMO}/{file}:{line}: {level}[{policy}] "


@pytest.mark.e2e
def test_text_report_lists_exactly_the_deliberate_violations() -> None:
    result = gate("check", DEMO)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for violation in VIOLATIONS:
        expected = prefix(*violation)
        assert any(line.startswith(expected) for line in lines), (expected, result.stdout)
    findings = [line for line in lines if FINDING_LINE.match(line)]
    assert len(findings) == len(VIOLATIONS), result.stdout
    fails = sum(1 for *_, status in VIOLATIONS if status == "fail")
    warns = len(VIOLATIONS) - fails
    assert f"gate: FAIL: {fails} blocking, {warns} warning(s), " in result.stdout
    assert f"({RESOURCES} resource(s), {POLICIES} policies)" in result.stdout
    assert "error" not in result.stderr.lower(), result.stderr


@pytest.mark.e2e
def test_json_report_counts(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    result = gate("check", DEMO, "-f", f"json={report_path}")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    summary = report["summary"]
    assert report["verdict"] == "fail"
    assert summary["fail"] == sum(1 for *_, status in VIOLATIONS if status == "fail") == 4
    assert summary["warn"] == sum(1 for *_, status in VIOLATIONS if status == "warn") == 2
    assert summary["resources"] == RESOURCES
    assert summary["errors"] == 0
    assert summary["skipped_documents"] == 0
    assert summary["pass"] > 0
    found = sorted(
        (r["resource"]["file"], r["line"], r["policy"], r["status"])
        for r in report["results"] if r["status"] in ("fail", "warn")
    )
    assert found == sorted((f"{DEMO}/{f}", line, p, s) for f, line, p, s in VIOLATIONS)


@pytest.mark.e2e
def test_every_format_is_written(tmp_path: Path) -> None:
    outputs = {name: tmp_path / f"report.{ext}"
               for name, ext in (("json", "json"), ("junit", "xml"), ("markdown", "md"))}
    args = ["check", DEMO, "-f", "text"]
    for name, path in outputs.items():
        args += ["-f", f"{name}={path}"]
    result = gate(*args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert prefix(*VIOLATIONS[0]) in result.stdout
    for name, path in outputs.items():
        assert path.is_file(), f"{name} report not written"
        assert path.stat().st_size > 0, f"{name} report is empty"


def test_readme_lists_the_same_violations() -> None:
    readme = (ROOT / DEMO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| \d+ \| `([^`:]+):(\d+)` \| `([a-z-]+)` \| (block|warn) \|",
                      readme, flags=re.MULTILINE)
    listed = sorted((f, int(line), p, "fail" if level == "block" else "warn")
                    for f, line, p, level in rows)
    assert listed == sorted(VIOLATIONS)


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_each_environment_has_a_full_copy(env: str) -> None:
    base = sorted(p.relative_to(ROOT / DEMO / "base")
                  for p in (ROOT / DEMO / "base").rglob("*.yaml"))
    copy = ROOT / DEMO / "envs" / env
    assert base and all((copy / p).is_file() for p in base)
