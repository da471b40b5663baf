"""Where policies are read: the policy files of a directory (of the working tree or
another rule source), one file, and the built-in pack.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from importlib import resources as importlib_resources

from gate.errors import PolicyError
from gate.evaluation.policy import Policy
from gate.evaluation.policy_compile import load_policy_text
from gate.loading.yamlio import YamlInputError, decode
from gate.rulesource import RuleSource, disk

BUILTIN_PREFIX = "builtin:"


def policy_files(directory: str, source: RuleSource | None = None) -> list[str]:
    """The ``*.yaml``/``*.yml`` files under a directory of ``source`` (the working tree by
    default), or the file itself when ``directory`` is a file, in ``os.walk`` order: a
    directory's files by name, then its subdirectories by name; hidden and linked
    subdirectories are not entered."""
    files = source or disk()
    if files.is_file(directory):
        return [directory]  # --policies FILE: that file alone, whatever its suffix
    found: list[str] = []

    def walk(current: str) -> None:
        subdirs: list[str] = []
        for name in files.list_dir(current):
            path = os.path.join(current, name)
            if files.is_dir(path):
                if not name.startswith(".") and not files.is_link(path):
                    subdirs.append(path)
            elif name.endswith((".yaml", ".yml")):
                found.append(path)
        for subdir in subdirs:
            walk(subdir)

    walk(directory)
    return found


def load_directory(directory: str, source: RuleSource | None = None) -> list[Policy]:
    """Every policy under a directory of ``source`` (the working tree by default), or in
    one file."""
    files = source or disk()
    if not files.is_dir(directory) and not files.is_file(directory):
        raise PolicyError(f"policy file or directory not found: {directory}")
    policies: list[Policy] = []
    for path in policy_files(directory, files):
        name = files.name(path)
        try:
            raw = files.read_bytes(path)
        except OSError as exc:
            raise PolicyError(f"cannot read: {exc.strerror or exc}", name) from None
        try:
            text = decode(raw, name)
        except YamlInputError as exc:
            raise PolicyError(exc.message, exc.file, exc.line) from None
        policies.extend(load_policy_text(text, name))
    return policies


def builtin_files() -> Iterator[tuple[str, str]]:
    """(display name, text) of each built-in policy file, in name order.

    The pack keeps each policy in a folder of its own, ``<id>/<id>.yaml``, beside its
    ``gate test`` cases; the display name stays ``builtin:<id>.yaml``, as reports and the
    audit's fingerprints have always named it."""
    package = importlib_resources.files("gate.policies")
    folders = [entry for entry in package.iterdir()
               if entry.is_dir() and not entry.name.startswith(("_", "."))]
    files = []
    for folder in folders:
        policy_file = folder.joinpath(folder.name + ".yaml")
        if not policy_file.is_file():
            raise PolicyError(f"built-in policy folder {folder.name}/ holds no "
                              f"{folder.name}.yaml")
        files.append(policy_file)
    for entry in sorted(files, key=lambda entry: entry.name):
        yield BUILTIN_PREFIX + entry.name, entry.read_text(encoding="utf-8")


def load_builtin() -> list[Policy]:
    """The built-in pack. Compiled once per process: a loaded policy is never changed in
    place (configuring one makes a copy, ``Policy.configured``), so every run of the
    process (``gate_cli`` in the tests, say) can share the compiled pack."""
    return list(_compiled_builtin())


@cache
def _compiled_builtin() -> tuple[Policy, ...]:
    policies: list[Policy] = []
    for name, text in builtin_files():
        policies.extend(load_policy_text(text, name, trusted=True))
    return tuple(policies)


@cache
def builtin_by_id() -> dict[str, Policy]:
    """The built-in pack, for ``extends:`` of a built-in policy the run does not load."""
    return {policy.id: policy for policy in load_builtin()}
