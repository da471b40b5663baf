"""``sarif``: a SARIF 2.1.0 log, for GitHub code scanning and other SARIF viewers.

One run of the tool ``gate``:

* ``tool.driver.rules``: one rule per policy, sorted by id, with the policy's own
  documentation as ``help`` (what it checks, why it matters, how to fix it), its
  controls as tags, and a ``security-severity`` GitHub reads (critical 9.5, high 8.0,
  medium 5.5, low 3.0, info 1.0); then ``gate/input-error`` when an input could not be
  read.
* ``results``: every finding (statuses fail, warn, waived, baselined and overridden;
  never pass or skip), at the file and line of the offending field, and every input
  error. A waived, baselined or overridden finding carries a ``suppressions`` entry whose
  justification is the waiver, the baseline entry or the emergency override; every
  other result an empty ``suppressions`` (SARIF
  wants them all null or all non-null in a run, and gate always judges waivers).
  ``partialFingerprints["gate/v1"]`` hashes the policy, the resource and the field (or
  the message) so code scanning tracks an alert across runs, however the lines move.
* A change policy's finding with no place in a file (code scanning rejects a result
  without a location) is located at a changed file that reaches its environment, else
  at ``.gate.yaml`` line 1; its message starts with ``change to <environment>:``.
* ``invocations[0]``: ``executionSuccessful`` is false when an input could not be read,
  each such input is also a ``toolExecutionNotifications`` entry, and ``endTimeUtc`` is
  the evaluation time when the run keeps an audit record. What gate saw and did not
  judge (``Report.unjudged``) follows the input errors in ``toolExecutionNotifications``:
  level ``warning``, the message ``helm-chart: not judged: Helm chart not rendered:
  <reason>``, located at the chart, overlay or file (no region), with ``what``,
  ``category`` and ``reason`` in its properties. Not a result: there is no finding,
  and code scanning would open an alert for it.
* ``properties`` of the run: the verdict, ``fail_on``, the audit fingerprint, the
  commit range ``gate diff`` judged, the baseline a check applied (``baseline``: its
  file and how many entries were active, expired and stale) and, when ``gate diff``
  does not list them (no ``--show-existing``), the existing findings counted per policy
  (``existing``), which a ``note`` notification also gives: they are not results.

Deterministic: the same report gives byte-identical output. Characters no SARIF
consumer should see (C0 controls, lone surrogates) are removed from every string.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from gate.loading.resources import InputError
from gate.reports import RenderOptions
from gate.reports._escape import clean_tree, one_line
from gate.reports.audit import commit_range, rollback_text
from gate.results import (
    ACTIVE,
    BASELINED,
    EXPIRED,
    FAIL,
    OVERRIDDEN,
    STALE,
    WAIVED,
    WARN,
    ChangeSummary,
    OverrideRef,
    PolicyInfo,
    Report,
    Result,
    Unjudged,
    WaiverRef,
    severity_rank,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://gate.dev"
SRCROOT = "%SRCROOT%"
CONFIG_FILE = ".gate.yaml"  # where a finding with no place in a file is located
INPUT_ERROR_RULE = "gate/input-error"
FINGERPRINT = "gate/v1"
FINDINGS = (FAIL, WARN, WAIVED, BASELINED, OVERRIDDEN)
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0",
                     "info": "1.0"}
TAGS = ("compliance", "security")

_WORD = re.compile(r"[A-Za-z0-9]+")


# -- rules ----------------------------------------------------------------------------

def rule_name(policy_id: str) -> str:
    """``no-latest-tag`` -> ``NoLatestTag``; the id itself when it has no letters or digits."""
    words = _WORD.findall(policy_id)
    return "".join(word[:1].upper() + word[1:] for word in words) or policy_id


def default_level(policy: PolicyInfo) -> str:
    """``note`` for info severity, else ``error`` for a blocking policy, ``warning`` if not."""
    if policy.severity == "info":
        return "note"
    return "error" if policy.enforcement == "block" else "warning"


def _facts(policy: PolicyInfo) -> list[tuple[str, str]]:
    facts = [("Severity", policy.severity), ("Enforcement", policy.enforcement)]
    if policy.controls:
        facts.append(("Controls", ", ".join(policy.controls)))
    return facts


def _sections(policy: PolicyInfo) -> list[tuple[str, str]]:
    sections = [("What it checks", policy.description), ("Why it matters", policy.rationale),
                ("How to fix it", policy.remediation)]
    return [(title, body.strip()) for title, body in sections if body.strip()]


def _help(policy: PolicyInfo) -> dict[str, str]:
    """The policy's documentation, as ``gate explain`` prints it, in text and Markdown."""
    facts = _facts(policy)
    text = [policy.title, "", ". ".join(f"{name}: {value}" for name, value in facts) + "."]
    markdown = [" · ".join(f"**{name}:** {value}" for name, value in facts)]
    for title, body in _sections(policy):
        text += ["", f"{title}:", body]
        markdown += ["", f"## {title}", "", body]
    footer = f"`gate explain {policy.id}` prints this documentation in a terminal."
    markdown += ["", footer]
    return {"text": "\n".join(text), "markdown": "\n".join(markdown)}


