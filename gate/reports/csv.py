"""``csv``: the per-control export, one row per (compliance control, result).

For a compliance officer's spreadsheet or GRC tool: the per-control data of the audit
section (:func:`gate.reports.audit.frameworks`: the policies mapped to each control,
grouped by framework in the registry's order, controls in natural order) joined with
every result of those policies. A policy mapped to two controls gives each of its
results two rows; the results of policies mapped to no control come last, with the
framework and control cells empty.

RFC 4180: a header row, comma-separated, CRLF line ends, fields quoted where they hold a
comma, a quote or a line break (Python's :mod:`csv`, ``QUOTE_MINIMAL``); UTF-8 without
a byte-order mark. Deterministic: rows follow the framework and control order, then the
policy id, then the report's result order.

Every value may come from the change (a resource name, a message quoting a field, a
commit author): a cell that a spreadsheet would take for a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe, which
spreadsheets read as "text" and do not show; control characters are escaped visibly
(:func:`gate.reports._escape.visible`), and a line break inside a value is a quoted LF,
so a carriage return only ever ends a row.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from gate.reports import RenderOptions
from gate.reports._escape import visible
from gate.reports.audit import NO_CONTROL, ControlRow, FrameworkGroup, frameworks
from gate.results import (
    BASELINED,
    FAIL,
    OVERRIDDEN,
    PASS,
    SKIP,
    WAIVED,
    WARN,
    Report,
    Result,
)

COLUMNS = (
    "framework", "framework_title", "control", "control_title", "policy", "policy_title",
    "severity", "status", "new", "resource", "environment", "file", "line", "message",
    "waiver", "waiver_ticket", "waiver_approved_by", "waiver_expires",
    "override", "override_author", "override_commit", "override_approved_by",
    "override_approval_commit",
)

#: Statuses in words, as a reader of the sheet expects them.
STATUS_WORDS = {FAIL: "failed", WARN: "warning", PASS: "passed", SKIP: "skipped",
                WAIVED: "waived", OVERRIDDEN: "overridden", BASELINED: "baselined"}

#: What a spreadsheet may read as the start of a formula (OWASP's list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """``value`` as an inert cell: controls escaped, a formula start neutralised, and
    every line break an LF (a carriage return only ever ends a row)."""
    text = visible("" if value is None else str(value))
    if text.startswith(_FORMULA_STARTS):
        text = "'" + text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def render(report: Report, options: RenderOptions) -> str:
    return "".join(render_chunks(report, options))


def render_chunks(report: Report, options: RenderOptions) -> Iterator[str]:
    """The header, then the rows a few at a time (a big report is never one string)."""
    del options  # no option changes the export
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows(report):
        writer.writerow([cell(value) for value in row])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def rows(report: Report) -> Iterator[tuple[object, ...]]:
    """Every (control, result) row, raw (before :func:`cell`), in export order."""
    by_policy: dict[str, list[Result]] = {}
    for result in report.results:
        by_policy.setdefault(result.policy.id, []).append(result)
    for group in frameworks(report):
        for control in group.rows:
            head = _control_cells(group, control)
            for policy_id in sorted(control.policies):
                for result in by_policy.get(policy_id, []):
                    yield head + _result_cells(result)


def _control_cells(group: FrameworkGroup, row: ControlRow) -> tuple[object, ...]:
    if row.id == NO_CONTROL:
        return ("", "", "", "")
    return (group.id, group.name, row.id, group.title_of(row) or "")


def _result_cells(result: Result) -> tuple[object, ...]:
    resource = result.resource
    waiver, override = result.waiver, result.override
    subject = resource.subject() if resource.is_change else resource.identity()
    return (
        result.policy.id, result.policy.title, result.policy.severity,
        STATUS_WORDS.get(result.status, result.status),
        "" if result.new is None else ("new" if result.new else "existing"),
        subject, resource.environment, result.location_file,
        result.location_line or "", result.message,
        waiver.source + (f": {waiver.reason}" if waiver.reason else "") if waiver else "",
        (waiver.ticket or "") if waiver else "",
        (waiver.approved_by or "") if waiver else "",
        (waiver.expires or "") if waiver else "",
        f"{override.ticket} {override.reason}" if override else "",
        override.author if override else "",
        override.commit if override else "",
        override.approved_by if override else "",
        override.approval_commit if override else "",
    )
