"""``json``: the machine-readable report, versioned and described by a JSON Schema.

The schema ships as ``gate/schemas/report.schema.json``.
"""
from __future__ import annotations

import json
from typing import Any

from gate.reports import RenderOptions
from gate.results import Report, Result

REPORT_VERSION = 1


def _result(result: Result) -> dict[str, Any]:
    resource = result.resource
    return {
        "policy": result.policy.id,
        "title": result.policy.title,
        "severity": result.policy.severity,
        "enforcement": result.policy.enforcement,
        "controls": list(result.policy.controls),
        "status": result.status,
        "resource": {
            "apiVersion": resource.api_version,
            "kind": resource.kind,
            "name": resource.name,
            "namespace": resource.namespace,
            "file": resource.file,
            "line": resource.line,
        },
        "message": result.message,
        "field": result.field,
        "line": result.location_line,
        "waiver": result.waiver,
    }


def to_dict(report: Report) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "tool": {"name": "gate", "version": report.tool_version},
        "verdict": report.verdict,
        "fail_on": report.fail_on,
        "summary": report.summary(),
        "policies": [
            {"id": p.id, "title": p.title, "severity": p.severity,
             "enforcement": p.enforcement, "controls": list(p.controls)}
            for p in report.policies
        ],
        "results": [_result(result) for result in report.results],
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in report.errors],
        "skipped": [{"file": n.file, "line": n.line, "message": n.message} for n in report.notes],
    }


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"
