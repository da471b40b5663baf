"""The JSON report: its shape follows the shipped JSON Schema, for every kind of outcome."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

MANIFESTS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app.kubernetes.io/name: web}
spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:latest
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: {app.kubernetes.io/name: web}
---
just: a mapping
"""


def report_schema() -> dict[str, Any]:
    text = resources.files("gate.schemas").joinpath("report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def run_json(tmp_path: Path, *files: Path) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "gate", "check", *map(str, files), "-f", f"json={out}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(out.read_text("utf-8"))


def test_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())


def test_report_with_findings_passes_and_skips(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFESTS)
    code, report = run_json(tmp_path, manifest)
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert code == 1
    assert report["version"] == 2
    assert report["tool"]["name"] == "gate"
    assert report["verdict"] == "fail"
    statuses = {(r["policy"], r["resource"]["kind"], r["status"]) for r in report["results"]}
    assert ("no-latest-tag", "Deployment", "fail") in statuses
    assert ("required-labels", "Service", "pass") in statuses
    failure = next(r for r in report["results"]
                   if r["policy"] == "no-latest-tag" and r["status"] == "fail")
    assert failure["field"] == "spec.template.spec.containers[0].image"
    assert failure["line"] == 12
    assert failure["resource"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop",
        "file": "app.yaml", "line": 1, "environment": None, "rendered_by": None,
    }
    assert failure["file"] == "app.yaml"
    assert failure["new"] is None
    assert report["skipped"] == [{
        "file": "app.yaml", "line": 21,
        "message": "skipped: not a Kubernetes object (no apiVersion or kind)",
    }]
    summary = report["summary"]
    assert summary["results"] == len(report["results"])
    assert summary["fail"] == sum(r["status"] == "fail" for r in report["results"])


def test_report_with_input_error_fails_closed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n")
    code, report = run_json(tmp_path, broken)
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert code == 2
    assert report["verdict"] == "fail"
    assert report["errors"][0]["file"] == "broken.yaml"
    assert report["errors"][0]["line"] >= 3
    assert report["results"] == []


def test_clean_report_passes(tmp_path: Path) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        "  labels: {app.kubernetes.io/name: c}\n"
    )
    code, report = run_json(tmp_path, manifest)
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert code == 0
    assert report["verdict"] == "pass"
    assert report["errors"] == []
