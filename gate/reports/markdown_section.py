"""A Markdown report as sections: tables of rows under a heading, and the document.

A section is a table of rows already made Markdown (gate/reports/markdown_text.py),
under a heading or folded in ``<details>``; it shows as many of its rows as it is told
and says how many it left out, so that the comment form (gate/reports/markdown_comment.py)
can drop rows and every section still says what is missing.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from gate.results import BASELINED, FAIL, OVERRIDDEN, PASS, WAIVED, WARN

SEE_ALSO = "see the whole Markdown, HTML or JSON report"
#: Column titles of the tables that count results by status.
STATUS_COLUMNS = {PASS: "✅ Pass", FAIL: "❌ Fail", WARN: "⚠️ Warn", WAIVED: "Waived",
                  BASELINED: "Baselined", OVERRIDDEN: "🚨 Overridden"}


@dataclass(frozen=True)
class Section:
    """A table of pre-rendered rows, under a heading or folded in ``<details>``."""

    key: str
    title: str  # a heading, or the <summary> text when folded; trusted text only
    columns: tuple[str, ...]
    rows: tuple[str, ...]
    noun: str  # plural, for "… 12 more <noun> not shown"
    folded: bool = False
    intro: str = ""
    keep: bool = False  # shown (title and intro) even without rows

    def lines(self, shown: int) -> list[str]:
        body = self._intro() + self._table(shown) + self._omitted(shown)
        if not self.folded:
            return [self.title, "", *body]
        return [f"<details><summary>{self.title}</summary>", "", *body, "</details>", ""]

    def _intro(self) -> list[str]:
        return [self.intro, ""] if self.intro else []

    def _table(self, shown: int) -> list[str]:
        if shown <= 0:
            return []
        header = "| " + " | ".join(self.columns) + " |"
        rule = "|" + "|".join("---" for _ in self.columns) + "|"
        return [header, rule, *self.rows[:shown], ""]

    def _omitted(self, shown: int) -> list[str]:
        left_out = len(self.rows) - shown
        if left_out <= 0:
            return []
        more = "more " if shown else ""
        return [f"… {left_out:,} {more}{self.noun} not shown; {SEE_ALSO}.", ""]


def with_count(section: Section) -> Section:
    return replace(section, title=f"{section.title} ({len(section.rows):,})")


def document(head: list[str], sections: Sequence[Section], shown: dict[str, int]) -> str:
    """The report: ``head``, then each section with the first ``shown[key]`` rows."""
    lines = list(head)
    for section in sections:
        lines += section.lines(shown[section.key])
    return "\n".join(lines).rstrip("\n") + "\n"