def _tags(policy: PolicyInfo) -> list[str]:
    return list(dict.fromkeys([*policy.controls, *TAGS]))


def _rule(policy: PolicyInfo) -> dict[str, Any]:
    return {
        "id": policy.id,
        "name": rule_name(policy.id),
        "shortDescription": {"text": policy.title or policy.id},
        "fullDescription": {"text": policy.description.strip() or policy.title or policy.id},
        "help": _help(policy),
        "defaultConfiguration": {"level": default_level(policy)},
        "properties": {
            "tags": _tags(policy),
            "precision": "very-high",
            "security-severity": SECURITY_SEVERITY.get(policy.severity, "5.5"),
            "severity": policy.severity,
            "enforcement": policy.enforcement,
            "target": policy.target,
        },
    }


def _input_error_rule() -> dict[str, Any]:
    description = ("An input (a manifest, a values file, a kustomization) could not be read: "
                   "invalid YAML, duplicate keys, binary content or an alias bomb. The gate "
                   "fails closed, so the run fails until the input is fixed.")
    remediation = "Fix the file at the reported line so that it parses as YAML."
    return {
        "id": INPUT_ERROR_RULE,
        "name": "InputError",
        "shortDescription": {"text": "Input could not be read"},
        "fullDescription": {"text": description},
        "help": {"text": f"{description}\n\nHow to fix it:\n{remediation}",
                 "markdown": f"{description}\n\n## How to fix it\n\n{remediation}"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["compliance"], "precision": "very-high"},
    }


# -- locations ------------------------------------------------------------------------

def _artifact(path: str) -> dict[str, str]:
    """A repository-relative path under ``%SRCROOT%``; an absolute one as a ``file:`` URI."""
    posix = path.replace("\\", "/")
    # Percent-encoding the path's own bytes keeps a name that is not UTF-8 exact (git
    # paths are bytes, held as surrogateescape strings).
    encoded = quote(posix.encode("utf-8", "surrogateescape"), safe="/")
    if PurePosixPath(posix).is_absolute():
        return {"uri": "file://" + encoded}
    return {"uri": encoded, "uriBaseId": SRCROOT}


def _location(path: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(path)}
    if line is not None and line > 0:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def change_file(result: Result, report: Report) -> str | None:
    """The first changed file that reaches the environment of a change finding: one a
    finding in that environment points at, else one under a directory named after it,
    else the first changed file (deleted files are gone at the head, so never)."""
    change = report.change
    if change is None:
        return None
    environment = result.resource.environment
    paths = [changed.path for changed in change.files if changed.status != "D"]
    in_environment = {r.location_file for r in report.results
                      if r.resource.environment == environment and not r.resource.is_change}
    for path in paths:
        if path in in_environment:
            return path
    for path in paths:
        if environment and environment in PurePosixPath(path).parts[:-1]:
            return path
    return paths[0] if paths else None


def _result_location(result: Result, report: Report) -> dict[str, Any]:
    if result.location_file:
        return _location(result.location_file, result.location_line)
    return _location(change_file(result, report) or CONFIG_FILE, 1)


# -- results --------------------------------------------------------------------------

def _blocks(policy: PolicyInfo, fail_on: str) -> bool:
    return (policy.enforcement == "block"
            and severity_rank(policy.severity) <= severity_rank(fail_on))


def level(result: Result, fail_on: str) -> str:
    """``error`` for a blocking finding, ``warning`` for one that does not block; a waived
    or overridden finding gets the level it would have had without its waiver or override."""
    if result.status in (FAIL, OVERRIDDEN):
        return "error"
    if result.status == WARN:
        return "warning"
    return "error" if _blocks(result.policy, fail_on) else "warning"


