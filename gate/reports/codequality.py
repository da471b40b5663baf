"""``codequality``: a GitLab Code Quality report, for the merge request widget and diff.

GitLab reads a JSON array of issues (``artifacts:reports:codequality``), each with
``description``, ``check_name``, ``fingerprint``, ``severity`` (``info``, ``minor``,
``major``, ``critical`` or ``blocker``), ``location.path`` (relative to the
repository) and ``location.lines.begin``; it ignores any other key of the Code Climate
format, and refuses a byte order mark. It compares the fingerprints of the merge
request's report with those of the target branch's to say which issues the change
adds and which it resolves, and shows issues with one fingerprint as one.

What becomes an issue, in this order:

* every input that could not be read (``check_name`` ``gate/input-error``, severity
  ``blocker``): the gate fails closed on it, and the widget must say why;
* every finding that blocks (``fail``), does not block (``warn``) or was let through by
  an emergency override (``overridden``: it would have failed the gate, so it is never
  left out; the description names the override); waived findings are not issues (the
  waiver accepted them, and Code Quality has no notion of a suppressed issue: the
  JSON, SARIF, JUnit and Markdown reports list them with their waivers), nor are
  passes and skips;
* what gate saw and did not judge (``gate/not-judged``, severity ``info``), so that no
  report lets "not looked at" read as "passed".

``check_name`` is the policy id. ``severity`` maps gate's severities one to one:
critical ``blocker``, high ``critical``, medium ``major``, low ``minor``, info ``info``.
A finding is located at the file and line of the offending field; a change finding
with no place in a file, as in SARIF, at a changed file reaching its environment, else
at ``.gate.yaml`` line 1.

``fingerprint`` is a sha256 hex digest of what SARIF's ``partialFingerprints`` hash:
the policy, the resource (environment, overlay or file, kind, namespace, name) and the
field (or the message), numbered among identical ones; never the line, so an issue keeps
its fingerprint when lines move, and the widget does not call it new.

Deterministic: the same report gives byte-identical output. Control and bidirectional
characters are shown as visible escapes in every string.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from gate.loading.resources import InputError
from gate.reports import RenderOptions
from gate.reports._escape import clean_tree, one_line
from gate.reports.sarif import (
    CONFIG_FILE,
    INPUT_ERROR_RULE,
    change_file,
    error_digest,
    finding_digest,
    fingerprints,
    subject,
)
from gate.results import FAIL, OVERRIDDEN, WARN, Report, Result, Unjudged

#: Statuses that are Code Quality issues; waived, pass and skip are not.
ISSUES = (FAIL, WARN, OVERRIDDEN)
NOT_JUDGED_CHECK = "gate/not-judged"
SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor",
            "info": "info"}
#: The severity of an input error: the gate fails closed on it.
INPUT_ERROR_SEVERITY = "blocker"
NOT_JUDGED_SEVERITY = "info"


def _issue(description: str, check_name: str, severity: str, path: str,
           line: int | None) -> dict[str, Any]:
    return {
        "description": one_line(description),
        "check_name": check_name,
        "fingerprint": "",  # numbered once every issue is known
        "severity": severity,
        "location": {"path": path, "lines": {"begin": line if line and line > 0 else 1}},
    }


def _error_issue(error: InputError) -> dict[str, Any]:
    where = error.file if error.line is None else f"{error.file}:{error.line}"
    return _issue(f"{where}: input could not be read, so the gate fails: {error.message}",
                  INPUT_ERROR_RULE, INPUT_ERROR_SEVERITY, error.file or CONFIG_FILE,
                  error.line if error.file else 1)


def _status(result: Result) -> str:
    if result.status == FAIL:
        return "blocks the merge"
    if result.status == WARN:
        return "warning, does not block"
    override = str(result.override) if result.override else "no override recorded"
    return f"OVERRIDDEN by {override}: let through, would have blocked"


def _finding_issue(result: Result, report: Report) -> dict[str, Any]:
    message = result.message or result.policy.title or result.policy.id
    if result.field:
        message += f" (at {result.field})"
    description = f"[{result.policy.id}] {subject(result)}: {message} ({_status(result)})"
    if result.location_file:
        path, line = result.location_file, result.location_line
    else:
        path, line = change_file(result, report) or CONFIG_FILE, 1
    return _issue(description, result.policy.id, SEVERITY.get(result.policy.severity, "major"),
                  path, line)


def _unjudged_issue(item: Unjudged) -> dict[str, Any]:
    where = item.file or "(no path)"
    return _issue(f"{where}: not judged: {item.describe()}", NOT_JUDGED_CHECK,
                  NOT_JUDGED_SEVERITY, item.file or CONFIG_FILE, 1)


def _unjudged_digest(item: Unjudged) -> str:
    """The item's place and kind, not its reason (which says how to get it judged)."""
    parts = (NOT_JUDGED_CHECK, item.file, item.what, item.category)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def to_list(report: Report) -> list[dict[str, Any]]:
    """The issues: input errors, then findings in report order, then what was not judged."""
    findings = [result for result in report.results if result.status in ISSUES]
    issues = [*map(_error_issue, report.errors),
              *(_finding_issue(result, report) for result in findings),
              *map(_unjudged_issue, report.unjudged)]
    digests = [*map(error_digest, report.errors), *map(finding_digest, findings),
               *map(_unjudged_digest, report.unjudged)]
    for issue, numbered in zip(issues, fingerprints(digests), strict=True):
        # A plain hex digest, the shape GitLab's examples use, of the numbered digest.
        issue["fingerprint"] = hashlib.sha256(numbered.encode("ascii")).hexdigest()
    return issues


def render(report: Report, options: RenderOptions) -> str:
    del options  # no option changes the report
    return json.dumps(clean_tree(to_list(report)), indent=2, ensure_ascii=False) + "\n"
