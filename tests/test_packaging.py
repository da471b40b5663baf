"""The package lists every subpackage, so a wheel ships all of gate, not only an editable tree."""
from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = None

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_every_subpackage_is_packaged() -> None:
    assert tomllib is not None
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packaged = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "gate").rglob("__init__.py")
    }
    assert on_disk <= packaged, f"not packaged: {sorted(on_disk - packaged)}"
    assert "gate.policies" in packaged  # the built-in pack, from policies/
