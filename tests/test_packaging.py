"""A built wheel ships every package under gate/ and the built-in pack's policy files.

``pyproject.toml`` finds the packages (``include = ["gate*"]``) instead of listing them, so
a new subpackage cannot be left out the way gate.governance.releases once was; this builds a real
wheel, offline, from a copy of the sources and reads what it holds.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GATE = ROOT / "gate"
PACK = GATE / "policies"
SOURCES = ("gate", "pyproject.toml", "README.md", "LICENSE")


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file names in a wheel of gate built from a copy of its sources (pip builds in
    the source folder: the copy keeps build/ and *.egg-info out of the repository)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: setuptools comes from this environment (the test extras), as
    # there is no network to fetch it.
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out), str(source)],
        capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    [wheel] = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.e2e
def test_every_package_under_gate_is_in_the_wheel(wheel_files: set[str]) -> None:
    packages = [path.parent.relative_to(ROOT) for path in GATE.rglob("__init__.py")]
    assert len(packages) > 5
    missing = [str(p) for p in packages if f"{p.as_posix()}/__init__.py" not in wheel_files]
    assert not missing, f"packages missing from the wheel: {missing}"
    modules = [path.relative_to(ROOT).as_posix() for path in GATE.rglob("*.py")
               if "__pycache__" not in path.parts]
    assert sorted(set(modules) - wheel_files) == []
    schemas = [path.relative_to(ROOT).as_posix() for path in (GATE / "schemas").glob("*.json")]
    assert schemas and sorted(set(schemas) - wheel_files) == []


@pytest.mark.e2e
def test_the_wheel_ships_each_policy_file_and_no_test_case(wheel_files: set[str]) -> None:
    """``gate/policies/<id>/<id>.yaml`` for every policy folder, and nothing else of the
    pack: its gate test files and cases are the repository's tests, like tests/."""
    expected = {f"gate/policies/{folder.name}/{folder.name}.yaml"
                for folder in PACK.iterdir() if (folder / f"{folder.name}.yaml").is_file()}
    assert len(expected) >= 40
    shipped = {name for name in wheel_files if name.startswith("gate/policies/")}
    assert shipped == expected | {"gate/policies/__init__.py"}
