"""``text``: ``file:line: [policy] message`` lines for terminals and pre-commit.

In order: input errors, blocking findings and warnings, then every finding an
emergency override let through (always, not only with ``-v``)::

    overlays/prod/kustomization.yaml:9: overridden: [no-latest-tag] ... — Gate-Override:
    INC-1234 payment outage (by Ann <ann@example.com>, commit 0123456789ab)

then expired and stale waivers (``waivers.yaml:12: warning: waiver for <policy>
expired on <date>``, ``waivers.yaml:20: note: waiver for <policy> matched nothing
(stale)…``), the expired and stale entries of a baseline, counted, with ``-v`` the
waived and baselined findings and skipped documents, in ``gate diff`` the existing
findings not listed, counted per policy, then what gate saw and did not judge
(always)::

    helm-chart: not judged: Helm chart not rendered: Helm charts are rendered only with --helm

then "How to fix", what the change deletes (with ``-v`` the changed files and the change
log, a line per commit: who wrote and committed it, when, its signature status as git
verified it and the change tickets it names), and the summary line, which counts
overridden findings and what was not judged.
A change policy's finding with no place in a file is located as ``change to
<environment>``. Every value is put on one line without control characters.
"""
from __future__ import annotations

import re

from gate.color import BOLD, DIM, GREEN, RED, YELLOW, paint
from gate.reports import RenderOptions
from gate.reports._escape import words
from gate.reports.audit import rollback_text
from gate.results import (
    BASELINED,
    EXPIRED,
    FAIL,
    OVERRIDDEN,
    PASS,
    SKIP,
    STALE,
    WAIVED,
    WARN,
    CommitRecord,
    ReleaseEvidence,
    Report,
    Result,
    Unjudged,
)


def location(result: Result) -> str:
    """``file:line``, or ``change to prod`` for a change finding with no place in a file."""
    if result.location_file:
        return _one_line(f"{result.location_file}:{result.location_line}")
    resource = result.resource
    if not resource.is_change:
        return _one_line(resource.identity())
    return _one_line(resource.subject())


def _finding(result: Result, color: bool) -> str:
    tag = paint(f"[{_one_line(result.policy.id)}]", RED if result.status == FAIL else YELLOW, color)
    prefix = "" if result.status == FAIL else paint("warning: ", YELLOW, color)
    return f"{location(result)}: {prefix}{tag} {_one_line(result.message)}{_context(result, color)}"


def _overridden(result: Result, color: bool) -> str:
    """``file:line: overridden: [policy] message — Gate-Override: … (by …, commit …)``."""
    label = paint("overridden:", BOLD + YELLOW, color)
    override = _one_line(str(result.override)) if result.override else "no override recorded"
    return (f"{location(result)}: {label} [{_one_line(result.policy.id)}] "
            f"{_one_line(result.message)}"
            f"{_context(result, color)} — {override}")


def _context(result: Result, color: bool) -> str:
    """`` (Deployment prod/web, prod, overlays/prod, new)``: for a rendered resource its
    kind, namespace and name (its line may be an overlay's or a patch's, shared by many
    resources), the environment (unless the location already names it), the overlay
    that rendered it, and new or existing in a diff."""
    resource = result.resource
    environment = "" if resource.is_change and not result.location_file else resource.environment
    rendered = ""
    if resource.rendered_by and not resource.is_change:
        namespace = f"{resource.namespace}/" if resource.namespace else ""
        rendered = f"{resource.kind} {namespace}{resource.name or '(unnamed)'}"
    context = [part for part in (rendered, environment, resource.rendered_by) if part]
    if result.new is not None:
        context.append("new" if result.new else "existing")
    return paint(f" ({_one_line(', '.join(context))})", DIM, color) if context else ""


def _one_line(text: str) -> str:
    """One line with every control, bidirectional control and undecodable byte escaped
    visibly (gate/reports/_escape.py): a name must not recolour or rewrite the log."""
    return words(text)


_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)\.\s")


def _first_sentence(text: str, limit: int = 140) -> str:
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    end = _SENTENCE_END.search(paragraph)
    sentence = paragraph if end is None else paragraph[: end.start() + 1]
    return sentence if len(sentence) <= limit else sentence[: limit - 3].rstrip() + "..."


