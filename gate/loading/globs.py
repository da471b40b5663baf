"""Glob patterns for names and file paths (``**`` spans directories in paths)."""
from __future__ import annotations

import fnmatch
import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def path_regex(pattern: str) -> re.Pattern[str]:
    """Compile a path glob: ``*`` and ``?`` stay within one directory, ``**`` spans any."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
                i += 1
            else:
                body = pattern[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out) + r"\Z")


def match_path(pattern: str, path: str) -> bool:
    return path_regex(pattern.removeprefix("./")).match(path.removeprefix("./")) is not None


def match_name(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)
