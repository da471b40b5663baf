"""Regular expressions in policies and settings, compiled once, with RE2's pitfalls refused.

gate runs Python's ``re``; the peers whose policies people port (Kyverno, OPA
Gatekeeper, Argo CD) run Go's RE2. Most patterns mean the same in both, but some
RE2 syntax is an error in Python, and some is worse: valid in both with another
meaning, so a ported policy would silently judge differently. Those are refused
with a message saying what to write instead, before anything is judged.
"""
from __future__ import annotations

import re
from functools import lru_cache

_FLAG_GROUP = re.compile(r"\(\?([A-Za-z]+)\)")
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")
_ESCAPES = {
    "p": r"\p{...} (a Unicode class) is RE2 syntax Python's re does not have: "
         r"list the characters, e.g. [A-Za-z] for \pL",
    "P": r"\P{...} (a negated Unicode class) is RE2 syntax Python's re does not have: "
         "list the characters instead",
    "Q": r"\Q...\E (quoted text) is RE2 syntax Python's re does not have: escape each "
         r"special character with \ instead",
    "z": r"\z (end of text) is RE2 syntax: write \Z in Python",
    "C": r"\C (any byte) is RE2 syntax Python's re does not have",
}


class RegexError(ValueError):
    """A pattern gate will not run: invalid, or meaning something else than in RE2."""


def re2_difference(pattern: str) -> str | None:
    """Why ``pattern`` would not mean in Python what it means in Go's RE2, or None."""
    position = 0
    in_class = False
    class_start = 0
    only_flags_so_far = True
    while position < len(pattern):
        char = pattern[position]
        if char == "\\" and position + 1 < len(pattern):
            escaped = pattern[position + 1]
            if escaped in _ESCAPES:
                return _ESCAPES[escaped]
            position += 2
            only_flags_so_far = False
            continue
        if in_class:
            posix = _POSIX_CLASS.match(pattern, position)
            if posix is not None:
                return (f"[{posix.group(0)}] is a POSIX class in RE2 but a set of single "
                        f"characters in Python's re: write the characters, e.g. [a-zA-Z] "
                        f"for [[:alpha:]]")
            # ']' closes the class unless it is the class's first character.
            first = position == class_start or (
                position == class_start + 1 and pattern[class_start] == "^")
            if char == "]" and not first:
                in_class = False
            position += 1
            continue
        if char == "[":
            in_class = True
            class_start = position + 1
            position += 1
            only_flags_so_far = False
            continue
        flags = _FLAG_GROUP.match(pattern, position)
        if flags is not None:
            letters = flags.group(1)
            if "U" in letters:
                return ("(?U) makes quantifiers non-greedy in RE2 and is unknown to Python's "
                        "re: write the non-greedy quantifiers (*?, +?) instead")
            if not only_flags_so_far:
                return (f"{flags.group(0)} in the middle of a pattern applies from there on in "
                        f"RE2, but Python's re applies flags to the whole pattern and only at "
                        f"its start: put it first, or scope it with {flags.group(0)[:-1]}:...)")
            position = flags.end()
            continue
        only_flags_so_far = False
        position += 1
    return None


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled; RegexError when it is invalid or differs from RE2."""
    difference = re2_difference(pattern)
    if difference is not None:
        raise RegexError(difference)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise RegexError(str(exc)) from None
    except RecursionError:
        raise RegexError("the pattern is nested too deeply") from None


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used, or None (for schema format checks)."""
    try:
        compile_regex(pattern)
    except RegexError as exc:
        return str(exc)
    return None
