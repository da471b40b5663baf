"""Starting processes from tests: one runner for every program (git, gate, bash, pip...),
and the guard that keeps them out of the fast tier.

A test that starts a process is marked ``e2e`` (pyproject.toml); ``python -m pytest -m
"not e2e"`` is the fast tier. tests/conftest.py runs every other test under
``processes_forbidden``, so a test that starts a process without the mark fails, saying
so, instead of slowing the fast tier down unnoticed.
"""
from __future__ import annotations

import _posixsubprocess
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

TIMEOUT = 60  # seconds; a hang fails the test instead of blocking CI
# Variables of the caller's environment that would change gate's output.
SCRUBBED = ("NO_COLOR", "FORCE_COLOR", "GATE_DEBUG", "TERM")

Argument = str | os.PathLike[str]


def run(argv: Sequence[Argument], *, cwd: Argument | None = None,
        env: Mapping[str, str] | None = None, input: str | None = None,
        timeout: float = TIMEOUT, before_exec: Callable[[], None] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    """``argv`` run to its end, its output captured as text (UTF-8, undecodable bytes
    replaced). Stdin is empty unless ``input`` is given; ``env``, when given, is the whole
    environment; ``before_exec`` runs in the child (a limit on its memory, say); the exit
    status is the caller's to judge."""
    return subprocess.run(
        [os.fspath(a) for a in argv], cwd=cwd, input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        env=None if env is None else dict(env), capture_output=True, text=True,
        encoding="utf-8", errors="replace", timeout=timeout, check=False,
        preexec_fn=before_exec)


def run_binary(argv: Sequence[Argument], *, cwd: Argument | None = None,
               env: Mapping[str, str] | None = None, input: bytes | None = None,
               timeout: float = TIMEOUT) -> subprocess.CompletedProcess[bytes]:
    """As :func:`run`, with bytes in and out (git's paths and contents are bytes)."""
    return subprocess.run(
        [os.fspath(a) for a in argv], cwd=cwd, input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        env=None if env is None else dict(env), capture_output=True, timeout=timeout,
        check=False)


def output_of(argv: Sequence[Argument], *, cwd: Argument | None = None,
              env: Mapping[str, str] | None = None, timeout: float = TIMEOUT) -> str:
    """The standard output of ``argv``, which must succeed (else the test fails with its
    standard error)."""
    done = run(argv, cwd=cwd, env=env, timeout=timeout)
    command = " ".join(os.fspath(a) for a in argv)
    assert done.returncode == 0, f"{command}: exit {done.returncode}: {done.stderr}"
    return done.stdout


def check_jsonschema(schema: str, path: Argument) -> subprocess.CompletedProcess[str]:
    """``check-jsonschema --builtin-schema SCHEMA PATH``: a schema vendored in the installed
    check-jsonschema package, so no network (the test skips without the package)."""
    pytest.importorskip("check_jsonschema")
    return run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, path],
               timeout=120)


def gate_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the variables that change gate's output, plus
    ``env``."""
    environment = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    environment.update(env or {})
    return environment


def gate_process(
    *args: Argument,
    cwd: Argument | None = None,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m gate ARGS`` with text output; stdin is empty unless ``input`` is given."""
    return run([sys.executable, "-m", "gate", *args], cwd=cwd, input=input,
               env=gate_environment(env))


class ProcessInFastTier(AssertionError):
    """A test not marked ``e2e`` started a process."""


# Every way a process starts: subprocess (and os.popen, asyncio) fork-exec or
# posix_spawn; multiprocessing's spawn and forkserver fork-exec through _posixsubprocess;
# a fork (gate's own workers, gate/evaluation/parallel.py; multiprocessing's fork; pty); os.system.
_STARTERS: tuple[tuple[Any, str], ...] = (
    (_posixsubprocess, "fork_exec"), (subprocess, "_fork_exec"), (os, "posix_spawn"),
    (os, "posix_spawnp"), (os, "fork"), (os, "forkpty"), (os, "system"),
)


@contextmanager
def processes_forbidden(test: str) -> Iterator[list[str]]:
    """Within: starting a process raises ProcessInFastTier. Yields the list of the starts
    refused, so that a caller sees one even if the code under test caught the error."""
    refused: list[str] = []

    def refuse(name: str) -> Callable[..., Any]:
        def refused_start(*args: Any, **kwargs: Any) -> Any:
            program = _program(args)
            refused.append(f"{name}({program})" if program else name)
            raise ProcessInFastTier(
                f"{test} starts a process ({refused[-1]}) but is not marked e2e: mark it "
                "@pytest.mark.e2e, or run the CLI in this process (fixture gate_cli)")
        return refused_start

    saved = [(owner, name, getattr(owner, name)) for owner, name in _STARTERS
             if hasattr(owner, name)]
    for owner, name, _ in saved:
        setattr(owner, name, refuse(f"{owner.__name__}.{name}"))
    try:
        yield refused
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _program(args: tuple[Any, ...]) -> str:
    # fork_exec's first argument is the argument list; posix_spawn's second; system's
    # first is the command line.
    for value in args[:2]:
        if isinstance(value, str):
            return value.split()[0] if value.split() else value
        if isinstance(value, (list, tuple)) and value:
            first = value[0]
            return os.fsdecode(first) if isinstance(first, (str, bytes)) else ""
    return ""
