"""Sources (which files a run reads, and how they are named) and the resources in them."""
from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from gate.errors import ConfigError
from gate.loading.resources import Note, Resource, read_resources
from gate.loading.sources import STDIN_NAME, SourceFile, display_name, read_source
from gate.loading.workspace import Workspace
from gate.loading.yamlio import YamlInputError


def touch(path: Path, text: str = "a: 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository-like tree; the working directory is its root."""
    for name in [
        "apps/web.yaml", "apps/api.yml", "apps/README.md", "apps/values.json",
        "apps/base/deploy.yaml", "apps/a-sub/first.yaml", "apps/.github/ci.yaml",
        ".git/config.yaml", "apps/base/.hidden/x.yaml", "zz.yaml", "apps/.dotfile.yaml",
        "apps/Upper.YAML",
    ]:
        touch(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- what a run reads (gate.loading.workspace) -------------------------------------------------


def expand_paths(paths: list[str]) -> list[str]:
    """The files (display names) a run over ``paths`` reads, in order."""
    workspace = Workspace(kustomize_mode="off")
    for path in paths:
        workspace.add(path)
    return workspace.planned()


def test_directories_expand_in_a_stable_order(tree: Path) -> None:
    assert expand_paths(["apps"]) == [
        # a directory's own files first, by name (hidden ones skipped), then its
        # subdirectories, by name
        "apps/api.yml", "apps/web.yaml",
        "apps/a-sub/first.yaml", "apps/base/deploy.yaml",
    ]


def test_hidden_directories_and_files_are_skipped(tree: Path) -> None:
    found = expand_paths(["."])
    assert "apps/.dotfile.yaml" not in found
    # A hidden file named explicitly is read.
    assert expand_paths(["apps/.dotfile.yaml"]) == ["apps/.dotfile.yaml"]
    assert ".git/config.yaml" not in found
    assert "apps/.github/ci.yaml" not in found
    assert "apps/base/.hidden/x.yaml" not in found
    assert "zz.yaml" in found
    # A hidden directory named explicitly is read.
    assert expand_paths(["apps/.github"]) == ["apps/.github/ci.yaml"]


def test_only_yaml_suffixes_in_directories(tree: Path) -> None:
    found = expand_paths(["apps"])
    assert all(path.endswith((".yaml", ".yml")) for path in found)
    assert "apps/Upper.YAML" not in found  # suffixes are matched as written
    # A file named explicitly is read whatever its name.
    assert expand_paths(["apps/README.md"]) == ["apps/README.md"]


def test_arguments_keep_their_order(tree: Path) -> None:
    assert expand_paths(["zz.yaml", "apps/base", "apps/web.yaml"]) == [
        "zz.yaml", "apps/base/deploy.yaml", "apps/web.yaml",
    ]


def test_duplicates_are_dropped(tree: Path) -> None:
    assert expand_paths(["apps/web.yaml", "apps", "./apps/web.yaml", "apps/../apps/web.yaml",
                         str(tree / "apps" / "web.yaml")]) == [
        "apps/web.yaml", "apps/api.yml",
        "apps/a-sub/first.yaml", "apps/base/deploy.yaml",
    ]


def test_symlinks_to_the_same_file_are_read_once(tree: Path) -> None:
    (tree / "link.yaml").symlink_to(tree / "zz.yaml")
    assert expand_paths(["zz.yaml", "link.yaml"]) == ["zz.yaml"]
    # named by the file it points to, so a finding names the file to edit
    assert expand_paths(["link.yaml", "zz.yaml"]) == ["zz.yaml"]


def test_stdin_is_read_once(tree: Path) -> None:
    assert expand_paths(["-", "zz.yaml", "-"]) == ["-", "zz.yaml"]


def test_missing_paths_are_usage_errors(tree: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file or directory: nope\.yaml"):
        expand_paths(["zz.yaml", "nope.yaml"])


def test_empty_directory(tree: Path) -> None:
    (tree / "empty").mkdir()
    assert expand_paths(["empty"]) == []


# -- display names -------------------------------------------------------------------

def test_display_names_are_relative_to_the_working_directory(tree: Path) -> None:
    assert display_name("apps/web.yaml") == "apps/web.yaml"
    assert display_name("./apps/web.yaml") == "apps/web.yaml"
    assert display_name("apps/../zz.yaml") == "zz.yaml"
    assert display_name(str(tree / "apps" / "web.yaml")) == "apps/web.yaml"


def test_display_names_outside_the_working_directory_are_kept(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree / "apps")
    assert display_name("../zz.yaml") == "../zz.yaml"
    assert display_name(str(tree / "zz.yaml")) == str(tree / "zz.yaml")
    assert display_name("web.yaml") == "web.yaml"


def test_expanded_paths_display_relative(tree: Path) -> None:
    names = [display_name(path) for path in expand_paths([str(tree / "apps" / "base"), "."])]
    assert names[0] == "apps/base/deploy.yaml"
    assert names.count("apps/base/deploy.yaml") == 1
    assert all(not name.startswith(("./", "/")) for name in names)


# -- read_source ---------------------------------------------------------------------

def test_read_source_names_the_file_for_reports(tree: Path) -> None:
    source = read_source(str(tree / "apps" / "web.yaml"))
    assert (source.name, source.text) == ("apps/web.yaml", "a: 1\n")


def test_read_source_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    # Bytes, not text: standard input may be UTF-16 with a BOM like any file.
    stdin = io.TextIOWrapper(io.BytesIO("a: caf\u00e9\n".encode("utf-16")))
    monkeypatch.setattr(sys, "stdin", stdin)
    source = read_source("-")
    assert source.name == STDIN_NAME == "<stdin>"
    assert source.text == "a: caf\u00e9\n"


def test_read_source_errors_name_the_file(tree: Path) -> None:
    touch(tree / "bad.yaml").write_bytes(b"a: \xe9\n")
    with pytest.raises(YamlInputError) as caught:
        read_source("bad.yaml")
    assert (caught.value.file, caught.value.line) == ("bad.yaml", 1)
    with pytest.raises(YamlInputError, match="cannot read") as caught:
        read_source("apps")  # a directory
    assert caught.value.file == "apps"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a chmod 000 file"
)
def test_read_source_unreadable(tree: Path) -> None:
    path = tree / "zz.yaml"
    path.chmod(0)
    try:
        with pytest.raises(YamlInputError, match="cannot read"):
            read_source("zz.yaml")
    finally:
        path.chmod(0o644)


def test_source_lines_are_looked_up_lazily() -> None:
    source = SourceFile("f.yaml", "a:\n  b: [1, 2]\n---\nc: 3\n")
    assert source.line(0, ("a", "b", 1)) == 2
    assert source.line(1, ("c",)) == 4
    assert source.line(2, ()) is None


# -- resources -----------------------------------------------------------------------

LIST = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: one, namespace: prod}
  - 42
  - apiVersion: v1
    kind: Secret
    metadata:
      generateName: token-
      labels: [not, a, mapping]
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
---
apiVersion: v1
kind: ServiceList
items: []
---
apiVersion: v1
kind: ConfigMapList
metadata: {name: not-a-list}
---
apiVersion: v1
kind: List
"""


def test_read_resources() -> None:
    source = SourceFile("list.yaml", LIST)
    entries = list(read_resources(source))
    resources = [e for e in entries if isinstance(e, Resource)]
    notes = [e for e in entries if isinstance(e, Note)]
    assert [(r.identity(), r.line, r.doc_index, r.prefix) for r in resources] == [
        ("ConfigMap/prod/one", 4, 0, ("items", 0)),
        ("Secret/token-*", 8, 0, ("items", 2)),
        ("ConfigMapList/not-a-list", 21, 3, ()),
    ]
    assert [(n.file, n.line) for n in notes] == [("list.yaml", 7), ("list.yaml", 14)]
    assert "list item 1" in notes[0].message
    assert "Kustomize" in notes[1].message
    secret = resources[1]
    assert secret.labels == {}
    assert secret.namespace == ""
    assert secret.file == "list.yaml"
    # Lines of fields inside a list item are found through the item's prefix.
    assert secret.line_of(("metadata", "generateName")) == 11
    assert secret.line_of(("metadata", "missing")) == 10
    assert resources[0].obj is resources[0].obj  # the parsed document, never copied


def test_list_items_must_be_a_list() -> None:
    source = SourceFile("bad.yaml", "apiVersion: v1\nkind: List\nitems: {a: 1}\n")
    with pytest.raises(YamlInputError) as caught:
        list(read_resources(source))
    assert (caught.value.file, caught.value.line) == ("bad.yaml", 1)
    assert "items must be a list" in caught.value.message


def test_a_broken_file_yields_nothing() -> None:
    source = SourceFile("bad.yaml", "apiVersion: v1\nkind: ConfigMap\n---\na: [\n")
    entries = read_resources(source)
    with pytest.raises(YamlInputError):
        next(entries)
