"""Whether human-entered text says anything a human can see.

A waiver's ``reason``, an override's reason: text someone must have written. A
value made only of spaces, zero-width characters (U+200B..U+200D, U+2060,
U+FEFF), other format or control characters looks empty on every screen that
shows it, so it is empty; ``str.strip`` alone misses most of them.
"""
from __future__ import annotations

import unicodedata

# Separators (Zs, Zl, Zp) and "other" characters: controls (Cc), format characters
# (Cf: zero-width spaces and joiners, the byte-order mark, bidi controls, tags),
# surrogates, private use and unassigned code points (Cs, Co, Cn): none is a glyph.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"})
# Letters, marks and symbols that render as nothing: the Hangul fillers, the blank
# Braille pattern, the combining grapheme joiner and the variation selectors.
_INVISIBLE = frozenset(
    {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f"}
    | {chr(c) for c in range(0xFE00, 0xFE10)}
    | {chr(c) for c in range(0xE0100, 0xE01F0)}
)


def invisible(char: str) -> bool:
    """Whether one character shows nothing by itself."""
    return (char in _INVISIBLE or char.isspace()
            or unicodedata.category(char) in _INVISIBLE_CATEGORIES)


def blank(text: str) -> bool:
    """Whether ``text`` has no visible character (empty, or invisible characters only)."""
    return all(invisible(char) for char in text)

