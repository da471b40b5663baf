"""Shared fixtures: the real CLI in a subprocess or in this process, the repository; and
the fast tier's guard: a test not marked e2e may not start a process (tests/processes.py)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING

# Two libraries start a process when first imported: GitPython tries `git version` (gate.git
# points it at a program that does not exist, but it forks all the same) and croniter asks
# platform.architecture(), which runs `file`. Imported here, before any test, so that the
# test that happens to import them first does not start a process.
import croniter  # noqa: F401
import pytest

import gate.git.runner  # noqa: F401
from tests.processes import SCRUBBED, gate_process, processes_forbidden

if TYPE_CHECKING:
    from tests.wheelhouse import Wheelhouse

REPO_ROOT = Path(__file__).resolve().parents[1]

RunGate = Callable[..., "subprocess.CompletedProcess[str]"]


def _forbidding_processes(item: pytest.Item) -> Iterator[None]:
    """A phase of a test not marked e2e, with processes forbidden (tests/processes.py):
    fails the test if it started one, even if the code under test caught the error."""
    if item.get_closest_marker("e2e") is not None:
        yield
        return
    with processes_forbidden(item.nodeid) as refused:
        yield
    if refused:
        pytest.fail(f"{item.nodeid} starts a process ({refused[0]}) but is not marked e2e",
                    pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _forbidding_processes(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _forbidding_processes(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    return (yield from _forbidding_processes(item))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def run_gate() -> RunGate:
    """``run_gate(*args, cwd=None, input=None, env=None)`` -> CompletedProcess[str]."""
    return gate_process


@contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    for name in SCRUBBED:
        os.environ.pop(name, None)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def gate_in_process(
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``gate ARGS`` run by ``gate.main.main`` in this process, a tenth of the cost of a
    subprocess: for tests of what gate reports, not of how it starts or exits."""
    from gate.main import main

    argv = [os.fspath(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO((input or "").encode("utf-8")), encoding="utf-8")
    saved_cwd, saved_stdin = os.getcwd(), sys.stdin
    try:
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = stdin
        with _environment(env), redirect_stdout(out), redirect_stderr(err):
            code = main(argv)
    finally:
        os.chdir(saved_cwd)
        sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["gate", *argv], code, out.getvalue(), err.getvalue())


@pytest.fixture
def gate_cli() -> RunGate:
    """``gate_cli(*args, cwd=None, input=None, env=None)``: the CLI in this process."""
    return gate_in_process


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Wheelhouse:
    """A folder of wheels of gate's dependencies and build requirements, made from this
    environment's packages: the package index of tests that install gate offline, in
    environments that see nothing of the base interpreter's packages (tests/wheelhouse.py)."""
    from tests import wheelhouse as packages

    return packages.build(tmp_path_factory.mktemp("wheelhouse"))
