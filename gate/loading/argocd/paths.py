"""Paths and globs as Argo CD matches them: Go's ``path.Match``, Argo CD's ``glob``,
git pathspecs, and which tree paths a glob covers."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from functools import lru_cache

from gate.loading.globs import match_path
from gate.loading.trees import FileTree

_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json", ".jsonnet")
_GLOB_CHARS = frozenset("*?[")


def covers(pattern: str, path: str) -> bool:
    """Whether a path glob names ``path`` or a directory holding it.

    ``**`` spans directories (:func:`gate.loading.globs.match_path`); ``dir/**`` also names
    ``dir`` itself, so a rendered overlay directory is covered like its files.
    """
    pattern = pattern.removeprefix("./").rstrip("/") or "**"
    if pattern.endswith("/**") and match_path(pattern[:-3], path):
        return True
    candidate = path
    while True:
        if match_path(pattern, candidate):
            return True
        if not candidate:
            return False
        candidate = posixpath.dirname(candidate)
        if not candidate:
            return False


def has_glob(text: str) -> bool:
    return any(char in _GLOB_CHARS for char in text)


def self_and_parents(path: str) -> Iterator[str]:
    """``a/b/c``, ``a/b``, ``a``, ``""``."""
    while True:
        yield path
        if not path:
            return
        path = posixpath.dirname(path)


@lru_cache(maxsize=512)
def _glob_regex(pattern: str, any_char: str, braces: bool) -> re.Pattern[str] | None:
    """A glob as a regex; ``any_char`` is what ``*``/``?`` may match; None if malformed."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(f"{any_char}*")
        elif char == "?":
            out.append(any_char)
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                return None
            body = pattern[i + 1:end]
            if body[0] in "!^":
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif braces and char == "{":
            depth += 1
            out.append("(?:")
        elif braces and char == "}" and depth:
            depth -= 1
            out.append(")")
        elif braces and char == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    if depth:
        return None
    return re.compile("".join(out) + r"\Z", re.S)


def go_path_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match``: ``*`` and ``?`` stay within one directory."""
    regex = _glob_regex(pattern, "[^/]", False)
    return regex is not None and regex.match(name) is not None


def glob_match_any(pattern: str, text: str) -> bool:
    """Argo CD's ``glob.Match`` without separators: ``*`` spans directories, ``{a,b}``."""
    regex = _glob_regex(pattern, ".", True)
    return regex is not None and regex.match(text) is not None


def git_pathspec_match(pattern: str, path: str) -> bool:
    """``git ls-files -- PATTERN`` (Argo CD's default file globbing): ``*`` spans ``/``."""
    pattern = pattern.lstrip("/")
    if not has_glob(pattern):
        return path == pattern or path.startswith(pattern.rstrip("/") + "/")
    regex = _glob_regex(pattern, ".", False)
    return regex is not None and regex.match(path) is not None


def doublestar_match(pattern: str, path: str) -> bool:
    """``--enable-new-git-file-globbing``: ``*`` within a directory, ``**`` across."""
    return match_path(pattern.lstrip("/"), path)


def expand_glob(tree: FileTree, pattern: str) -> list[str]:
    """Files matching a glob whose ``*``, ``?`` and ``[...]`` stay within one directory."""
    current = [""]
    for part in pattern.split("/"):
        following: list[str] = []
        for directory in current:
            prefix = f"{directory}/" if directory else ""
            if not has_glob(part):
                following.append(prefix + part)
                continue
            following += [prefix + name for name in tree.list_dir(directory)
                          if go_path_match(part, name)]
        current = following
    return sorted(path for path in current if tree.is_file(path))


def is_manifest_file(path: str) -> bool:
    """Files a directory-type Application reads (``.yaml``, ``.yml``, ``.json``, ``.jsonnet``)."""
    return path.endswith(_MANIFEST_SUFFIXES)
