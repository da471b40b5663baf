"""``exclude:`` in ``.gate.yaml``: repository paths no run reads, each listed as not judged.

A glob names a path, or a directory holding it (``vendor`` and ``vendor/**`` both name
``vendor/a.yaml``), with the syntax of the config's other path globs
(:func:`gate.loading.argocd.paths.covers`,
:func:`gate.loading.environments.glob_problem`): relative to the repository root,
``*`` and ``?`` within one directory, ``**`` across any number.
Planning (gate/loading/planning.py) leaves out the files, overlays and charts an exclusion
names, in ``gate check`` and on both sides of ``gate diff``, and says so in the
reports' "not judged" section; what an overlay that is not excluded renders is judged
whole, wherever its files are.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gate.errors import ConfigError
from gate.loading.argocd.paths import covers


@dataclass(frozen=True)
class Exclusions:
    """The config's ``exclude`` globs, in order, with where each was written."""

    patterns: tuple[str, ...] = ()
    file: str | None = None
    lines: tuple[int | None, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def pattern_for(self, path: str) -> str | None:
        """The first glob naming ``path`` (a tree path, file or directory), or None."""
        return next((pattern for pattern in self.patterns if covers(pattern, path)), None)

    def reason(self, pattern: str) -> str:
        """``matches exclude 'vendor/**' (.gate.yaml:7)``."""
        where = ""
        if self.file is not None:
            line = self.lines[self.patterns.index(pattern)]
            where = f" ({self.file}:{line})" if line else f" ({self.file})"
        return f"matches exclude {pattern!r}{where}"


def parse_exclude(value: Any, file: str | None,
                  line_of: Callable[..., int | None]) -> Exclusions:
    """``exclude`` of a config file (the schema checked it is a list of strings); a
    ConfigError naming the line of a glob that cannot be used."""
    from gate.loading.environments import glob_problem

    patterns: list[str] = []
    lines: list[int | None] = []
    for position, pattern in enumerate(value or []):
        problem = glob_problem(pattern)
        if problem is not None:
            raise ConfigError(f"exclude[{position}]: {problem}", file,
                              line_of("exclude", position))
        normalized = pattern.removeprefix("./").rstrip("/")
        if normalized in ("", "**", "*"):
            raise ConfigError(f"exclude[{position}]: {pattern!r} names the whole repository; "
                              "gate would judge nothing", file, line_of("exclude", position))
        patterns.append(normalized)
        lines.append(line_of("exclude", position))
    return Exclusions(tuple(patterns), file, tuple(lines))
