"""Hostile inputs against the bounds of gate/limits.py, through the real CLI.

Each runs ``python -m gate`` in a child process under RLIMIT_AS and a timeout: exceeding
a bound must be an input error naming the file (and line) on one line, exit status 2,
never a traceback, an internal error, a hang or unbounded memory.
"""
from __future__ import annotations

import re
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gate import limits
from tests.gitrepo import GitRepo
from tests.processes import gate_environment, run

MEMORY = 2 * 1024**3  # bytes of address space the child may map
TIMEOUT = 60  # seconds


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_capped(*args: str, cwd: Path, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "gate", *args], cwd=cwd, env=gate_environment(env),
               timeout=TIMEOUT, before_exec=_cap_memory)


def assert_input_error(proc: subprocess.CompletedProcess[str], file: str | None,
                       needle: str) -> None:
    """Exit 2, one error line naming ``file`` (with a line number) and saying ``needle``."""
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output and "internal error" not in output, output
    errors = [line for line in output.splitlines() if ": error: " in line]
    assert errors, output
    if file is None:
        assert any(line.startswith("gate: error: ") and needle in line for line in errors), output
    else:
        pattern = re.compile(rf"^{re.escape(file)}:\d+: error: .*{re.escape(needle)}")
        assert any(pattern.match(line) for line in errors), output


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# -- YAML ------------------------------------------------------------------------------------

