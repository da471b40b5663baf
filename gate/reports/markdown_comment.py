"""Markdown report shortened for a pull-request comment or a job summary.

The Markdown report (gate/reports/markdown.py) with its values capped and, when it would
not fit GitHub's comment limit, the least important rows left out (each section says how
many): for text posted where space is limited. A file to keep is ``-f markdown``, never
shortened.
"""
from __future__ import annotations

from gate.reports.markdown import render_comment as render

__all__ = ["render"]
