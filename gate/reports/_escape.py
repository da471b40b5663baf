"""Cleaning of untrusted text, shared by the report formats and every line gate prints.

Everything a report or an error shows may come from a manifest or a file name someone
else wrote: names, namespaces, paths, messages quoting field values. One rule, the same
in every output (text, JSON, JUnit, Markdown, SARIF, GitHub annotations, standard error):

- a character that controls a terminal or reorders text is shown as a visible escape
  ``\\uXXXX``: C0 controls (but tab, LF and CR, which a one-line field turns into
  spaces and a multi-line one keeps), DEL,
  C1 controls (U+0080 to U+009F, the 8-bit CSI U+009B among them), the bidirectional
  controls U+061C, U+200E, U+200F, U+202A to U+202E and U+2066 to U+2069, the line and
  paragraph separators U+2028/U+2029, and the non-characters U+FFFE/U+FFFF;
- a byte of a file name that is not UTF-8 (git paths are bytes; gate holds them as
  ``surrogateescape`` strings, U+DC80 to U+DCFF) is shown as ``\\xNN``; any other lone
  surrogate as ``\\uXXXX``.

So nothing in an output can move the cursor, recolour a terminal, fake a line, or make
a name read backwards, and what was there stays visible and deterministic. Each format
adds its own escaping on top (XML, Markdown, JSON, workflow commands).
"""
from __future__ import annotations

import re
from typing import Any

# What ``visible`` escapes: see the module docstring. TAB, LF and CR are kept (a format
# that wants one line turns them into spaces first; the others escape them their way).
UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\t\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, from surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control, bidirectional control and undecodable byte escaped
    visibly; tabs and line breaks (LF, CR) are kept."""
    if text.isascii() and text.isprintable():
        return text  # the common case, quickly
    return UNSAFE.sub(_escape, text)


def strip_illegal(text: str) -> str:
    """``text`` safe to embed in XML 1.0 or JSON: what XML forbids, and every terminal or
    bidirectional control, escaped visibly (see :func:`visible`)."""
    return visible(text)


def one_line(text: str) -> str:
    """``text`` on one line: every line break or tab becomes a space, then :func:`visible`."""
    return visible(_LINE_BREAKS.sub(" ", text))


def words(text: str) -> str:
    """``text`` on one line with runs of white space collapsed, then :func:`visible`."""
    return visible(" ".join(text.split()))


def clean_tree(value: Any) -> Any:
    """A JSON-like value with every string (keys too) passed through :func:`visible`."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {clean_tree(key): clean_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_tree(item) for item in value]
    return value


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"
