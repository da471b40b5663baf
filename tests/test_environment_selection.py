"""Policies select and configure by environment: `match.environments`, per-environment settings."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunGate

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/name: web}
spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 200m, memory: 128Mi}
"""

POLICY = """\
apiVersion: gate.dev/v1
kind: Policy
id: prod-only
title: A policy for production only
description: Fails every resource it applies to.
rationale: To show environment selection.
remediation: Nothing to fix.
severity: low
match:
  environments: [prod]
rules:
  - assert: "`false`"
    message: "selected in prod"
"""

CONFIG = """\
environments:
  - name: prod
    paths: ["envs/prod/**"]
  - name: dev
    paths: ["envs/dev/**"]
policies:
  image-digest:
    enforcement: warn
    environments:
      prod: {enforcement: block}
"""


def setup(tmp_path: Path) -> None:
    for env in ("dev", "prod"):
        (tmp_path / "envs" / env).mkdir(parents=True)
        (tmp_path / "envs" / env / "web.yaml").write_text(DEPLOYMENT)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "prod-only.yaml").write_text(POLICY)
    (tmp_path / ".gate.yaml").write_text(CONFIG)


def results(tmp_path: Path, run_gate: RunGate) -> list[dict[str, object]]:
    proc = run_gate("check", "envs", "--policies", "policies", "-f", "json=report.json",
                    cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    found: list[dict[str, object]] = report["results"]
    return found


def test_match_environments_selects_only_that_environment(
    tmp_path: Path, run_gate: RunGate
) -> None:
    setup(tmp_path)
    hits = [(r["resource"]["environment"], r["status"]) for r in results(tmp_path, run_gate)
            if r["policy"] == "prod-only"]
    assert hits == [("prod", "fail")]


def test_per_environment_settings_override_the_policys_own(
    tmp_path: Path, run_gate: RunGate
) -> None:
    setup(tmp_path)
    digest = {r["resource"]["environment"]: (r["status"], r["enforcement"])
              for r in results(tmp_path, run_gate) if r["policy"] == "image-digest"}
    assert digest == {"dev": ("warn", "warn"), "prod": ("fail", "block")}
