"""``json``: the machine-readable report, versioned and described by a JSON Schema.

The schema ships as ``gate/schemas/report.schema.json``. Version 2 made ``waiver`` an
object and added ``override``, the ``overridden`` status and count, change subjects
(resource kind ``Change``, ``file``/``line`` null without a place in a file),
``change.environments``/``commits`` and ``audit``. Fields added within version 2
(readers that validate must use the schema of the gate that wrote the report):
``audit.rules_from``, ``unjudged`` with ``summary.unjudged`` (what gate saw and did
not judge, and why), ``audit.frameworks`` (the per-control table grouped by
framework), the ``baselined`` status and counts with ``audit.baseline`` (gate check
--baseline), and ``change.existing`` with ``change.existing_listed`` (gate diff's
existing findings counted per policy, listed only with --show-existing), ``release``
(gate release verify's certification table, present only in its reports),
``change.rollbacks`` (the environments a change only moves back to an earlier release),
``change.commit_log`` (every commit of the change: author, committer, dates, signature,
trailers, tickets) and ``approved_by``/``approval_commit`` of an override (four eyes).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from gate.reports import RenderOptions
from gate.reports._escape import UNSAFE
from gate.reports.audit import FrameworkGroup, commit_range, controls, frameworks, overrides
from gate.results import (
    BaselineRecord,
    ChangeSummary,
    CommitRecord,
    OverrideRef,
    ReleaseEvidence,
    Report,
    ResourceRef,
    Result,
    WaiverRef,
)

REPORT_VERSION = 2


def _result(result: Result) -> dict[str, Any]:
    return {
        "policy": result.policy.id,
        "title": result.policy.title,
        "severity": result.policy.severity,
        "enforcement": result.policy.enforcement,
        "controls": list(result.policy.controls),
        "status": result.status,
        "resource": _resource(result.resource),
        "message": result.message,
        "field": result.field,
        "file": result.location_file or None,
        "line": result.location_line or None,
        "new": result.new,
        "waiver": _waiver(result.waiver),
        "override": _override(result.override),
    }


def _waiver(waiver: WaiverRef | None) -> dict[str, Any] | None:
    if waiver is None:
        return None
    return {"source": waiver.source, "reason": waiver.reason, "ticket": waiver.ticket,
            "approved_by": waiver.approved_by, "expires": waiver.expires}


def _override(override: OverrideRef | None) -> dict[str, Any] | None:
    return None if override is None else _override_fields(override)


def _override_fields(override: OverrideRef) -> dict[str, Any]:
    return {"trailer": override.trailer, "value": override.value, "ticket": override.ticket,
            "reason": override.reason, "commit": override.commit, "author": override.author,
            "approved_by": override.approved_by, "approval_commit": override.approval_commit}


def _audit(report: Report) -> dict[str, Any] | None:
    audit = report.audit
    if audit is None:
        return None
    return {
        "range": commit_range(report),
        "evaluated_at": audit.evaluated_at,
        "time_source": audit.time_source,
        "rules_from": audit.rules_from,
        "gate_version": report.tool_version,
        "fingerprint": audit.fingerprint,
        "inputs": [{"name": name, "sha256": digest} for name, digest in audit.inputs],
        "controls": [{"id": row.id, "policies": row.policies, **row.counts}
                     for row in controls(report)],
        "frameworks": [_framework(group) for group in frameworks(report)],
        "waivers": [
            {"source": w.source, "policy": w.policy, "reason": w.reason, "ticket": w.ticket,
             "approved_by": w.approved_by, "expires": w.expires, "state": w.state,
             "matched": w.matched}
            for w in audit.waivers
        ],
        "overrides": [
            {**_override_fields(use.override), "policies": use.policies,
             "findings": len(use.results)}
            for use in overrides(report)
        ],
        "evidence": [{"policy": e.policy, "label": e.label, "environment": e.environment or None,
                      "values": list(e.values)} for e in audit.evidence],
        "baseline": _baseline(audit.baseline),
    }


def _baseline(record: BaselineRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {"file": record.file,
            "entries": [{"source": u.source, "policy": u.policy, "expires": u.expires,
                         "state": u.state, "matched": u.matched} for u in record.entries]}


def _framework(group: FrameworkGroup) -> dict[str, Any]:
    return {
        "id": group.id, "title": group.title, "version": group.version, "url": group.url,
        "controls": [{"id": row.id, "title": group.title_of(row), "policies": row.policies,
                      **row.counts} for row in group.rows],
    }


def _resource(resource: ResourceRef) -> dict[str, Any]:
    return {
        "apiVersion": resource.api_version, "kind": resource.kind, "name": resource.name,
        "namespace": resource.namespace, "file": resource.file or None,
        "line": resource.line or None,
        "environment": resource.environment or None,
        "rendered_by": resource.rendered_by or None,
    }


def _change(change: ChangeSummary | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "mode": change.mode,
        "base": {"ref": change.base_ref, "sha": change.base_sha},
        "head": {"ref": change.head_ref, "sha": change.head_sha},
        "merge_base": change.merge_base,
        "blocking": change.blocking,
        "files": [{"status": f.status, "path": f.path, "old_path": f.old_path}
                  for f in change.files],
        "deleted_resources": [_resource(resource) for resource in change.deleted],
        "notes": list(change.notes),
        "environments": list(change.environments),
        "commits": change.commits,
        "existing": dict(change.existing),
        "existing_listed": change.existing_listed,
        "rollbacks": [{"environment": r.environment, "release": r.release,
                       "moves": list(r.moves), "let_through": r.let_through or None}
                      for r in change.rollbacks],
        "commit_log": [_commit(record) for record in change.commit_log],
    }


def _commit(record: CommitRecord) -> dict[str, Any]:
    signature = record.signature
    return {
        "sha": record.sha, "author": record.author, "authored_at": record.authored_at,
        "committer": record.committer, "committed_at": record.committed_at,
        "subject": record.subject,
        "signature": {"status": signature.status, "signer": signature.signer,
                      "key": signature.key, "fingerprint": signature.fingerprint},
        "trailers": [{"key": key, "values": list(values)} for key, values in record.trailers],
        "tickets": list(record.tickets),
    }


def to_dict(report: Report, results: bool = True) -> dict[str, Any]:
    """The report as JSON data (``results`` False: an empty list in their place)."""
    return {
        "version": REPORT_VERSION,
        "tool": {"name": "gate", "version": report.tool_version},
        "verdict": report.verdict,
        "fail_on": report.fail_on,
        "summary": report.summary(),
        "policies": [
            {"id": p.id, "title": p.title, "severity": p.severity,
             "enforcement": p.enforcement, "controls": list(p.controls), "target": p.target,
             "overridable": p.overridable, "inline_waivers": p.inline_waivers}
            for p in report.policies
        ],
        "results": [_result(result) for result in report.results] if results else [],
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in report.errors],
        "skipped": [{"file": n.file, "line": n.line, "message": n.message} for n in report.notes],
        "unjudged": [{"file": u.file, "what": u.what, "category": u.category, "reason": u.reason}
                     for u in report.unjudged],
        "change": _change(report.change),
        "audit": _audit(report),
        **({"release": _release(report.release)} if report.release is not None else {}),
    }


def _release(release: ReleaseEvidence) -> dict[str, Any]:
    """gate release verify: the certification table (absent from other reports)."""
    return {
        "tag": release.tag, "commit": release.commit, "certified_in": release.certified_in,
        "rule": release.rule, "microservice_rule": release.microservice_rule,
        "certification": [
            {"microservice": row.microservice, "environment": row.environment,
             "version": row.version, "file": row.file, "line": row.line,
             "certified": row.certified_at is not None, "certified_at": row.certified_at}
            for row in release.rows],
        "unread": list(release.unread),
    }


# One encoder for every value: json.dumps with options builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _dumps(value: Any) -> str:
    return UNSAFE.sub(_json_escape, _ENCODE(value))


def _json_escape(match: re.Match[str]) -> str:
    """A character of the encoded text no reader of the file should meet raw.

    The encoder has escaped C0 controls already; C1 and bidirectional controls, DEL and
    the non-characters become JSON escapes (the value is unchanged: JSON stays lossless
    for text). A byte of a file name that is not UTF-8 (a surrogateescape code point)
    becomes the text ``\\xNN``, as in every other report; any other lone surrogate the
    text ``\\uXXXX``: neither is valid Unicode, which a JSON reader may refuse.
    """
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\\\u{code:04x}"
    return f"\\u{code:04x}"


def render(report: Report, options: RenderOptions) -> str:
    return "".join(render_chunks(report, options))


def render_chunks(report: Report, options: RenderOptions) -> Iterator[str]:
    """The report line by line: top-level keys one per line, and each entry of a list
    on a line of its own.

    Readable in a diff and greppable, yet encoded by the C encoder
    (``indent`` would force the slow pure-Python one, a hot spot on big reports), and
    written as it is made: a report of 100,000 results is never one string in memory.
    """
    yield "{\n"
    items = list(to_dict(report, results=False).items())
    for position, (key, value) in enumerate(items):
        comma = "," if position < len(items) - 1 else ""
        entries: Iterator[str] = _result_lines(report.results) if key == "results" else (
            map(_dumps, value) if isinstance(value, list) else iter(()))
        first = next(entries, None)
        if first is None:
            yield f"  {_dumps(key)}: {_dumps(value)}{comma}\n"
            continue
        yield f"  {_dumps(key)}: [\n"
        previous = first
        for entry in entries:
            yield f"    {previous},\n"
            previous = entry
        yield f"    {previous}\n"
        yield f"  ]{comma}\n"
    yield "}\n"


def _result_lines(results: list[Result]) -> Iterator[str]:
    """Each result encoded exactly as ``_dumps(_result(result))`` would, fast.

    A report holds a result per policy and resource (10,000 resources and 36 policies:
    110,000 results), and most of each line is its policy's fields and its resource's,
    shared by many results: those parts are encoded once (keyed by object identity,
    the report holding every object alive) and the rest per result.
    """
    policy_parts: dict[int, str] = {}
    resource_parts: dict[int, str] = {}
    status_parts: dict[str, str] = {}
    # Without waiver or override, the rest depends on a few values: a passing result's
    # is the same for every policy that passes the resource.
    tails: dict[tuple[Any, ...], str] = {}
    for result in results:
        policy = result.policy
        head = policy_parts.get(id(policy))
        if head is None:
            # '{"policy": ..., "controls": [...]' (the closing brace left off).
            head = policy_parts[id(policy)] = _dumps({
                "policy": policy.id, "title": policy.title, "severity": policy.severity,
                "enforcement": policy.enforcement, "controls": list(policy.controls),
            })[:-1]
        resource = result.resource
        middle = resource_parts.get(id(resource))
        if middle is None:
            middle = resource_parts[id(resource)] = _dumps(_resource(resource))
        status = status_parts.get(result.status)
        if status is None:
            status = status_parts[result.status] = _dumps(result.status)
        key = None
        if result.waiver is None and result.override is None:
            key = (id(resource), result.message, result.field, result.file, result.line,
                   result.new)
            tail = tails.get(key)
        if key is None or tail is None:
            # '"message": ..., "override": ...}' (the opening brace left off).
            tail = _dumps({
                "message": result.message, "field": result.field,
                "file": result.location_file or None, "line": result.location_line or None,
                "new": result.new, "waiver": _waiver(result.waiver),
                "override": _override(result.override),
            })[1:]
            if key is not None:
                tails[key] = tail
        yield f'{head}, "status": {status}, "resource": {middle}, {tail}'
