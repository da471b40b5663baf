"""The code stays ruff- and mypy-clean: CI enforces what pyproject.toml configures."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.processes import run

pytestmark = pytest.mark.e2e  # every test here starts git or the CLI

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_clean() -> None:
    result = run(["ruff", "check", "."], cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_clean() -> None:
    pytest.importorskip("mypy")
    result = run([sys.executable, "-m", "mypy"], cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