def subject(result: Result) -> str:
    """``change to prod``, or ``Deployment/shop/web (prod, overlays/prod)``."""
    resource = result.resource
    if resource.is_change:
        return resource.subject()
    context = [part for part in (resource.environment, resource.rendered_by) if part]
    return resource.identity() + (f" ({', '.join(context)})" if context else "")


def _message(result: Result) -> str:
    return f"{subject(result)}: {result.message or result.policy.title or result.policy.id}"


def _waiver_suppression(waiver: WaiverRef, status: str = WAIVED) -> dict[str, Any]:
    inline = waiver.source.startswith("annotation ")
    details = {"source": waiver.source, "reason": waiver.reason, "ticket": waiver.ticket,
               "approved_by": waiver.approved_by, "expires": waiver.expires}
    return {"kind": "inSource" if inline else "external", "status": "accepted",
            "justification": f"{status}: {waiver}",
            "properties": {key: value for key, value in details.items() if value is not None}}


def _override_suppression(override: OverrideRef) -> dict[str, Any]:
    justification = (f"emergency override {override.ticket}: {override.reason} "
                     f"({override.trailer} trailer by {override.author}, "
                     f"commit {override.commit}"
                     + (f"; approved by {override.approved_by}, commit {override.approval_commit}"
                        if override.approved_by else "") + ")")
    details = {"trailer": override.trailer, "value": override.value, "ticket": override.ticket,
               "reason": override.reason, "author": override.author, "commit": override.commit}
    if override.approved_by:  # four eyes: who approved it, and where
        details.update(approved_by=override.approved_by,
                       approval_commit=override.approval_commit)
    return {"kind": "external", "status": "accepted", "justification": justification,
            "properties": details}


def _suppressions(result: Result) -> list[dict[str, Any]]:
    if result.status in (WAIVED, BASELINED) and result.waiver is not None:
        return [_waiver_suppression(result.waiver, result.status)]
    if result.status == OVERRIDDEN:
        if result.override is None:
            return [{"kind": "external", "status": "accepted",
                     "justification": "emergency override (none recorded)"}]
        return [_override_suppression(result.override)]
    return []


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def finding_digest(result: Result) -> str:
    """The policy, the resource (environment, overlay or file, kind, namespace, name) and
    the field, or the message when the finding names no field: not the line."""
    return _digest(result.policy.id, *result.resource.key(), result.field or result.message)


def error_digest(error: InputError) -> str:
    return _digest(INPUT_ERROR_RULE, error.file, error.message)


def fingerprints(digests: Iterable[str]) -> list[str]:
    """``digest:n``, ``n`` counting the identical digests before it (from 1), so every
    result has a distinct fingerprint and a run's order keeps it stable."""
    seen: dict[str, int] = {}
    numbered = []
    for digest in digests:
        seen[digest] = seen.get(digest, 0) + 1
        numbered.append(f"{digest}:{seen[digest]}")
    return numbered


def _properties(result: Result) -> dict[str, Any]:
    resource = result.resource
    properties: dict[str, Any] = {"status": result.status, "severity": result.policy.severity}
    if resource.environment:
        properties["environment"] = resource.environment
    if resource.rendered_by:
        properties["rendered_by"] = resource.rendered_by
    if result.new is not None:
        properties["new"] = result.new
    if result.field:
        properties["field"] = result.field
    if not resource.is_change:
        properties["resource"] = {"apiVersion": resource.api_version, "kind": resource.kind,
                                  "namespace": resource.namespace, "name": resource.name}
    return properties


def _finding(result: Result, report: Report, rule_index: int,
             fingerprint: str) -> dict[str, Any]:
    sarif: dict[str, Any] = {
        "ruleId": result.policy.id,
        "ruleIndex": rule_index,
        "level": level(result, report.fail_on),
        "message": {"text": _message(result)},
        "locations": [_result_location(result, report)],
        "partialFingerprints": {FINGERPRINT: fingerprint},
    }
    if result.new is not None:
        sarif["baselineState"] = "new" if result.new else "unchanged"
    sarif["suppressions"] = _suppressions(result)
    sarif["properties"] = _properties(result)
    return sarif


def _error_location(error: InputError) -> dict[str, Any]:
    return _location(error.file or CONFIG_FILE, error.line if error.file else 1)


def _error(error: InputError, rule_index: int, fingerprint: str) -> dict[str, Any]:
    return {
        "ruleId": INPUT_ERROR_RULE,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": error.message},
        "locations": [_error_location(error)],
        "partialFingerprints": {FINGERPRINT: fingerprint},
        "suppressions": [],
        "properties": {"status": "error"},
    }


