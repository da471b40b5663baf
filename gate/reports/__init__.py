"""Report formats: one module each, behind one small interface.

The Markdown and HTML formats each have helper modules beside theirs (``markdown_*``,
``html_*``), and share what their sections list and count (``contents``, ``audit``).
Each format module defines ``render(report: Report, options: RenderOptions) -> str``;
one whose reports grow big may also define ``render_chunks`` (same arguments), giving
the text piece by piece, so that a run writes it as it is made.
Modules are imported only when their format is asked for.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from gate.errors import ConfigError
from gate.results import Report

FORMATS: dict[str, str] = {
    "text": "gate.reports.text",
    "json": "gate.reports.json",
    "junit": "gate.reports.junit",
    "markdown": "gate.reports.markdown",
    "markdown-comment": "gate.reports.markdown_comment",
    "html": "gate.reports.html",
    "sarif": "gate.reports.sarif",
    "codequality": "gate.reports.codequality",
    "csv": "gate.reports.csv",
}


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    verbose: bool = False


class Renderer(Protocol):
    def __call__(self, report: Report, options: RenderOptions) -> str: ...


class ChunkRenderer(Protocol):
    def __call__(self, report: Report, options: RenderOptions) -> Iterable[str]: ...


def _module(name: str) -> Any:
    module = FORMATS.get(name)
    if module is None:
        known = ", ".join(sorted(FORMATS))
        raise ConfigError(f"unknown report format {name!r} (known: {known})")
    return importlib.import_module(module)


def chunk_renderer(name: str) -> ChunkRenderer:
    """The format's text in pieces (in one piece for a format without ``render_chunks``)."""
    module = _module(name)
    chunks: ChunkRenderer | None = getattr(module, "render_chunks", None)
    if chunks is not None:
        return chunks
    render: Renderer = module.render
    return lambda report, options: (render(report, options),)