def render(report: Report, options: RenderOptions) -> str:
    color = options.color
    lines = _error_lines(report, color)
    findings = [r for r in report.results if r.status in (FAIL, WARN)]
    lines.extend(_finding(result, color) for result in findings)
    # An override is never quiet: whoever reads the log sees what was let through.
    lines.extend(_overridden(result, color) for result in report.by_status(OVERRIDDEN))
    lines.extend(_waiver_lines(report, color))
    lines.extend(_baseline_lines(report, color))
    if options.verbose:
        for result in report.by_status(WAIVED):
            lines.append(f"{location(result)}: waived: "
                         f"[{_one_line(result.policy.id)}] "
                         f"{_one_line(str(result.waiver or ''))}")
        for result in report.by_status(BASELINED):
            lines.append(f"{location(result)}: baselined: [{_one_line(result.policy.id)}] "
                         f"{_one_line(result.message)}{_context(result, color)} — "
                         f"{_one_line(str(result.waiver or ''))}")
        for note in report.notes:
            where = f"{note.file}:{note.line}" if note.line else note.file
            lines.append(paint(_one_line(f"{where}: note: {note.message}"), DIM, color))
    # Never only with -v: a passing run must not hide what nobody looked at.
    lines.extend(_unjudged(item, color) for item in report.unjudged)
    failing = sorted({r.policy.id: r.policy for r in findings}.items())
    if failing:
        lines.append("")
        lines.append(paint("How to fix:", BOLD, color))
        for policy_id, policy in failing:
            lines.append("  " + _one_line(f"{policy_id}: {_first_sentence(policy.remediation)} "
                                          f"(gate explain {policy_id})"))
    lines.extend(_change_lines(report, options.verbose))
    lines.extend(_existing_lines(report))
    lines.extend(_evidence_lines(report))
    if report.release is not None:
        lines.extend(release_lines(report.release))
    if lines:
        lines.append("")
    lines.append(_summary(report, color))
    return "\n".join(lines) + "\n"


def _waiver_lines(report: Report, color: bool) -> list[str]:
    """Expired and stale waivers: someone must renew, fix, or delete them."""
    if report.audit is None:
        return []
    lines = []
    for use in report.audit.waivers:
        source, policy = _one_line(use.source), _one_line(use.policy)
        if use.state == EXPIRED:
            counted = (f": {use.matched} finding(s) it covered count again" if use.matched
                       else "")
            lines.append(f"{source}: {paint('warning:', YELLOW, color)} waiver for "
                         f"{policy} expired on {_one_line(use.expires)}{counted}")
        elif use.state == STALE:
            lines.append(f"{source}: note: waiver for {policy} matched nothing "
                         "(stale): remove it, or fix its match")
    return lines


def _baseline_lines(report: Report, color: bool) -> list[str]:
    """Expired and stale baseline entries, counted (a baseline holds hundreds)."""
    record = report.audit.baseline if report.audit is not None else None
    if record is None:
        return []
    lines = []
    name = _one_line(record.file)
    expired = [use for use in record.entries if use.state == EXPIRED]
    if expired:
        recorded = sum(use.matched for use in expired)
        lines.append(f"{name}: {paint('warning:', YELLOW, color)} {len(expired)} baseline "
                     f"entr{'y' if len(expired) == 1 else 'ies'} expired (the last on "
                     f"{_one_line(max(use.expires for use in expired))}): {recorded} "
                     "finding(s) they recorded count again")
    stale = record.count(STALE)
    if stale:
        lines.append(f"{name}: note: {stale} baseline entr{'y' if stale == 1 else 'ies'} "
                     "matched nothing (stale): the findings are gone; remove the entries, "
                     "or write the baseline again")
    return lines


def _existing_lines(report: Report) -> list[str]:
    """gate diff: the existing findings left out of the list, counted per policy."""
    change = report.change
    if change is None or change.existing_listed or not change.existing:
        return []
    total = sum(change.existing.values())
    return [f"note: {total} existing finding(s) the change did not add are not listed "
            "(--show-existing lists them):",
            *(f"  {_one_line(policy)}: {count}" for policy, count in change.existing.items())]


def release_lines(release: ReleaseEvidence) -> list[str]:
    """gate release verify: where the certifying environment ran each production version."""
    lines = [_one_line(f"Release {release.tag} ({release.commit[:12]}): certification in "
                       f"{release.certified_in}: {release.rule}"),
             _one_line(f"Microservice identity: {release.microservice_rule}")]
    for row in release.rows:
        verdict = (f"certified ({release.certified_in} at {row.certified_at})"
                   if row.certified_at else f"NOT certified ({release.certified_in} never ran it)")
        lines.append("  " + _one_line(f"{row.microservice} in {row.environment}: {row.version} "
                                      f"({row.file}:{row.line}): {verdict}"))
    if not release.rows:
        lines.append("  no production version to certify")
    lines.extend("  " + _one_line(f"unread: {item}") for item in release.unread)
    return lines


