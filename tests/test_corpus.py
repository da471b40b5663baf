"""gate on ~420 real manifest files nobody here wrote (``../shared/corpus``).

Every YAML file of the corpus must be accounted for: it yields resources, an input
error with a message, a skipped-document note with a reason, it is read through a
Kustomize overlay that gate renders, or it is empty.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.trees import WorkTree
from gate.loading.yamlio import decode, load_documents
from tests.processes import gate_process

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
# Files of the corpus with duplicate mapping keys, which gate refuses (fail closed).
DUPLICATE_KEY_FILES = 5

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS} (../shared is not checked out)"
)]


def corpus_yaml_files() -> list[str]:
    found = []
    for root, dirs, files in os.walk(CORPUS):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith((".yaml", ".yml")):
                found.append(Path(root, name).relative_to(CORPUS).as_posix())
    return sorted(found)


def is_empty(relative: str) -> bool:
    text = decode((CORPUS / relative).read_bytes(), relative)
    return all(document.data is None for document in load_documents(text, relative))


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any]]:
    """One run over the whole corpus, shared by the tests of this module."""
    report_path = tmp_path_factory.mktemp("corpus") / "report.json"
    proc = gate_process("check", ".", "-f", f"json={report_path}", "-v", cwd=CORPUS)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return proc.returncode, proc.stdout + proc.stderr, report


def test_corpus_runs_cleanly(corpus_run: tuple[int, str, dict[str, Any]]) -> None:
    code, output, report = corpus_run
    assert "Traceback" not in output
    assert "internal error" not in output
    assert code in (1, 2), output[-2000:]
    assert report["verdict"] == "fail"
    assert report["summary"]["resources"] > 400
    if report["errors"]:
        assert code == 2


def overlay_inputs() -> set[str]:
    """Files read through the corpus's Kustomize overlays (kustomization files included),
    and through components no overlay uses (a note names each of those)."""
    tree = WorkTree(str(CORPUS))
    found: set[str] = set()
    for root in kustomize_inputs.find_roots(tree, ""):
        found |= kustomize_inputs.inputs(tree, root)
    for directory in {path.parent for path in CORPUS.rglob("kustomization.yaml")}:
        relative = directory.relative_to(CORPUS).as_posix()
        if kustomize_inputs.is_component(tree, relative):
            found |= kustomize_inputs.inputs(tree, relative)
    return found


def test_every_corpus_file_is_accounted_for(
    corpus_run: tuple[int, str, dict[str, Any]]
) -> None:
    _, _, report = corpus_run
    with_results = {r["resource"]["file"] for r in report["results"]}
    with_errors = {e["file"] for e in report["errors"] if e["message"].strip()}
    with_notes = {n["file"] for n in report["skipped"] if n["message"].strip()}
    files = corpus_yaml_files()
    assert len(files) > 400
    unaccounted = [
        f for f in files
        if f not in with_results | with_errors | with_notes | overlay_inputs()
        and not is_empty(f)
    ]
    assert unaccounted == []
    # Nothing is reported that is not a corpus file.
    assert (with_results | with_errors | with_notes) <= set(files)


def test_corpus_errors_are_duplicate_keys_and_missing_overlay_inputs(
    corpus_run: tuple[int, str, dict[str, Any]]
) -> None:
    _, output, report = corpus_run
    errors = report["errors"]
    duplicates = [e for e in errors if "duplicate key" in e["message"]]
    assert len(duplicates) == DUPLICATE_KEY_FILES, errors
    for error in duplicates:
        assert isinstance(error["line"], int) and error["line"] > 1
        # The text report (stderr, as the JSON went to a file) names file and line.
        assert f"{error['file']}:{error['line']}: error: " in output
    # The corpus kept only YAML: overlays that read a script or a file it left out
    # cannot be rendered, and say so instead of passing.
    for error in errors:
        if error not in duplicates:
            assert error["message"].startswith("cannot render: "), error
            assert error["file"].endswith("kustomization.yaml"), error


def test_corpus_notes_give_reasons(corpus_run: tuple[int, str, dict[str, Any]]) -> None:
    _, _, report = corpus_run
    for note in report["skipped"]:
        assert note["message"].startswith("skipped"), note
