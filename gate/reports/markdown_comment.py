"""Markdown report shortened for a pull-request comment or a job summary.

The Markdown report (gate/reports/markdown.py) with its values capped and, when it would
not fit GitHub's comment limit, the least important rows left out (each section says how
many): for text posted where space is limited. A file to keep is ``-f markdown``, never
shortened.

The comment stays shorter than ``MAX_CHARS`` (counted in UTF-16 code units, never fewer
than the characters): when it would be longer, rows are dropped from the least important
sections first (passed checks, skipped documents, warnings, waived results, then blocking
findings, input errors, policies, evidence and waivers, then what was not judged, then
overridden findings, and last the audit's control, override and record tables) and every
section says how many rows it left out; a note under the counts sums them up. The
heading, the verdict with its counts and the override callout always remain.
"""
from __future__ import annotations

from collections.abc import Sequence

from gate.reports import RenderOptions
from gate.reports.markdown import report_head, report_sections
from gate.reports.markdown_section import SEE_ALSO, Section, document
from gate.reports.markdown_text import shortened
from gate.results import Report

# The report is always shorter than this: below GitHub's 65,536-character limit on a
# comment body, with room for a wrapper to add a line or two.
MAX_CHARS = 65_000


def render(report: Report, options: RenderOptions) -> str:
    """The report shortened for a pull-request comment or a job summary: shorter than
    ``MAX_CHARS``, values capped, the least important rows left out first."""
    del options
    with shortened():
        head = report_head(report)
        sections = report_sections(report)
        return _document(head, sections, _fit(head, sections))


# Sections lose rows in this order when the report is too long.
# The small summaries of the audit go last: a few rows that say who overrode what and
# how each control fared outweigh the thousandth overridden finding.
# What was not judged goes after the findings: a few rows that say "nobody looked at
# this chart" outweigh the hundredth finding, and a passing verdict must not hide them.
_DROP_ORDER = ("passed", "notes", "baselined", "inputs", "commits", "change", "deleted", "warnings",
               "waived", "blocking", "errors", "environments", "policies", "existing",
               "evidence", "waivers",
               "unjudged", "overridden", "rollbacks", "controls", "overrides", "audit")


def _fit(head: list[str], sections: Sequence[Section]) -> dict[str, int]:
    """How many rows of each section to show so that the document is short enough."""
    shown = {section.key: len(section.rows) for section in sections}
    for key in _DROP_ORDER:
        # "controls" stands for every "controls:<framework>" section; the last (Other)
        # loses rows first.
        for section_key in reversed([k for k in shown if k.partition(":")[0] == key]):
            if _fits(head, sections, shown):
                return shown
            shown[section_key] = _most_rows(section_key, head, sections, shown)
    return shown


def _most_rows(
    key: str, head: list[str], sections: Sequence[Section], shown: dict[str, int]
) -> int:
    """The most rows of section ``key`` (fewer than now) that fit, or 0: a binary search."""
    low, high = 0, shown[key] - 1
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(head, sections, {**shown, key: middle}):
            low = middle
        else:
            high = middle - 1
    return max(low, 0)


def _fits(head: list[str], sections: Sequence[Section], shown: dict[str, int]) -> bool:
    return _size(_document(head, sections, shown)) < MAX_CHARS


def _size(text: str) -> int:
    """Length in UTF-16 code units, as JavaScript and most APIs count it."""
    return len(text.encode("utf-16-le")) // 2


def _document(head: list[str], sections: Sequence[Section], shown: dict[str, int]) -> str:
    """The comment: the head, what was left out, then the sections."""
    return document([*head, *_truncation_note(sections, shown)], sections, shown)


def _truncation_note(sections: Sequence[Section], shown: dict[str, int]) -> list[str]:
    left_out = [
        f"{len(section.rows) - shown[section.key]:,} {section.noun}"
        for section in sections
        if shown[section.key] < len(section.rows)
    ]
    if not left_out:
        return []
    return [
        f"> ✂️ Shortened to fit {MAX_CHARS:,} characters: {', '.join(left_out)} "
        f"not shown; {SEE_ALSO} for everything.",
        "",
    ]