def _evidence_lines(report: Report) -> list[str]:
    """What change policies recorded (the change tickets, say), for the CI log."""
    if report.audit is None:
        return []
    return [
        f"{_one_line(e.label)}"
        f"{f' ({_one_line(e.environment)})' if e.environment else ''}: "
        f"{', '.join(_one_line(value) for value in e.values)} [{_one_line(e.policy)}]"
        for e in report.audit.evidence
    ]


def _change_lines(report: Report, verbose: bool) -> list[str]:
    change = report.change
    if change is None:
        return []
    lines: list[str] = []
    for resource in change.deleted:
        where = resource.rendered_by or f"{resource.file}:{resource.line}"
        env = f" ({resource.environment})" if resource.environment else ""
        lines.append(_one_line(f"{where}: note: this change deletes {resource.identity()}{env}"))
    lines.extend(_one_line(f"note: {note}") for note in change.notes)
    lines.extend(_one_line(f"rollback: {rollback_text(record)}") for record in change.rollbacks)
    if verbose:
        lines.extend(
            _one_line(f"changed: {f.status} {f.old_path + ' -> ' if f.old_path else ''}{f.path}")
            for f in change.files)
        lines.extend(_one_line(commit_line(record)) for record in change.commit_log)
    return lines


def commit_line(record: CommitRecord) -> str:
    """One commit of the change log: ``commit <sha12> <author> <date> [committed by ...]
    signature <status> [by <signer>, key <key>] [tickets ...]: <subject>``."""
    signature = record.signature
    text = f"commit {record.sha[:12]} {record.author} {record.authored_at}"
    if (record.committer, record.committed_at) != (record.author, record.authored_at):
        text += f", committed by {record.committer} {record.committed_at}"
    text += f"; signature {signature.status}"
    if signature.signer or signature.key:
        text += f" by {signature.signer or '?'}"
        if signature.key:
            text += f", key {signature.fingerprint or signature.key}"
    if record.tickets:
        text += f"; tickets {', '.join(record.tickets)}"
    return f"{text}: {record.subject}"


def _error_lines(report: Report, color: bool) -> list[str]:
    lines = []
    for error in report.errors:
        where = _one_line(f"{error.file}:{error.line}" if error.line else error.file)
        lines.append(f"{where}: {paint('error:', RED, color)} {_one_line(error.message)}")
    return lines


def _unjudged(item: Unjudged, color: bool) -> str:
    """``helm-chart: not judged: Helm chart not rendered: <reason>``."""
    where = _one_line(item.file) or "(no path)"
    return f"{where}: {paint('not judged:', YELLOW, color)} {_one_line(item.describe())}"


def summary_lines(report: Report, color: bool) -> list[str]:
    """Input errors, what was not judged and the summary line, for when every report
    went to a file: the terminal still says what nobody looked at."""
    return [*_error_lines(report, color), *(_unjudged(item, color) for item in report.unjudged),
            _summary(report, color)]


def _summary(report: Report, color: bool) -> str:
    verdict = report.verdict.upper()
    verdict_text = paint(verdict, GREEN if verdict == "PASS" else RED, color)
    parts = [f"{report.count(FAIL)} blocking", f"{report.count(WARN)} warning(s)",
             f"{report.count(PASS)} passed"]
    if report.count(OVERRIDDEN):
        parts.append(f"{report.count(OVERRIDDEN)} overridden")
    if report.count(WAIVED):
        parts.append(f"{report.count(WAIVED)} waived")
    if report.count(BASELINED):
        parts.append(f"{report.count(BASELINED)} baselined")
    if report.count(SKIP):
        parts.append(f"{report.count(SKIP)} not applicable")
    if report.errors:
        parts.append(f"{len(report.errors)} input error(s)")
    if report.unjudged:
        parts.append(f"{len(report.unjudged)} not judged")
    if report.change is not None:
        new = sum(1 for r in report.results if r.new and r.status in (FAIL, WARN))
        parts.insert(0, f"{new} new finding(s)")
        if not report.change.existing_listed and report.change.existing:
            parts.append(f"{sum(report.change.existing.values())} existing not listed")
    scope = f"{report.resource_count} resource(s), {len(report.policies)} policies"
    if report.change is not None:
        scope += f", {len(report.change.files)} changed file(s)"
    if report.notes:
        scope += f", {len(report.notes)} document(s) skipped (-v lists them)"
    return f"gate: {verdict_text}: {', '.join(parts)} ({scope})"
