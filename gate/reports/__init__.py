"""Report formats: one module each, behind one small interface.

Each format module defines ``render(report: Report, options: RenderOptions) -> str``.
Modules are imported only when their format is asked for.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

from gate.errors import ConfigError
from gate.results import Report

FORMATS: dict[str, str] = {
    "text": "gate.reports.text",
    "json": "gate.reports.json",
    "junit": "gate.reports.junit",
    "markdown": "gate.reports.markdown",
    "sarif": "gate.reports.sarif",
}


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    verbose: bool = False


class Renderer(Protocol):
    def __call__(self, report: Report, options: RenderOptions) -> str: ...


def renderer(name: str) -> Renderer:
    module = FORMATS.get(name)
    if module is None:
        known = ", ".join(sorted(FORMATS))
        raise ConfigError(f"unknown report format {name!r} (known: {known})")
    render: Renderer = importlib.import_module(module).render
    return render
