"""A section of the HTML report, and how the report writes the values in its cells.

Every value from a manifest, a commit, a waiver or the config passes through
:func:`untrusted`: control and bidirectional characters made visible
(gate/reports/_escape.py), on one line, then HTML-escaped, quotes included; no untrusted
value is ever put in an attribute or a URL.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gate.reports._escape import one_line
from gate.reports.audit import location, subject
from gate.reports.html_page import text
from gate.results import BASELINED, FAIL, OVERRIDDEN, PASS, SKIP, WAIVED, WARN, Result

NONE = "—"  # an empty cell, said so

#: Column titles of the tables that count results by status.
STATUS_TITLES = {PASS: "Passed", FAIL: "Blocking", WARN: "Warnings", WAIVED: "Waived",
                  BASELINED: "Baselined", OVERRIDDEN: "Overridden", SKIP: "Skipped"}


@dataclass(frozen=True)
class Section:
    """A heading (``h2``, or ``h3`` inside the change and the audit) with an id, an
    optional introduction and its content (HTML)."""

    id: str  # a fixed word: never a value from the report
    title: str  # trusted text
    content: str = ""
    intro: str = ""  # HTML
    count: int | None = None  # rows, shown in the heading
    level: int = 2
    keep: bool = False  # shown even when empty

    @property
    def shown(self) -> bool:
        return self.keep or bool(self.count)

    def html(self) -> str:
        heading = self.title + (f" ({self.count:,})" if self.count is not None else "")
        intro = f"<p>{self.intro}</p>\n" if self.intro else ""
        return (f'<section id="{self.id}">\n<h{self.level}>{text(heading)}</h{self.level}>\n'
                f"{intro}{self.content}</section>\n")


# -- values ------------------------------------------------------------------------------


def untrusted(value: object) -> str:
    """An untrusted value as HTML text: controls made visible, on one line, escaped."""
    return text(one_line(str(value)))


def mono(value: str) -> str:
    """A sha or digest, in full, in a monospace font (escaped like any value)."""
    return f'<span class="mono">{untrusted(value)}</span>'


def listing(values: Iterable[str]) -> str:
    return ", ".join(untrusted(value) for value in values) or NONE


def place(file: str, line: int | None) -> str:
    return untrusted(location(file, line) or NONE)


def where(result: Result) -> str:
    return place(result.location_file, result.location_line)


def resource(result: Result) -> str:
    return untrusted(subject(result))


def quantity(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"
