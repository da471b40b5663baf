"""``gate.loading.affected.reach``: the overlays a change reaches, found backwards from the change.

The fast search must agree with the slow reference: an overlay root
(``kustomize.inputs.find_roots``) is affected iff ``kustomize.inputs.inputs`` of it meets
the changed set; a changed file is consumed iff some kustomization of the tree reads
it (``kustomize.inputs.references``). Checked on hand-written trees and on seeded random
ones (bases, components, multi-level overlays, patches, generator files,
``..``-only references, every kustomization file name, non-canonical spellings),
in memory, on disk (``WorkTree``) and in git (``GitTree``).
"""
from __future__ import annotations

import posixpath
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.errors import GateError
from gate.git.repository import open_repository
from gate.loading.affected import Reach, reach
from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.renderers.kustomize.builder import render_builtin
from gate.loading.renderers.kustomize.loading import KUSTOMIZATION_FILES, kustomization_file
from gate.loading.trees import FileTree, WorkTree
from tests.gitrepo import GitRepo
from tests.memtree import ListingTree, MemoryTree

# -- the slow reference ---------------------------------------------------------------------


@dataclass
class Reference:
    """What a tree's kustomizations read, computed the slow, obvious way."""

    roots: dict[str, set[str]]  # overlay root -> every file it reads, transitively
    read: set[str]  # every file some kustomization reads, directly or through another

    @classmethod
    def of(cls, tree: FileTree) -> Reference:
        roots = {root: kustomize_inputs.inputs(tree, root)
                 for root in kustomize_inputs.find_roots(tree)}
        # Kustomizations in hidden directories count only where a visible one includes
        # them, as with find_roots: so the union of what each visible one reads.
        read: set[str] = set()
        for directory in _kustomization_dirs(tree):
            read.update(kustomize_inputs.inputs(tree, directory))
        return cls(roots, read)

    def reach(self, changed: Iterable[str]) -> Reach:
        changed = set(changed)
        return Reach(
            overlays={root for root, inputs in self.roots.items() if inputs & changed},
            consumed={path for path in changed if path in self.read
                      and posixpath.basename(path) not in KUSTOMIZATION_FILES},
        )


def _kustomization_dirs(tree: FileTree, directory: str = "") -> Iterator[str]:
    """Directories holding a kustomization, hidden ones skipped (as find_roots does)."""
    if kustomization_file(tree, directory) is not None:
        yield directory
    for name in tree.list_dir(directory):
        path = f"{directory}/{name}" if directory else name
        if not name.startswith(".") and tree.is_dir(path):
            yield from _kustomization_dirs(tree, path)


def assert_agrees(tree: FileTree, reference: Reference, changed: Iterable[str]) -> Reach:
    changed = sorted(set(changed))
    found = reach(tree, changed)
    expected = reference.reach(changed)
    assert (sorted(found.overlays), sorted(found.consumed)) == (
        sorted(expected.overlays), sorted(expected.consumed)), f"changed: {changed}"
    return found


# -- manifests ------------------------------------------------------------------------------


def _deployment(name: str) -> str:
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
            f"  selector:\n    matchLabels: {{app: {name}}}\n  template:\n"
            f"    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n"
            f"        - name: {name}\n          image: registry.example.com/{name}:1.0.0\n")


def _service(name: str) -> str:
    return (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n"
            f"  selector: {{app: {name}}}\n  ports:\n    - port: 80\n")


_SM_PATCH = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: not-used\n"
             "  annotations: {patched: \"yes\"}\n")
_JSON_PATCH = "- op: add\n  path: /metadata/annotations\n  value: {ops: \"yes\"}\n"


def _dump(data: dict[str, Any], flow: bool) -> str:
    text: str = yaml.safe_dump(data, sort_keys=False, default_flow_style=None if flow else False)
    return text


# -- random trees ---------------------------------------------------------------------------


