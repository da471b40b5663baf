"""The fast tier's guard (tests/processes.py, tests/conftest.py): a test not marked e2e
that starts a process fails, saying so."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.processes import ProcessInFastTier, processes_forbidden, run


def test_every_way_of_starting_a_process_is_refused_and_recorded() -> None:
    with processes_forbidden("tests/x.py::test_y") as refused:
        with pytest.raises(ProcessInFastTier, match=r"^tests/x\.py::test_y starts a process "
                           r"\(subprocess\._fork_exec\(true\)\) but is not marked e2e"):
            subprocess.run(["true"], check=False)
        with pytest.raises(ProcessInFastTier):
            os.fork()
        with pytest.raises(ProcessInFastTier):
            os.system("true")
    assert refused == ["subprocess._fork_exec(true)", "os.fork", "os.system(true)"]


UNDER_GUARD = '''\
import subprocess

import pytest


def test_unmarked():
    subprocess.run(["true"], check=True)


def test_unmarked_that_swallows_the_error():
    try:
        subprocess.run(["true"], check=True)
    except Exception:
        pass


@pytest.mark.e2e
def test_marked():
    subprocess.run(["true"], check=True)
'''


@pytest.mark.e2e
def test_the_suite_fails_an_unmarked_test_that_starts_a_process(tmp_path: Path) -> None:
    (tmp_path / "test_guarded.py").write_text(UNDER_GUARD, encoding="utf-8")
    done = run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
                "-q", "-rN", "--tb=short", "-W", "ignore::pytest.PytestUnknownMarkWarning",
                "--rootdir", tmp_path, tmp_path / "test_guarded.py"], cwd=REPO_ROOT)
    assert "2 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "test_unmarked starts a process (subprocess._fork_exec(true)) but is not " \
           "marked e2e" in done.stdout
    assert "test_unmarked_that_swallows_the_error starts a process" in done.stdout
