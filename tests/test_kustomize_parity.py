"""The built-in Kustomize renderer against the real one: ``kubectl kustomize``.

Every fixture overlay, and every kustomization of the shared corpus of public
repositories, is rendered both ways; the documents must be the same, in the
same order. A corpus directory that uses a feature the built-in renderer does
not implement is skipped, naming the feature; one that the binary cannot build
either (the corpus leaves out files that are not manifests) must fail built-in too.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from gate.loading.renderers import RenderError
from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.renderers.kustomize.builder import render_builtin
from gate.loading.renderers.kustomize.loading import KUSTOMIZATION_FILES
from gate.loading.trees import WorkTree
from gate.loading.yamlio import load_documents
from tests.processes import run

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "kustomize"
CORPUS = ROOT.parent / "shared" / "corpus"
KUBECTL = shutil.which("kubectl")

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def kubectl_kustomize(directory: Path) -> tuple[list[Any] | None, str]:
    """The documents kubectl renders, or None and the error it printed."""
    assert KUBECTL is not None
    result = run([KUBECTL, "kustomize", str(directory)], timeout=60)
    if result.returncode != 0:
        return None, result.stderr.strip()
    documents = load_documents(result.stdout, str(directory))
    return [d.data for d in documents if d.data is not None], ""


def builtin(root: Path, directory: str) -> list[Any]:
    return [r.obj for r in render_builtin(WorkTree(str(root)), directory).resources]


def fixture_overlays() -> list[tuple[str, str]]:
    found = []
    for expected in sorted(FIXTURES.rglob("expected.yaml")):
        case, *rest = expected.parent.relative_to(FIXTURES).parts
        found.append((case, "/".join(rest)))
    return found


def corpus_kustomizations() -> list[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        path.parent.relative_to(CORPUS).as_posix()
        for name in KUSTOMIZATION_FILES for path in CORPUS.rglob(name)
        if not any(part.startswith(".") for part in path.relative_to(CORPUS).parts)
    )


@pytest.mark.e2e
@pytest.mark.parametrize(("case", "directory"), fixture_overlays(),
                         ids=[f"{c}/{d}" if d else c for c, d in fixture_overlays()])
def test_fixture_matches_kubectl(case: str, directory: str) -> None:
    theirs, error = kubectl_kustomize(FIXTURES / case / directory)
    assert theirs is not None, error
    assert builtin(FIXTURES / case, directory) == theirs


@pytest.mark.e2e
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no shared corpus at {CORPUS}")
@pytest.mark.parametrize("directory", corpus_kustomizations() or ["(none)"])
def test_corpus_matches_kubectl(directory: str) -> None:
    try:
        mine: list[Any] | None = builtin(CORPUS, directory)
        failure = ""
    except RenderError as exc:
        if "is not supported by gate's built-in Kustomize renderer" in exc.message:
            pytest.skip(f"uses a feature the built-in renderer does not implement: {exc}")
        mine, failure = None, str(exc)
    theirs, error = kubectl_kustomize(CORPUS / directory)
    if theirs is None:
        assert mine is None, f"kubectl fails ({error}) but the built-in renderer does not"
        return
    assert mine is not None, f"kubectl renders it but the built-in renderer fails: {failure}"
    assert mine == theirs


def stub_missing_inputs(root: Path, directory: str) -> list[str]:
    """Write a placeholder for every input the corpus left out (generator sources
    such as scripts); the files it wrote."""
    made = []
    for path in sorted(kustomize_inputs.inputs(WorkTree(str(root)), directory)):
        target = root / path
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"placeholder for {path}\n", encoding="utf-8")
            made.append(path)
    return made


@pytest.mark.e2e
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no shared corpus at {CORPUS}")
@pytest.mark.parametrize("directory", corpus_kustomizations() or ["(none)"])
def test_corpus_with_placeholder_sources_matches_kubectl(directory: str,
                                                         tmp_path: Path) -> None:
    """An overlay neither can build because the corpus left out a generator's source
    file is built again with a placeholder there: it must then render equal (or be
    refused, naming what the built-in renderer does not implement)."""
    if kubectl_kustomize(CORPUS / directory)[0] is not None:
        pytest.skip("kubectl builds it as it is (see test_corpus_matches_kubectl)")
    repository = directory.split("/")[0]
    shutil.copytree(CORPUS / repository, tmp_path / repository)
    if not stub_missing_inputs(tmp_path, directory):
        pytest.skip("nothing is missing: it fails for another reason, as it should")
    theirs, error = kubectl_kustomize(tmp_path / directory)
    try:
        mine: list[Any] | None = builtin(tmp_path, directory)
    except RenderError as exc:
        if "is not supported by gate's built-in Kustomize renderer" in exc.message:
            pytest.skip(f"uses a feature the built-in renderer does not implement: {exc}")
        assert theirs is None, f"kubectl renders it but the built-in renderer fails: {exc}"
        return
    assert theirs is not None, f"kubectl fails ({error}) but the built-in renderer does not"
    assert mine == theirs


def test_the_corpus_has_kustomizations_that_render() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"no shared corpus at {CORPUS}")
    rendered = []
    for directory in corpus_kustomizations():
        try:
            rendered.append(len(builtin(CORPUS, directory)))
        except RenderError:
            continue
    assert len(rendered) >= 10 and sum(rendered) >= 100