@dataclass
class _Generator:
    """Builds one seeded random repository of kustomizations."""

    rng: random.Random
    files: dict[str, str] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)  # paths named but absent

    def ref(self, source: str, target: str, directory: bool) -> str:
        """``target`` as the kustomization in ``source`` may spell it."""
        relative = posixpath.relpath(target or ".", source or ".")
        spellings = [relative]
        if directory:
            spellings.append(relative + "/")
        if not relative.startswith(".."):
            spellings.append("./" + relative)
        elif set(relative.split("/")) != {".."}:
            spellings.append(f"{relative}/../{posixpath.basename(target)}")
        else:
            spellings.append("./" + relative)
        return self.rng.choice(spellings)

    def kustomization(self, directory: str, data: dict[str, Any]) -> None:
        name = self.rng.choice(KUSTOMIZATION_FILES)
        path = f"{directory}/{name}" if directory else name
        self.files[path] = _dump(data, self.rng.random() < 0.5)

    def generators(self, directory: str, data: dict[str, Any], tag: str) -> None:
        roll = self.rng.random()
        if roll < 0.3:
            properties = self.rng.choice(["app.properties", "conf/app.properties"])
            key = self.rng.choice(["", "settings="])
            self.files[f"{directory}/{properties}"] = "level=info\n"
            self.files[f"{directory}/app.env"] = "MODE=fast\n"
            data["configMapGenerator"] = [{"name": f"config-{tag}",
                                           "files": [key + properties], "envs": ["app.env"]}]
        elif roll < 0.45:
            self.files[f"{directory}/secret.env"] = "TOKEN=x\n"
            data["secretGenerator"] = [{"name": f"secret-{tag}", "env": "./secret.env"}]

    def patches(self, directory: str, data: dict[str, Any]) -> None:
        roll = self.rng.random()
        if roll < 0.25:
            self.files[f"{directory}/patch.yaml"] = _SM_PATCH
            data["patches"] = [{"path": self.rng.choice(["patch.yaml", "./patch.yaml"]),
                                "target": {"kind": "Deployment"}}]
        elif roll < 0.4:
            self.files[f"{directory}/patches/ops.yaml"] = _JSON_PATCH
            data["patchesJson6902"] = [{"path": "patches/ops.yaml", "target": {
                "group": "apps", "version": "v1", "kind": "Deployment", "name": "app0"}}]
        elif roll < 0.5:
            self.files[f"{directory}/merge.yaml"] = _SM_PATCH.replace("not-used", "app0")
            data["patchesStrategicMerge"] = ["merge.yaml"]

    def base(self, index: int, prefix: str) -> str:
        directory = prefix + self.rng.choice([f"bases/b{index}", f"app{index}/base",
                                              f"base{index}"])
        name = f"app{index}"
        self.files[f"{directory}/deployment.yaml"] = _deployment(name)
        self.files[f"{directory}/service.yaml"] = _service(name)
        data: dict[str, Any] = {"resources": [
            self.ref(directory, f"{directory}/deployment.yaml", False),
            self.ref(directory, f"{directory}/service.yaml", False)]}
        if self.rng.random() < 0.3:
            extras = f"{directory}/extras"
            self.files[f"{extras}/sa.yaml"] = (f"apiVersion: v1\nkind: ServiceAccount\n"
                                               f"metadata:\n  name: {name}\n")
            self.kustomization(extras, {"resources": ["sa.yaml"]})
            data["resources"].append(self.ref(directory, extras, True))
        self.generators(directory, data, name)
        self.kustomization(directory, data)
        if self.rng.random() < 0.2:
            self.files[f"{directory}/unused.yaml"] = _deployment(f"unused{index}")
        # overlays inside the base, naming it by ".." alone
        if self.rng.random() < 0.4:
            variant = f"{directory}/variant"
            variant_data: dict[str, Any] = {
                "resources": [self.rng.choice(["..", "../", "./.."])],
                "namePrefix": "variant-"}
            self.patches(variant, variant_data)
            self.kustomization(variant, variant_data)
        if self.rng.random() < 0.25:
            deeper = f"{directory}/deep/er"
            self.kustomization(deeper, {"resources": [self.rng.choice(["../..", "../../"])],
                                        "nameSuffix": "-deep"})
        return directory

    def component(self, index: int, prefix: str) -> str:
        directory = f"{prefix}components/c{index}"
        data: dict[str, Any] = {"apiVersion": "kustomize.config.k8s.io/v1alpha1",
                                "kind": "Component"}
        self.patches(directory, data)
        self.generators(directory, data, f"c{index}")
        self.kustomization(directory, data)
        return directory

    def overlay(self, directory: str, includes: list[str], components: list[str],
                env: str) -> None:
        data: dict[str, Any] = {"namespace": env, "resources": [
            self.ref(directory, target, True) for target in includes]}
        if components:
            data["components"] = [self.ref(directory, c, True) for c in components]
        if self.rng.random() < 0.3:
            self.files[f"{directory}/extra.yaml"] = _deployment(f"extra-{env}")
            data["resources"].append(self.rng.choice(["extra.yaml", "./extra.yaml"]))
        if self.rng.random() < 0.15:
            data["resources"].append("https://github.com/acme/deploy//base?ref=v1.2.0")
        if self.rng.random() < 0.15:
            data["resources"].append("missing.yaml")
            self.missing.add(f"{directory}/missing.yaml")
        if self.rng.random() < 0.15:
            shared = posixpath.join(posixpath.dirname(directory), "shared", "limits.yaml")
            self.files[shared] = _SM_PATCH
            data["patchesStrategicMerge"] = [self.ref(directory, shared, False)]
        else:
            self.patches(directory, data)
        self.generators(directory, data, env)
        self.kustomization(directory, data)

    def tree(self) -> dict[str, str]:
        rng = self.rng
        prefix = rng.choice(["", "deploy/", "k8s/apps/"])
        bases = [self.base(i, prefix) for i in range(rng.randint(1, 3))]
        components = [self.component(i, prefix) for i in range(rng.randint(0, 2))]
        mids = []
        for index in range(rng.randint(0, 2)):
            mid = prefix + rng.choice([f"overlays/mid{index}", f"stacks/s{index}"])
            self.overlay(mid, rng.sample(bases, rng.randint(1, len(bases))),
                         rng.sample(components, rng.randint(0, len(components))), f"mid{index}")
            mids.append(mid)
        envs = []
        for env in rng.sample(["dev", "staging", "prod", "qa"], rng.randint(1, 4)):
            directory = prefix + rng.choice([f"overlays/{env}", f"envs/{env}/cluster-1"])
            includes = rng.sample(mids + bases, rng.randint(1, min(2, len(mids + bases))))
            self.overlay(directory, includes,
                         rng.sample(components, rng.randint(0, len(components))), env)
            envs.append(directory)
        if rng.random() < 0.25:  # an aggregate of some environments
            directory = rng.choice(["", "clusters/all"])
            self.kustomization(directory, {"resources": [
                self.ref(directory, env, True) for env in rng.sample(envs, 1 + len(envs) // 2)]})
        if rng.random() < 0.3:
            self.files["docs/example.yaml"] = _deployment("example")
        return self.files


def random_tree(seed: int) -> tuple[dict[str, str], set[str]]:
    generator = _Generator(random.Random(seed))
    return generator.tree(), generator.missing


SEEDS = range(40)


def _single_changes(files: Iterable[str], missing: Iterable[str]) -> list[set[str]]:
    return [{path} for path in sorted({*files, *missing})]


@pytest.mark.parametrize("tree_class", [MemoryTree, ListingTree])
@pytest.mark.parametrize("seed", SEEDS)
def test_each_changed_file_reaches_what_the_reference_says(seed: int,
                                                          tree_class: type[MemoryTree]) -> None:
    files, missing = random_tree(seed)
    tree = tree_class(dict(files))
    reference = Reference.of(tree)
    assert reference.roots, "every random tree has an overlay"
    for changed in _single_changes(files, missing):
        assert_agrees(tree, reference, changed)


@pytest.mark.parametrize("seed", SEEDS)
def test_sets_of_changed_files_reach_what_the_reference_says(seed: int) -> None:
    files, missing = random_tree(seed)
    tree = MemoryTree(dict(files))
    reference = Reference.of(tree)
    rng = random.Random(seed * 7919)
    paths = sorted({*files, *missing, "nowhere/else.yaml"})
    for _ in range(25):
        assert_agrees(tree, reference, rng.sample(paths, rng.randint(0, min(6, len(paths)))))
    assert_agrees(tree, reference, paths)  # everything at once: every root


def _entries(files: dict[str, str]) -> list[str]:
    """Every path a kustomization of the tree names, as written."""
    found: list[str] = []
    for path, text in files.items():
        if posixpath.basename(path) not in KUSTOMIZATION_FILES:
            continue
        data = yaml.safe_load(text) or {}
        for name in ("resources", "components", "patchesStrategicMerge"):
            found += data.get(name) or []
        for name in ("patches", "patchesJson6902"):
            found += [entry["path"] for entry in data.get(name) or []]
        for name in ("configMapGenerator", "secretGenerator"):
            for entry in data.get(name) or []:
                found += [*entry.get("files", []), *entry.get("envs", []), entry.get("env", "")]
    return [entry for entry in found if entry]


def test_random_trees_cover_what_they_should() -> None:
    """The generator makes the shapes the tests claim to cover."""
    shapes: dict[str, Callable[[str], bool]] = {
        "parent-only": lambda e: set(e.rstrip("/").split("/")) == {".."} or e == "./..",
        "dot-slash": lambda e: e.startswith("./") and not e.startswith("./.."),
        "trailing-slash": lambda e: e.endswith("/") and "://" not in e,
        "up-and-back": lambda e: "/../" in e and not e.startswith("https"),
        "key=file": lambda e: "=" in e,
        "remote": lambda e: "://" in e,
    }
    seen = dict.fromkeys([*shapes, "kustomization.yml", "Kustomization", "component",
                          "missing", "multi-root", "nested-overlay", "aggregate"], 0)
    for seed in SEEDS:
        files, missing = random_tree(seed)
        entries = _entries(files)
        for shape, test in shapes.items():
            seen[shape] += any(test(entry) for entry in entries)
        seen["kustomization.yml"] += any(p.endswith("/kustomization.yml") for p in files)
        seen["Kustomization"] += any(p.endswith("/Kustomization") for p in files)
        seen["component"] += any("kind: Component" in text for text in files.values())
        seen["missing"] += bool(missing)
        roots = kustomize_inputs.find_roots(MemoryTree(dict(files)))
        seen["multi-root"] += len(roots) > 1
        seen["nested-overlay"] += any(r.endswith(("/variant", "/deep/er")) for r in roots)
        seen["aggregate"] += any(r in ("", "clusters/all") for r in roots)
    assert all(count >= 3 for count in seen.values()), seen


def test_the_renderer_reads_only_what_inputs_lists() -> None:
    """For every root the built-in renderer can render, what it read is in inputs():
    otherwise a change to a file it reads would reach no overlay."""
    rendered = 0
    for seed in SEEDS:
        files, _ = random_tree(seed)
        tree = MemoryTree(dict(files))
        for root in kustomize_inputs.find_roots(tree):
            try:
                rendering = render_builtin(tree, root)
            except GateError:
                continue
            rendered += 1
            assert rendering.inputs <= kustomize_inputs.inputs(tree, root), (seed, root)
    assert rendered >= 40


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 8])
def test_on_a_work_tree(tmp_path: Path, seed: int) -> None:
    files, missing = random_tree(seed)
    for path, content in files.items():
        target = tmp_path.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    tree = WorkTree(str(tmp_path))
    reference = Reference.of(MemoryTree(dict(files)))
    assert Reference.of(tree) == reference
    for changed in _single_changes(files, missing):
        assert_agrees(tree, reference, changed)


@pytest.mark.e2e
@pytest.mark.parametrize("seed", [4, 13])
def test_on_a_git_revision(tmp_path: Path, seed: int) -> None:
    files, missing = random_tree(seed)
    repo = GitRepo.init(tmp_path / "repo")
    repo.write_all(files)
    sha = repo.commit("tree")
    with open_repository(str(repo.path)) as repository:
        tree = repository.tree_at(sha)
        reference = Reference.of(MemoryTree(dict(files)))
        for changed in _single_changes(files, missing):
            assert_agrees(tree, reference, changed)


# -- hand-written trees ---------------------------------------------------------------------

LAYERED = {
    "base/kustomization.yaml": "resources:\n  - ./deployment.yaml\n  - service.yaml\n",
    "base/deployment.yaml": _deployment("web"),
    "base/service.yaml": _service("web"),
    "base/unused.yaml": _deployment("unused"),
    "base/variant/kustomization.yml": "resources: [..]\nnamePrefix: v-\n",
    "components/probes/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "patches:\n  - path: probe.yaml\n    target: {kind: Deployment}\n"),
    "components/probes/probe.yaml": _SM_PATCH,
    "overlays/shared/Kustomization": (
        "resources: [../../base/]\ncomponents: [../../components/probes]\n"),
    "overlays/dev/kustomization.yaml": (
        "resources: [../shared]\nconfigMapGenerator:\n  - name: cfg\n"
        "    files: [key=files/app.conf]\n    envs: [app.env]\n"),
    "overlays/dev/files/app.conf": "a=1\n",
    "overlays/dev/app.env": "B=2\n",
    "overlays/prod/kustomization.yaml": (
        "resources:\n  - ../shared/\n  - https://github.com/acme/x//base?ref=v1\n"
        "patchesStrategicMerge: [replicas.yaml]\n"
        "patchesJson6902:\n  - path: ops.yaml\n    target: {kind: Deployment, name: web}\n"
        "secretGenerator:\n  - name: s\n    env: secret.env\n"),
    "overlays/prod/replicas.yaml": _SM_PATCH,
    "overlays/prod/ops.yaml": _JSON_PATCH,
    "overlays/prod/secret.env": "T=1\n",
    "overlays/prod/notes.yaml": "not: read\n",
}


@pytest.mark.parametrize(("changed", "overlays", "consumed"), [
    ("base/deployment.yaml", {"base/variant", "overlays/dev", "overlays/prod"}, True),
    ("base/kustomization.yaml", {"base/variant", "overlays/dev", "overlays/prod"}, False),
    ("base/unused.yaml", set(), False),
    ("base/variant/kustomization.yml", {"base/variant"}, False),
    ("components/probes/probe.yaml", {"overlays/dev", "overlays/prod"}, True),
    ("components/probes/kustomization.yaml", {"overlays/dev", "overlays/prod"}, False),
    ("overlays/shared/Kustomization", {"overlays/dev", "overlays/prod"}, False),
    ("overlays/dev/files/app.conf", {"overlays/dev"}, True),
    ("overlays/dev/app.env", {"overlays/dev"}, True),
    ("overlays/prod/replicas.yaml", {"overlays/prod"}, True),
    ("overlays/prod/ops.yaml", {"overlays/prod"}, True),
    ("overlays/prod/secret.env", {"overlays/prod"}, True),
    ("overlays/prod/notes.yaml", set(), False),
    ("overlays/prod/kustomization.yaml", {"overlays/prod"}, False),
    ("elsewhere/app.yaml", set(), False),
])
def test_a_layered_repository(changed: str, overlays: set[str], consumed: bool) -> None:
    tree = MemoryTree(dict(LAYERED))
    reference = Reference.of(tree)
    assert sorted(reference.roots) == ["base/variant", "overlays/dev", "overlays/prod"]
    found = assert_agrees(tree, reference, [changed])
    assert found.overlays == overlays
    assert found.consumed == ({changed} if consumed else set())


def test_a_deleted_kustomization_reaches_nothing_on_the_side_without_it() -> None:
    tree = MemoryTree({k: v for k, v in LAYERED.items() if not k.startswith("overlays/prod/")})
    assert reach(tree, ["overlays/prod/kustomization.yaml"]) == Reach()
    assert reach(tree, ["overlays/prod/ops.yaml"]) == Reach()


def test_the_repository_root_as_overlay_and_as_parent() -> None:
    tree = MemoryTree({
        "kustomization.yaml": "resources: [app.yaml, sub]\n",
        "app.yaml": _deployment("app"),
        "sub/kustomization.yaml": "resources: [cm.yaml]\n",
        "sub/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n",
        "sub/inner/Kustomization": "resources: [../..]\n",
        "other/kustomization.yaml": "resources: ['..']\n",
    })
    reference = Reference.of(tree)
    assert sorted(reference.roots) == ["other", "sub/inner"]
    for path in ("app.yaml", "sub/cm.yaml", "kustomization.yaml", "sub/kustomization.yaml"):
        assert assert_agrees(tree, reference, [path]).overlays == {"other", "sub/inner"}


def test_cycles_end() -> None:
    tree = MemoryTree({
        "a/kustomization.yaml": "resources: [../b, a.yaml]\n",
        "a/a.yaml": _deployment("a"),
        "b/kustomization.yaml": "resources: [../a]\n",
        "root/kustomization.yaml": "resources: [../a]\n",
    })
    reference = Reference.of(tree)
    assert list(reference.roots) == ["root"]
    assert assert_agrees(tree, reference, ["a/a.yaml"]).overlays == {"root"}
    assert assert_agrees(tree, reference, ["b/kustomization.yaml"]).overlays == {"root"}


def test_a_component_alone_is_never_an_overlay() -> None:
    tree = MemoryTree({
        "components/unused/kustomization.yaml": "kind: Component\npatches: [{path: p.yaml}]\n",
        "components/unused/p.yaml": _SM_PATCH,
    })
    found = assert_agrees(tree, Reference.of(tree), ["components/unused/p.yaml"])
    assert found.overlays == set()
    assert found.consumed == {"components/unused/p.yaml"}  # read by a kustomization


def test_no_kustomization_at_all() -> None:
    tree = MemoryTree({"apps/a.yaml": _deployment("a")})
    assert reach(tree, ["apps/a.yaml"]) == Reach()
    assert reach(MemoryTree({}), []) == Reach()


def test_a_broken_kustomization_still_counts_as_its_own_input() -> None:
    tree = MemoryTree({
        "base/kustomization.yaml": "resources: [: broken\n",
        "base/d.yaml": _deployment("d"),
        "dev/kustomization.yaml": "resources: [../base]\n",
        "odd/kustomization.yaml": b"resources: [\xff\xfe]\n",
    })
    reference = Reference.of(tree)
    for changed in ("base/kustomization.yaml", "base/d.yaml", "odd/kustomization.yaml"):
        assert_agrees(tree, reference, [changed])


def test_each_kustomization_is_read_once() -> None:
    """Searching backwards from a change far from most overlays reads each kustomization
    file once (in bulk where the tree can: then not one by one at all)."""
    files: dict[str, str | bytes] = {"base/kustomization.yaml": "resources: [d.yaml]\n",
                                     "base/d.yaml": _deployment("d")}
    for index in range(50):
        files[f"teams/t{index}/kustomization.yaml"] = "resources: [app.yaml]\n"
        files[f"teams/t{index}/app.yaml"] = _deployment(f"t{index}")
    files["overlays/dev/kustomization.yaml"] = "resources: [../../base]\n"
    tree = MemoryTree(files)
    assert reach(tree, ["base/d.yaml"]).overlays == {"overlays/dev"}
    assert len(tree.reads) <= 52 + 5  # 52 kustomizations, a few re-reads (is_component) at most
    listing = ListingTree(files)
    assert reach(listing, ["base/d.yaml"]).overlays == {"overlays/dev"}
    assert len(listing.reads) <= 5


# -- disagreements --------------------------------------------------------------------------


def test_hidden_kustomizations_count_only_where_a_visible_one_includes_them() -> None:
    """find_roots skips hidden directories (.github/, .ci/): a kustomization there is
    no overlay, and neither makes what it includes less of a root nor consumes a file."""
    tree = MemoryTree({
        ".github/kustomization.yaml": "resources: [../apps/x.yaml]\n",
        "apps/x.yaml": _deployment("x"),
        ".ci/check/kustomization.yaml": "resources: [../../base]\n",
        "base/kustomization.yaml": "resources: [d.yaml]\n",
        "base/d.yaml": _deployment("d"),
    })
    reference = Reference.of(tree)
    assert list(reference.roots) == ["base"]
    assert assert_agrees(tree, reference, ["apps/x.yaml"]) == Reach()
    assert assert_agrees(tree, reference, [".github/kustomization.yaml"]) == Reach()
    assert assert_agrees(tree, reference, ["base/d.yaml"]) == Reach({"base"}, {"base/d.yaml"})


def test_a_base_in_a_hidden_directory() -> None:
    """find_roots and inputs follow a visible overlay into a hidden directory: so must
    reach (a change there would otherwise never be judged: hidden files are no manifests)."""
    tree = MemoryTree({
        "ov/kustomization.yaml": "resources: [../.shared]\n",
        ".shared/kustomization.yaml": "resources: [d.yaml]\n",
        ".shared/d.yaml": _deployment("d"),
    })
    assert assert_agrees(tree, Reference.of(tree), [".shared/d.yaml"]).overlays == {"ov"}


# A double-quoted YAML scalar may spell a name with escapes: such text is always parsed.
@pytest.mark.parametrize("spelling", [
    '"../b\\x61se"', '"../\\u0062ase"', '"../ba\\\n    se"'], ids=["hex", "unicode", "fold"])
def test_a_directory_named_with_yaml_escapes(spelling: str) -> None:
    tree = MemoryTree({
        "ov/kustomization.yaml": f"resources:\n  - {spelling}\n",
        "base/kustomization.yaml": "resources: [d.yaml]\n",
        "base/d.yaml": _deployment("d"),
    })
    reference = Reference.of(tree)
    assert list(reference.roots) == ["ov"]
    assert assert_agrees(tree, reference, ["base/d.yaml"]).overlays == {"ov"}


def test_a_file_named_with_yaml_escapes() -> None:
    tree = MemoryTree({
        "ov/kustomization.yaml": 'resources: [d.yaml]\npatchesStrategicMerge: ["p\\x2eyaml"]\n',
        "ov/d.yaml": _deployment("d"),
        "ov/p.yaml": _SM_PATCH,
    })
    assert assert_agrees(tree, Reference.of(tree), ["ov/p.yaml"]).consumed == {"ov/p.yaml"}


def test_a_kustomization_naming_itself() -> None:
    tree = MemoryTree({
        "self/kustomization.yaml": "resources: [., s.yaml]\n",
        "self/s.yaml": _deployment("s"),
    })
    assert assert_agrees(tree, Reference.of(tree), ["self/s.yaml"]).overlays == {"self"}