def _results(report: Report, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Input errors first (they fail the gate closed), then the findings in report order."""
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    findings = [result for result in report.results if result.status in FINDINGS]
    prints = fingerprints([*map(error_digest, report.errors),
                           *map(finding_digest, findings)])
    split = len(report.errors)
    errors = [_error(error, index[INPUT_ERROR_RULE], fingerprint)
              for error, fingerprint in zip(report.errors, prints[:split], strict=True)]
    return [*errors, *(
        _finding(result, report, index[result.policy.id], fingerprint)
        for result, fingerprint in zip(findings, prints[split:], strict=True)
    )]


# -- the run --------------------------------------------------------------------------

def _unjudged_notification(item: Unjudged) -> dict[str, Any]:
    """A warning: gate ran fine, but did not look at this, and the reader must know."""
    where = item.file or "(no path)"
    notification: dict[str, Any] = {
        "level": "warning",
        "message": {"text": one_line(f"{where}: not judged: {item.describe()}")},
    }
    if item.file:  # a path relative to the repository, as results' locations are
        notification["locations"] = [_location(item.file, None)]
    notification["properties"] = {"what": item.what, "category": item.category,
                                  "reason": item.reason}
    return notification


def _invocation(report: Report, input_error_index: int | None) -> dict[str, Any]:
    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    if report.audit is not None:
        invocation["endTimeUtc"] = report.audit.evaluated_at
    notifications = [
        {"level": "error", "message": {"text": error.message},
         "locations": [_error_location(error)],
         "associatedRule": {"id": INPUT_ERROR_RULE, "index": input_error_index}}
        for error in report.errors
    ]
    notifications += [_unjudged_notification(item) for item in report.unjudged]
    existing = _existing(report)
    if existing:
        listed = ", ".join(f"{policy} {count}" for policy, count in existing.items())
        notifications.append({"level": "note", "message": {"text": one_line(
            f"{sum(existing.values())} existing finding(s) the change did not add are not "
            f"listed (gate diff --show-existing lists them): {listed}")}})
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _change_properties(change: ChangeSummary) -> dict[str, Any]:
    return {"mode": change.mode, "base_ref": change.base_ref, "base_sha": change.base_sha,
            "head_ref": change.head_ref, "head_sha": change.head_sha,
            "merge_base": change.merge_base, "commits": change.commits,
            "environments": list(change.environments),
            "rollbacks": [{"environment": r.environment, "release": r.release,
                           "moves": list(r.moves), "let_through": r.let_through or None,
                           "text": rollback_text(r)} for r in change.rollbacks]}


def _run_properties(report: Report) -> dict[str, Any]:
    properties: dict[str, Any] = {"verdict": report.verdict, "fail_on": report.fail_on}
    if report.audit is not None:
        properties["fingerprint"] = report.audit.fingerprint
        properties["evaluated_at"] = report.audit.evaluated_at
        properties["time_source"] = report.audit.time_source
    if report.change is not None:
        properties["range"] = commit_range(report)
        properties["change"] = _change_properties(report.change)
    if _existing(report):
        properties["existing"] = _existing(report)
    baseline = report.audit.baseline if report.audit is not None else None
    if baseline is not None:
        properties["baseline"] = {"file": baseline.file,
                                  **{state: baseline.count(state)
                                     for state in (ACTIVE, EXPIRED, STALE)}}
    return properties


def _existing(report: Report) -> dict[str, int]:
    """gate diff: the existing findings not listed as results, counted per policy."""
    change = report.change
    return {} if change is None or change.existing_listed else dict(change.existing)


def to_dict(report: Report) -> dict[str, Any]:
    rules = [_rule(policy) for policy in report.all_policies()]
    input_error_index = len(rules) if report.errors else None
    if report.errors:
        rules.append(_input_error_rule())
    driver = {"name": "gate", "version": report.tool_version,
              "semanticVersion": report.tool_version, "informationUri": INFORMATION_URI,
              "rules": rules}
    run = {
        "tool": {"driver": driver},
        "invocations": [_invocation(report, input_error_index)],
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The repository root"}}},
        "results": _results(report, rules),
        "properties": _run_properties(report),
    }
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report, options: RenderOptions) -> str:
    # Every string, keys too: controls, bidirectional controls and undecodable bytes of
    # file names escaped visibly (gate/reports/_escape.py), so the text is valid UTF-8.
    return json.dumps(clean_tree(to_dict(report)), indent=2, ensure_ascii=False) + "\n"
