"""Markdown text: a hostile value made inert, and the cells and rows of a table.

Every value that comes from a manifest, a message or a waiver is hostile: ``escape`` puts
it on one line, caps its length in the comment form (gate/reports/markdown_comment.py)
and escapes it, so it can never end a table cell or row, close a ``<details>``, forge a
link or an image, start a heading, mention a user or team, or become a bare
``http://`` / ``www.`` autolink. No untrusted value goes into a code span: only hex
digests do, once checked to be hex (``sha``).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from gate.reports._escape import one_line, shorten
from gate.reports.audit import location, subject
from gate.results import Result

CELL_LIMIT = 300  # characters of one untrusted value, before escaping
# Whether the report being rendered is the comment form: values, lists and tables are
# shortened only then. Set by ``shortened`` for the time the comment form renders.
_SHORTENED: ContextVar[bool] = ContextVar("markdown_shortened", default=False)
# Markdown punctuation that could start markup, each written with a backslash;
# ``&``, ``<``, ``>`` and ``@`` become character references (``&#64;`` because a
# backslash does not stop a mention). One ``str.translate`` pass does it all, so
# nothing is escaped twice.
_ESCAPES = str.maketrans(
    {
        **{char: "\\" + char for char in "\\`*_[]()!#|~"},
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "@": "&#64;",
    }
)
# GFM also links bare ``scheme://`` and ``www.`` text; a backslash before the ``:`` or
# the ``.`` keeps them plain text.
_BARE_LINK = re.compile(r"://|www\.", re.IGNORECASE)


def escape(value: object, limit: int = CELL_LIMIT) -> str:
    """``value`` as inert Markdown text, on one line; in the comment form at most ``limit``
    characters long."""
    text = one_line(str(value))
    if _SHORTENED.get():
        text = shorten(text, limit)
    return _BARE_LINK.sub(_unlink, text.translate(_ESCAPES))


def capped(limit: int) -> int | None:
    """``limit`` in the comment form; no limit (None) in the whole report."""
    return limit if _SHORTENED.get() else None


def _unlink(match: re.Match[str]) -> str:
    """``\\://`` for ``://``, ``www\\.`` for ``www.`` (in its own case)."""
    found = match[0]
    return "\\://" if found == "://" else found[:3] + "\\."


@contextmanager
def shortened() -> Iterator[None]:
    """Within it, the report rendered is the comment form: values capped, lists cut."""
    token = _SHORTENED.set(True)
    try:
        yield
    finally:
        _SHORTENED.reset(token)


_SHA = re.compile(r"[0-9a-f]{7,64}")


def sha(digest: str) -> str:
    """A hex digest in a code span; anything else (e.g. ``unreadable``) as escaped text."""
    return f"`{digest}`" if _SHA.fullmatch(digest) else escape(digest)


def table_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def place(file: str, line: int | None) -> str:
    """``file:line`` as escaped text, or ``—`` without a file."""
    return escape(location(file, line) or "—")


def resource(result: Result) -> str:
    return escape(subject(result))


def plural(count: int, singular: str, plural: str | None = None) -> str:
    return singular if count == 1 else (plural or singular + "s")
