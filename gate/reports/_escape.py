"""Cleaning of untrusted text shared by the report formats.

Everything a report shows may come from a manifest someone else wrote: names,
namespaces, file paths, messages quoting field values. These helpers make such
text safe to embed; each format adds its own escaping on top.
"""
from __future__ import annotations

import re

# Characters XML 1.0 does not allow anywhere (not even as character references):
# C0 controls other than TAB, LF and CR, the non-characters U+FFFE and U+FFFF, and
# surrogate code points (a Python str only holds them unpaired, e.g. from
# ``surrogateescape`` decoding). Markdown gets the same treatment: a NUL or a stray
# escape sequence has no business in a pull-request comment either.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\t\x85\u2028\u2029]")


def strip_illegal(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _ILLEGAL.sub("", text)


def one_line(text: str) -> str:
    """``text`` on one line: every line break or tab becomes a space, illegal characters go."""
    return strip_illegal(_LINE_BREAKS.sub(" ", text))


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"