YAML_CASES: dict[str, tuple[Callable[[], str], str]] = {
    "documents": (lambda: "---\n" * (limits.MAX_DOCUMENTS_PER_FILE + 5), "YAML documents"),
    "nodes": (lambda: "- a\n" * (limits.MAX_NODES_PER_FILE + 5), "YAML nodes"),
    "flow-nodes": (lambda: "x: [" + "a," * (limits.MAX_NODES_PER_FILE + 5) + "a]\n",
                   "YAML nodes"),
    "huge-integer": (lambda: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                             f"data:\n  x: {'9' * 5000}\n", "an integer of more than"),
    "base-60-integer": (lambda: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                                f"spec:\n  x: 1{':59' * 50000}\n", "an integer of more than"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_yaml_beyond_its_bounds_is_an_input_error(tmp_path: Path, case: str) -> None:
    make, needle = YAML_CASES[case]
    _write(tmp_path, {"hostile.yaml": make()})
    assert_input_error(run_capped("check", "hostile.yaml", cwd=tmp_path), "hostile.yaml",
                       needle)


# -- the release calendar and the evaluation time -----------------------------------------

def _calendar(windows: str) -> str:
    return ("environments:\n  - name: prod\n    paths: ['prod/**']\n"
            f"calendar:\n  windows:\n{windows}")


def _window(name: str, schedule: str, duration: str, kind: str = "deny") -> str:
    return (f"    - name: {name}\n      kind: {kind}\n      schedule: '{schedule}'\n"
            f"      duration: {duration}\n")


CONFIG_CASES = {
    "duration-overflow": (_calendar(_window("w", "0 9 * * 1", "100000000h")), "366 days"),
    "duration-huge-number": (_calendar(_window("w", "0 9 * * 1", "9" * 400 + "h")),
                             "366 days"),
    "too-many-windows": (_calendar("".join(_window(f"w{i}", "0 9 * * 1", "1h")
                                           for i in range(limits.MAX_WINDOWS + 1))),
                         "windows"),
    "freeze-at-year-one": ("calendar:\n  freezes:\n    - name: f\n"
                           "      start: '0001-01-01T00:00:00+01:00'\n"
                           "      end: '2026-01-01T00:00:00Z'\n", "outside the supported range"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_calendar_beyond_its_bounds_is_a_config_error(tmp_path: Path, case: str) -> None:
    config, needle = CONFIG_CASES[case]
    _write(tmp_path, {".gate.yaml": config, "prod/cm.yaml": "apiVersion: v1\nkind: ConfigMap\n"
                                                            "metadata:\n  name: a\n"})
    assert_input_error(run_capped("check", ".", cwd=tmp_path), ".gate.yaml", needle)


@pytest.mark.e2e
@pytest.mark.parametrize("now", [
    "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00",
    "9999-12-31T00:00:00Z", "1969-12-31T23:59:59Z",
])
def test_extreme_now_is_a_clear_error(tmp_path: Path, now: str) -> None:
    _write(tmp_path, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"})
    proc = run_capped("check", "cm.yaml", "--now", now, cwd=tmp_path)
    assert_input_error(proc, None, "outside the supported range")


@pytest.mark.e2e
@pytest.mark.parametrize("epoch", ["9" * 30, "-99999999999", "253402300800"])
def test_extreme_source_date_epoch_is_a_clear_error(tmp_path: Path, epoch: str) -> None:
    _write(tmp_path, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"})
    proc = run_capped("check", "cm.yaml", cwd=tmp_path, env={"SOURCE_DATE_EPOCH": epoch})
    assert_input_error(proc, None, "SOURCE_DATE_EPOCH")


@pytest.mark.e2e
def test_a_calendar_whose_search_is_costly_stops_at_the_cron_bound(tmp_path: Path) -> None:
    # Every minute of the hour denied by overlapping windows, and an allow window that
    # opens once in decades: finding when a change may merge enumerates without end.
    windows = "".join(_window(f"d{i}", f"{i % 60} * * * *", "61m")
                      for i in range(limits.MAX_WINDOWS - 1))
    windows += _window("rare", "0 0 29 2 1", "1m", kind="allow")
    repo = GitRepo.init(tmp_path / "repo")
    repo.write_all({".gate.yaml": _calendar(windows),
                    "prod/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"})
    repo.git("add", "-A")
    repo.git("commit", "-qm", "base")
    repo.write("prod/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "change")
    proc = run_capped("diff", "--base", "HEAD~1", "--now", "2026-06-01T10:00:00Z",
                      cwd=repo.path)
    assert_input_error(proc, ".gate.yaml", "cron matches")


# -- Kustomize -------------------------------------------------------------------------------

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
DEPLOY = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
          "    spec:\n      containers:\n      - name: app\n        image: app:1.0\n")


def _diamond(depth: int) -> dict[str, str]:
    """Each level includes the next through two overlays: 2^depth resources."""
    files = {}
    for level in range(depth):
        for side in ("a", "b"):
            files[f"l{level}/{side}/kustomization.yaml"] = (
                f"namePrefix: {side}-\nresources:\n- ../../l{level + 1}\n")
        files[f"l{level}/kustomization.yaml"] = "resources:\n- a\n- b\n"
    files[f"l{depth}/kustomization.yaml"] = "resources:\n- cm.yaml\n"
    files[f"l{depth}/cm.yaml"] = CM.format(name="c")
    return files


KUSTOMIZE_CASES: dict[str, tuple[Callable[[], dict[str, str]], str, str]] = {
    "generator-keys": (lambda: {"k/kustomization.yaml": "configMapGenerator:\n- name: c\n"
                                "  literals:\n" + "".join(
                                    f"  - k{i}=v\n" for i in range(limits.MAX_GENERATOR_KEYS + 1))},
                       "k/kustomization.yaml", "keys"),
    "generator-bytes": (lambda: {"k/kustomization.yaml": "configMapGenerator:\n- name: c\n"
                                 "  files:\n" + "".join(f"  - f{i}=big.txt\n" for i in range(20)),
                                 "k/big.txt": "x" * (1024 * 1024)},
                        "k/kustomization.yaml", "bytes"),
    "replicas-overflow": (lambda: {"k/kustomization.yaml": "resources:\n- d.yaml\nreplicas:\n"
                                   f"- name: web\n  count: {2**63}\n", "k/d.yaml": DEPLOY},
                          "k/kustomization.yaml", "whole number"),
    "json-patch-copy-doubling": (lambda: {
        "k/kustomization.yaml": "resources:\n- d.yaml\npatches:\n- path: p.yaml\n"
                                "  target: {kind: Deployment}\n",
        "k/d.yaml": DEPLOY,
        "k/p.yaml": "".join(f"- {{op: copy, from: /spec, path: /spec/x{i}}}\n"
                            for i in range(40))}, "k/p.yaml", "nodes"),
    "json-patch-ops": (lambda: {
        "k/kustomization.yaml": "resources:\n- d.yaml\npatches:\n- path: p.yaml\n"
                                "  target: {kind: Deployment}\n",
        "k/d.yaml": DEPLOY,
        "k/p.yaml": "- {op: test, path: /kind, value: Deployment}\n"
                    * (limits.MAX_JSON_PATCH_OPS + 1)}, "k/p.yaml", "operations"),
    "bases-through-overlays": (lambda: {f"k/{name}": text for name, text in _diamond(22).items()},
                               "k/", "resources"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(KUSTOMIZE_CASES))
def test_kustomize_beyond_its_bounds_is_an_input_error(tmp_path: Path, case: str) -> None:
    make, file, needle = KUSTOMIZE_CASES[case]
    _write(tmp_path, make())
    proc = run_capped("check", "--kustomize", "builtin", "k", cwd=tmp_path)
    if file.endswith("/"):  # which level trips the bound depends on the figures
        output = proc.stdout + proc.stderr
        assert proc.returncode == 2 and "Traceback" not in output, output
        assert re.search(rf"^{re.escape(file)}\S+:\d+: error: .*{needle}", output, re.M), output
    else:
        assert_input_error(proc, file, needle)


# -- Argo CD ---------------------------------------------------------------------------------

def _application_set(generators: str, name: str = "'{{a}}-{{b}}'", go: bool = False) -> str:
    return f"""apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: hostile
spec:
  goTemplate: {str(go).lower()}
  generators:
{generators}
  template:
    metadata:
      name: {name}
    spec:
      project: default
      source: {{repoURL: 'https://github.com/acme/gitops', targetRevision: main, path: prod}}
      destination: {{server: 'https://kubernetes.default.svc', namespace: x}}
"""


def _elements(key: str, count: int, indent: str) -> str:
    return "".join(f"{indent}- {key}: '{i}'\n" for i in range(count))


ARGO_CASES = {
    "matrix-product": _application_set(
        "    - matrix:\n        generators:\n          - list:\n              elements:\n"
        + _elements("a", 200, "              ")
        + "          - list:\n              elements:\n" + _elements("b", 200, "              ")),
    "list-elements": _application_set(
        "    - list:\n        elements:\n"
        + _elements("a", limits.MAX_GENERATOR_PARAMS + 1, "          ")),
    "replace-amplifies": _application_set(
        f"    - list:\n        elements:\n          - a: '{'x' * 20000}'\n",
        name="'{{ replace \"\" .a .a }}'", go=True),
    "legacy-tags-amplify": _application_set(
        f"    - list:\n        elements:\n          - a: '{'x' * 20000}'\n            b: ''\n",
        name="'" + "{{a}}" * 100 + "'"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(ARGO_CASES))
def test_application_sets_beyond_their_bounds_are_input_errors(tmp_path: Path,
                                                               case: str) -> None:
    _write(tmp_path, {
        ".gate.yaml": "environments:\n  - discover: argocd\n    paths: ['apps/**']\n",
        "apps/set.yaml": ARGO_CASES[case],
        "prod/cm.yaml": CM.format(name="a"),
    })
    assert_input_error(run_capped("check", ".", cwd=tmp_path), "apps/set.yaml", "gate's limit"
                       if case in ("matrix-product", "list-elements") else "characters")
