"""The Kustomize renderer: fixtures, provenance, inputs and roots, errors, trees, modes."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gate import executables
from gate.loading.renderers import FieldPath, RenderError, Rendering
from gate.loading.renderers.base import RenderSettings, Unit
from gate.loading.renderers.kustomize import binary as kustomize_binary
from gate.loading.renderers.kustomize import inputs as kustomize_inputs
from gate.loading.renderers.kustomize.images import split_image
from gate.loading.renderers.kustomize.json6902 import apply_json6902
from gate.loading.renderers.kustomize.loading import kustomization_file
from gate.loading.renderers.kustomize.output import content_hash
from gate.loading.renderers.kustomize.provenance import PatchError, Provenance
from gate.loading.renderers.kustomize.strategic_merge import strategic_merge
from gate.loading.renderers.registry import KUSTOMIZE
from gate.loading.trees import FileTree, WorkTree
from gate.loading.yamlio import load_documents
from tests.memtree import MemoryTree

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "kustomize"


# -- helpers -------------------------------------------------------------------------

def fixture_cases() -> list[tuple[str, str]]:
    """(case, overlay directory inside the case) for every expected.yaml."""
    cases = []
    for expected in sorted(FIXTURES.rglob("expected.yaml")):
        relative = expected.parent.relative_to(FIXTURES)
        case, *rest = relative.parts
        cases.append((case, "/".join(rest)))
    return cases


def expected_documents(case: str, directory: str) -> list[Any]:
    path = FIXTURES / case / directory / "expected.yaml"
    text = path.read_text(encoding="utf-8")
    return [d.data for d in load_documents(text, str(path)) if d.data is not None]


def objects(rendering: Rendering) -> list[dict[str, Any]]:
    return [r.obj for r in rendering.resources]


def render(files: Mapping[str, str | bytes], directory: str = "") -> Rendering:
    return krender(MemoryTree(files), directory, "builtin")


def line_of(path: Path, text: str, after: str | None = None) -> int:
    """1-based line of the first line containing ``text`` (after one containing ``after``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = 0
    if after is not None:
        start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if text in lines[i]) + 1


def find(rendering: Rendering, kind: str, name: str) -> Any:
    for resource in rendering.resources:
        if resource.obj["kind"] == kind and resource.obj["metadata"]["name"] == name:
            return resource
    names = [r.obj["metadata"]["name"] for r in rendering.resources]
    raise AssertionError(f"no {kind} {name} in {names}")


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25
"""


# Files fixtures read through transformers:, generators: and replacements: paths.
def krender(tree: FileTree, directory: str, mode: str = "auto") -> Rendering:
    """Render as the planner does: through the registry's Kustomize renderer."""
    return KUSTOMIZE.render(tree, Unit("kustomize", directory), RenderSettings(mode))


# -- fixtures render to their expected output ---------------------------------------------

@pytest.mark.parametrize(("case", "directory"), fixture_cases(),
                         ids=[f"{c}/{d}" if d else c for c, d in fixture_cases()])
def test_fixture_renders_to_expected(case: str, directory: str) -> None:
    rendering = krender(WorkTree(str(FIXTURES / case)), directory, "builtin")
    assert objects(rendering) == expected_documents(case, directory)
    assert rendering.directory == directory
    listed = kustomize_inputs.inputs(WorkTree(str(FIXTURES / case)), directory)
    # What the planner lists is exactly what rendering reads.
    assert listed == rendering.inputs


@pytest.mark.parametrize(("case", "directory"), fixture_cases(),
                         ids=[f"{c}/{d}" if d else c for c, d in fixture_cases()])
def test_memory_tree_renders_like_the_work_tree(case: str, directory: str) -> None:
    on_disk = krender(WorkTree(str(FIXTURES / case)), directory, "builtin")
    in_memory = krender(MemoryTree.copy_of(FIXTURES / case), directory, "builtin")
    assert objects(in_memory) == objects(on_disk)
    assert [(r.origin_file, r.origin_doc, r.origin_prefix, r.origin_line, r.provenance)
            for r in in_memory.resources] == [
        (r.origin_file, r.origin_doc, r.origin_prefix, r.origin_line, r.provenance)
        for r in on_disk.resources]
    assert in_memory.inputs == on_disk.inputs


def test_every_fixture_case_has_an_expected_rendering() -> None:
    for case in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        roots = kustomize_inputs.find_roots(WorkTree(str(case)))
        assert roots, case
        for root in roots:
            assert (case / root / "expected.yaml").is_file(), (case.name, root)


def test_a_shared_base_renders_independently_for_each_overlay() -> None:
    tree = WorkTree(str(FIXTURES / "basic"))
    dev = krender(tree, "overlays/dev", "builtin")
    prod = krender(tree, "overlays/prod", "builtin")
    again = krender(tree, "overlays/dev", "builtin")
    dev_web = find(dev, "Deployment", "dev-shop").obj
    prod_web = find(prod, "Deployment", "shop-prod").obj
    assert dev_web is not prod_web
    assert dev_web["spec"]["template"] is not prod_web["spec"]["template"]
    dev_web["spec"]["template"]["spec"]["containers"][0]["image"] = "mutated"
    assert objects(again) == expected_documents("basic", "overlays/dev")
    assert objects(krender(tree, "overlays/dev", "builtin")) == expected_documents(
        "basic", "overlays/dev")


def test_a_changed_file_is_read_again() -> None:
    tree = MemoryTree({"kustomization.yaml": "resources: [d.yaml]\n", "d.yaml": DEPLOYMENT})
    assert objects(krender(tree, "", "builtin"))[0]["metadata"]["name"] == "web"
    tree.files["d.yaml"] = DEPLOYMENT.replace("name: web\n", "name: api\n", 1).encode()
    assert objects(krender(tree, "", "builtin"))[0]["metadata"]["name"] == "api"


# -- provenance ------------------------------------------------------------------------

CONTAINERS: FieldPath = ("spec", "template", "spec", "containers")


def at(path: FieldPath, *more: str | int) -> FieldPath:
    return tuple(path) + tuple(more)

IMAGE = ("spec", "template", "spec", "containers", 0, "image")


def test_provenance_of_an_overlay_image_tag() -> None:
    rendering = krender(WorkTree(str(FIXTURES / "basic")), "overlays/dev", "builtin")
    web = find(rendering, "Deployment", "dev-shop")
    kustomization = FIXTURES / "basic/overlays/dev/kustomization.yaml"
    assert web.obj["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "registry.example.com/shop/web:latest")
    assert web.provenance[IMAGE] == ("overlays/dev/kustomization.yaml",
                                     line_of(kustomization, "newTag: latest"))
    assert web.origin_file == "base/deployment.yaml"
    assert (web.origin_doc, web.origin_prefix, web.origin_line) == (0, (), 1)
    # the second container's image was not touched by the overlay
    assert ("spec", "template", "spec", "containers", 1, "image") not in web.provenance


def test_provenance_of_kustomization_fields() -> None:
    rendering = krender(WorkTree(str(FIXTURES / "basic")), "overlays/prod", "builtin")
    web = find(rendering, "Deployment", "shop-prod")
    kustomization = FIXTURES / "basic/overlays/prod/kustomization.yaml"
    file = "overlays/prod/kustomization.yaml"
    assert web.provenance[("metadata", "namespace")] == (file, line_of(kustomization,
                                                                        "namespace:"))
    assert web.provenance[("metadata", "name")] == (file, line_of(kustomization, "nameSuffix"))
    assert web.provenance[("spec", "replicas")] == (file, line_of(kustomization, "count: 3"))
    assert web.provenance[("metadata", "labels", "env")] == (file, line_of(kustomization,
                                                                            "env: prod"))
    assert web.provenance[("spec", "template", "metadata", "annotations", "team")] == (
        file, line_of(kustomization, "team: checkout"))
    # the image entry sets both tag and digest: the newTag line
    assert web.provenance[IMAGE] == (file, line_of(kustomization, "newTag: 1.5.0"))
    assert web.provenance[("spec", "template", "spec", "containers", 1, "image")] == (
        file, line_of(kustomization, "newName: mirror.example.com/envoy"))
    # a label the base set keeps pointing at the base
    assert web.provenance[("metadata", "labels", "app.kubernetes.io/name")] == (
        "base/kustomization.yaml", line_of(FIXTURES / "basic/base/kustomization.yaml",
                                           "app.kubernetes.io/name"))


def test_provenance_of_patches() -> None:
    rendering = krender(WorkTree(str(FIXTURES / "basic")), "overlays/prod", "builtin")
    web = find(rendering, "Deployment", "shop-prod")
    patch = FIXTURES / "basic/overlays/prod/resources.yaml"
    web_container, proxy = at(CONTAINERS, 0), at(CONTAINERS, 1)
    assert web.provenance[at(web_container, "resources", "limits")] == (
        "overlays/prod/resources.yaml", line_of(patch, "limits:"))
    assert web.provenance[at(proxy, "resources")] == (
        "overlays/prod/resources.yaml", line_of(patch, "resources:", after="name: proxy"))
    # a merge key names the container; it sets nothing
    assert at(web_container, "name") not in web.provenance
    ops = FIXTURES / "basic/overlays/prod/probes.yaml"
    assert web.provenance[at(web_container, "readinessProbe")] == (
        "overlays/prod/probes.yaml", line_of(ops, "op: add"))
    assert web.provenance[at(web_container, "ports", 0, "containerPort")] == (
        "overlays/prod/probes.yaml", line_of(ops, "op: replace"))


def test_provenance_of_an_inline_patch_points_into_the_kustomization() -> None:
    rendering = krender(WorkTree(str(FIXTURES / "components")), "overlays/staging",
                         "builtin")
    cart = find(rendering, "Deployment", "cart")
    component = FIXTURES / "components/components/tracing/kustomization.yaml"
    file = "components/tracing/kustomization.yaml"
    env: FieldPath = ("spec", "template", "spec", "containers", 0, "env")
    # the JSON 6902 op appended to env, then the strategic merge patch rewrote env
    assert cart.obj["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "ENABLE_TRACING", "value": "1"},
        {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://collector:4317"},
    ]
    assert cart.provenance[at(env, 0)] == (file, line_of(component, "name: ENABLE_TRACING"))
    assert cart.provenance[at(env, 1)] == (file, line_of(component, "- op: add"))
    frontend = find(rendering, "Deployment", "frontend")
    assert frontend.provenance[IMAGE] == ("overlays/staging/kustomization.yaml", line_of(
        FIXTURES / "components/overlays/staging/kustomization.yaml", "newTag: v0.10.2"))


def test_origin_of_generated_and_listed_resources() -> None:
    rendering = krender(WorkTree(str(FIXTURES / "generators")), "overlay", "builtin")
    kustomization = FIXTURES / "generators/base/kustomization.yaml"
    flags = find(rendering, "ConfigMap", "prod-flags")
    assert (flags.origin_file, flags.origin_doc, flags.origin_prefix) == (
        "base/kustomization.yaml", 0, ("configMapGenerator", 2))
    assert flags.origin_line == line_of(kustomization, "name: flags")
    app_env = next(r for r in rendering.resources
                   if r.obj["metadata"]["name"].startswith("prod-app-env-"))
    overlay = FIXTURES / "generators/overlay/kustomization.yaml"
    assert app_env.provenance[("data", "LOG_LEVEL")] == (
        "overlay/kustomization.yaml", line_of(overlay, "LOG_LEVEL=warn"))
    assert app_env.provenance[("data", "CACHE_TTL")] == (
        "base/kustomization.yaml", line_of(kustomization, "files/app.env"))
    listed = krender(WorkTree(str(FIXTURES / "kinds")), "overlay", "builtin")
    item = find(listed, "ConfigMap", "pf-listed-b")
    assert (item.origin_file, item.origin_doc, item.origin_prefix) == (
        "base/list.yaml", 0, ("items", 1))
    assert item.origin_line == line_of(FIXTURES / "kinds/base/list.yaml", "- apiVersion",
                                       after="key: a")


# -- inputs and roots ---------------------------------------------------------------------

def test_inputs_follow_everything_a_kustomization_reads() -> None:
    tree = WorkTree(str(FIXTURES / "generators"))
    assert kustomize_inputs.inputs(tree, "overlay") == {
        "overlay/kustomization.yaml", "base/kustomization.yaml", "base/job.yaml",
        "base/files/app.env", "base/files/nginx.conf", "base/files/index.html",
        "base/files/logo.png", "base/files/tls.crt", "base/files/tls.key",
        "base/files/token.env",
    }
    components = WorkTree(str(FIXTURES / "components"))
    assert kustomize_inputs.inputs(components, "overlays/staging") == {
        "overlays/staging/kustomization.yaml", "base/kustomization.yaml",
        "base/frontend.yaml", "base/cart.yaml", "components/tracing/kustomization.yaml",
        "components/tracing/collector.yaml", "components/tracing/collector-config.yaml",
        "components/mirror-images/kustomization.yaml",
    }
    patches = WorkTree(str(FIXTURES / "patches"))
    assert {p for p in kustomize_inputs.inputs(patches, "overlay") if "patches/" in p} == {
        "overlay/patches/api-merge.yaml", "overlay/patches/service-ports.yaml",
        "overlay/patches/widget.yaml", "overlay/patches/api-ops.yaml",
    }


def test_inputs_of_a_broken_kustomization_do_not_raise() -> None:
    tree = MemoryTree({
        "a/kustomization.yaml": "resources: [../b, missing.yaml, https://x.io/y]\n",
        "b/kustomization.yaml": "resources: [: broken\n",
        "c/kustomization.yaml": "- not a mapping\n",
    })
    assert kustomize_inputs.inputs(tree, "a") == {"a/kustomization.yaml", "a/missing.yaml",
                                                  "b/kustomization.yaml"}
    assert kustomize_inputs.inputs(tree, "c") == {"c/kustomization.yaml"}
    assert kustomize_inputs.inputs(tree, "nowhere") == set()


def test_find_roots() -> None:
    find_roots = kustomize_inputs.find_roots
    assert find_roots(WorkTree(str(FIXTURES / "basic"))) == ["overlays/dev", "overlays/prod"]
    assert find_roots(WorkTree(str(FIXTURES / "components"))) == ["overlays/staging"]
    assert find_roots(WorkTree(str(FIXTURES / "multilevel"))) == ["overlays/eu-prod"]
    assert kustomize_inputs.find_roots(WorkTree(str(FIXTURES))) == sorted(
        f"{case}/{directory}" if directory else case for case, directory in fixture_cases())
    assert kustomize_inputs.find_roots(WorkTree(str(FIXTURES)), "basic/overlays") == [
        "basic/overlays/dev", "basic/overlays/prod"]
    # a base is a root when its overlays lie outside the directory searched
    assert kustomize_inputs.find_roots(WorkTree(str(FIXTURES)), "basic/base") == ["basic/base"]


def test_references_and_is_component() -> None:
    tree = WorkTree(str(FIXTURES / "components"))
    named = kustomize_inputs.references(tree, "overlays/staging")
    assert named is not None
    assert named.files == ["overlays/staging/kustomization.yaml"]
    assert named.directories == ["base", "components/tracing", "components/mirror-images"]
    assert kustomize_inputs.references(tree, "nowhere") is None
    assert kustomize_inputs.is_component(tree, "components/tracing")
    assert not kustomize_inputs.is_component(tree, "base")
    assert not kustomize_inputs.is_component(tree, "nowhere")


def test_find_roots_skips_hidden_directories_and_components() -> None:
    tree = MemoryTree({
        "app/kustomization.yaml": "resources: [deploy.yaml]\n",
        "app/deploy.yaml": DEPLOYMENT,
        ".github/kustomization.yaml": "resources: []\n",
        "lonely-component/kustomization.yaml": "kind: Component\n"
                                               "apiVersion: kustomize.config.k8s.io/v1alpha1\n",
        "Kustomization/x.yaml": "",
        "other/Kustomization": "resources: [../app]\n",
    })
    assert kustomize_inputs.find_roots(tree) == ["other"]
    assert kustomization_file(tree, "other") == "other/Kustomization"
    assert kustomization_file(tree, "nowhere") is None


# -- errors -----------------------------------------------------------------------------

def render_error(files: Mapping[str, str | bytes], directory: str = "") -> RenderError:
    with pytest.raises(RenderError) as caught:
        render(files, directory)
    return caught.value


@pytest.mark.parametrize(("field", "value", "feature"), [
    ("helmCharts", "[{name: x}]", "Helm"),
    ("vars", "[{name: X}]", "vars"),
    ("validators", "[v.yaml]", "validator"),
    ("openapi", "{path: schema.json}", "OpenAPI"),
    ("crds", "[crd.json]", "CRD"),
    ("configurations", "[c.yaml]", "configurations"),
    ("buildMetadata", "[originAnnotations]", "annotations"),
])
def test_unsupported_fields_are_errors(field: str, value: str, feature: str) -> None:
    error = render_error({"kustomization.yaml": f"resources: []\n{field}: {value}\n"})
    assert field in error.message and feature in error.message
    assert (error.file, error.line) == ("kustomization.yaml", 2)


@pytest.mark.parametrize(("text", "expected", "line"), [
    ("resources: []\nfoo: bar\n", "unknown kustomization field 'foo'", 2),
    ("namePrefix: 1\n", "namePrefix: must be a string", 1),
    ("resources: a.yaml\n", "resources: must be a list of strings", 1),
    ("commonLabels:\n  version: 1.0\n", "commonLabels.version: must be a map of strings", 2),
    ("images:\n- name: nginx\n  newTag: 1.10\n", "images[0].newTag: must be a string", 3),
    ("images:\n- name: nginx\n  tag: x\n", "images[0]: unknown field 'tag'", 3),
    ("replicas:\n- name: web\n  count: '3'\n", "replicas[0].count: must be an integer", 3),
    ("kind: Overlay\n", "kind: must be Kustomization or Component", 1),
    ("apiVersion: v1\n", "apiVersion: must be kustomize.config.k8s.io/v1beta1", 1),
    ("sortOptions: {order: random}\n", "sortOptions.order", 1),
    ("- resources\n", "must be a mapping", 1),
    ("", "the kustomization is empty", None),
    ("resources: []\n---\nresources: []\n", "single YAML document", 3),
    ("resources: [a, a\n", "invalid YAML", 2),
])
def test_invalid_kustomizations(text: str, expected: str, line: int | None) -> None:
    error = render_error({"kustomization.yaml": text})
    assert expected in error.message
    assert (error.file, error.line) == ("kustomization.yaml", line)


@pytest.mark.parametrize("entry", [
    "https://github.com/acme/config//base?ref=v1",
    "github.com/acme/config/base?ref=main",
    "git@github.com:acme/config.git",
    "ssh://git@example.com/config.git",
    "example.com/acme/config/base",
])
def test_remote_resources_are_errors(entry: str) -> None:
    error = render_error({"o/kustomization.yaml": f"resources:\n  - ok.yaml\n  - {entry}\n",
                          "o/ok.yaml": DEPLOYMENT}, "o")
    assert "remote resources are not supported (gate reads no network)" in error.message
    assert (error.file, error.line) == ("o/kustomization.yaml", 3)


@pytest.mark.parametrize(("entry", "expected"), [
    ("../../outside", "leaves the repository"),
    ("/etc/passwd", "absolute path"),
])
def test_paths_that_leave_the_tree_are_errors(entry: str, expected: str) -> None:
    error = render_error({"o/kustomization.yaml": f"resources:\n  - {entry}\n"}, "o")
    assert expected in error.message and "resources" in error.message
    assert (error.file, error.line) == ("o/kustomization.yaml", 2)


def test_missing_files_are_errors() -> None:
    error = render_error({"o/kustomization.yaml": "resources:\n  - deploy.yaml\n"}, "o")
    assert "resources[0]: 'deploy.yaml': no such file or directory" in error.message
    assert (error.file, error.line) == ("o/kustomization.yaml", 2)
    error = render_error({"o/kustomization.yaml": "patches:\n  - path: p.yaml\n"}, "o")
    assert "o/p.yaml: no such file" in error.message
    assert (error.file, error.line) == ("o/kustomization.yaml", 2)
    error = render_error({"kustomization.yaml": "resources: [base]\n", "base/x.yaml": ""})
    assert "no kustomization" in error.message and "base" in error.message
    assert (error.file, error.line) == ("kustomization.yaml", 1)
    error = render_error({}, "nowhere")
    assert "no kustomization" in error.message and error.file == "nowhere"


@pytest.mark.parametrize("kustomization", [
    "resources:\n  - ../shared/deploy.yaml\n",
    "patches:\n  - path: ../shared/deploy.yaml\n",
    "configMapGenerator:\n  - name: c\n    files:\n      - ../shared/deploy.yaml\n",
])
def test_files_outside_the_kustomization_directory_are_errors(kustomization: str) -> None:
    files = {"o/kustomization.yaml": kustomization, "shared/deploy.yaml": DEPLOYMENT}
    error = render_error(files, "o")
    assert "not in or below" in error.message and "load restrictor" in error.message
    assert error.file == "o/kustomization.yaml"
    assert error.line == kustomization.count("\n")


def test_cycles_are_errors() -> None:
    error = render_error({"a/kustomization.yaml": "resources: [../b]\n",
                          "b/kustomization.yaml": "resources:\n  - ../a\n"}, "a")
    assert "kustomization cycle" in error.message
    assert (error.file, error.line) == ("b/kustomization.yaml", 2)
    error = render_error({"a/b/kustomization.yaml": "resources:\n  - ..\n",
                          "a/kustomization.yaml": "resources: []\n"}, "a/b")
    assert "kustomization cycle" in error.message


def test_duplicate_ids_are_errors() -> None:
    error = render_error({"kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n",
                          "a.yaml": DEPLOYMENT, "b.yaml": DEPLOYMENT})
    assert "Deployment web" in error.message and "already in the resources" in error.message
    assert (error.file, error.line) == ("kustomization.yaml", 3)
    error = render_error({
        "kustomization.yaml": "namespace: one\nresources: [a.yaml]\n",
        "a.yaml": DEPLOYMENT + "---\n" + DEPLOYMENT.replace("name: web\n",
                                                            "name: web\n  namespace: two\n", 1),
    })
    assert "same id" in error.message
    assert (error.file, error.line) == ("kustomization.yaml", 1)


def test_components_and_kustomizations_must_be_used_as_such() -> None:
    component = ("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n")
    error = render_error({"kustomization.yaml": "resources:\n  - c\n",
                          "c/kustomization.yaml": component})
    assert "is a Component" in error.message
    assert (error.file, error.line) == ("kustomization.yaml", 2)
    error = render_error({"kustomization.yaml": "components:\n  - k\n",
                          "k/kustomization.yaml": "resources: []\n"})
    assert "components[0]" in error.message and "not a Component" in error.message
    assert (error.file, error.line) == ("kustomization.yaml", 2)


@pytest.mark.parametrize(("kustomization", "files", "expected", "where"), [
    ("resources: [d.yaml]\npatches:\n  - path: p.yaml\n",
     {"p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nope\n"},
     "no resource matches this strategic merge patch (apps/v1 Deployment nope)", ("p.yaml", 1)),
    ("resources: [d.yaml]\npatchesStrategicMerge:\n  - p.yaml\n",
     {"p.yaml": "kind: Deployment\nmetadata:\n  name: web\n"},
     "no resource matches", ("p.yaml", 1)),
    ("resources: [d.yaml]\npatches:\n  - path: p.yaml\n",
     {"p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                "spec:\n  template:\n    spec:\n      $setElementOrder/containers: []\n"},
     "$setElementOrder/containers", ("p.yaml", 8)),
    ("resources: [d.yaml]\npatches:\n  - path: p.yaml\n",
     {"p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                "spec:\n  template: [1]\n"},
     "cannot merge a list into a map", ("p.yaml", 6)),
    ("resources: [d.yaml]\npatches:\n  - path: p.yaml\n",
     {"p.yaml": "- op: add\n  path: /spec/x\n  value: 1\n"},
     "needs a target", ("kustomization.yaml", 3)),
    ("resources: [d.yaml]\npatches:\n  - target: {kind: Deployment}\n    path: p.yaml\n",
     {"p.yaml": "- op: add\n  path: /spec/x\n  value: 1\n- op: remove\n  path: /spec/nope\n"},
     "JSON 6902 remove operation does not apply: doc is missing path '/spec/nope'",
     ("p.yaml", 4)),
    ("resources: [d.yaml]\npatches:\n  - target: {kind: Deployment}\n    patch: |-\n"
     "      - op: test\n        path: /metadata/name\n        value: api\n", {},
     "JSON 6902 test failed", ("kustomization.yaml", 5)),
    ("resources: [d.yaml]\npatches:\n  - target: {kind: Deployment}\n    patch: |-\n"
     "      - op: launch\n        path: /x\n", {},
     "unknown JSON 6902 operation 'launch'", ("kustomization.yaml", 5)),
    ("resources: [d.yaml]\npatches:\n  - {}\n", {}, "path or patch is required",
     ("kustomization.yaml", 3)),
    ("resources: [d.yaml]\npatches:\n  - target: {name: '('}\n    patch: '[]'\n", {},
     "invalid regular expression", ("kustomization.yaml", 3)),
    ("resources: [d.yaml]\npatches:\n  - target: {labelSelector: 'a in b'}\n    patch: '[]'\n",
     {}, "invalid selector", ("kustomization.yaml", 3)),
    ("resources: [d.yaml]\npatchesJson6902:\n  - path: p.yaml\n", {"p.yaml": "[]"},
     "target is required", ("kustomization.yaml", 3)),
    ("resources: [d.yaml]\nreplicas:\n  - name: api\n    count: 2\n", {},
     "no Deployment, ReplicationController, ReplicaSet or StatefulSet is named 'api'",
     ("kustomization.yaml", 3)),
    ("resources: [d.yaml]\nimages:\n  - name: '['\n    newTag: x\n", {},
     "images[0].name", ("kustomization.yaml", 3)),
])
def test_transformer_errors(kustomization: str, files: dict[str, str], expected: str,
                            where: tuple[str, int]) -> None:
    error = render_error({"kustomization.yaml": kustomization, "d.yaml": DEPLOYMENT, **files})
    assert expected in error.message
    assert (error.file, error.line) == where


@pytest.mark.parametrize(("generator", "files", "expected", "line"), [
    ("- name: c\n  literals: [A=1, A=2]\n", {}, "key 'A' is defined twice", 3),
    ("- literals: [A=1]\n", {}, "name is required", 2),
    ("- name: c\n  literals:\n    - A\n", {}, "'A' is not KEY=VALUE", 4),
    ("- name: c\n  behavior: merge\n  literals: [A=1]\n", {}, "there is no ConfigMap c", 2),
    ("- name: c\n  behavior: upsert\n", {}, "behavior: must be create, merge or replace", 3),
    ("- name: c\n  files:\n    - a=b=c\n", {}, "must be PATH or KEY=PATH", 4),
    ("- name: c\n  envs:\n    - app.env\n", {"app.env": "=x\n"}, "a variable needs a name", 4),
    ("- name: c\n  envs:\n    - app.env\n", {"app.env": b"A=\xff\n"}, "not valid UTF-8", 4),
])
def test_generator_errors(generator: str, files: dict[str, Any], expected: str,
                          line: int) -> None:
    error = render_error({"kustomization.yaml": "configMapGenerator:\n" + generator, **files})
    assert expected in error.message
    assert (error.file, error.line) == ("kustomization.yaml", line)


def test_generating_an_existing_name_needs_a_behavior() -> None:
    error = render_error({
        "kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n  - name: c\n",
        "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    })
    assert "already exists" in error.message and "behavior: merge or replace" in error.message
    assert (error.file, error.line) == ("kustomization.yaml", 3)


@pytest.mark.parametrize(("document", "expected", "line"), [
    ("apiVersion: v1\nmetadata:\n  name: a\n", "missing kind", 1),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "missing metadata.name", 1),
    ("---\n- a\n", "document 1 is not a mapping", 2),
    ("a: [\n", "invalid YAML", 2),
    ("a: 1\na: 2\n", "duplicate key", 2),
])
def test_bad_resource_files(document: str, expected: str, line: int) -> None:
    error = render_error({"kustomization.yaml": "resources: [r.yaml]\n", "r.yaml": document})
    assert expected in error.message
    assert (error.file, error.line) == ("r.yaml", line)


# -- a few behaviours in detail ----------------------------------------------------------------

def test_content_hash_matches_kustomize() -> None:
    # names kubectl kustomize (v5.5.0) gave these generators
    assert content_hash({"kind": "ConfigMap"}) == "6ct58987ht"
    assert content_hash({"kind": "ConfigMap", "data": {"A": "1", "B": "two", "C": "'x",
                                                      "U": "é ü 日本"}}) == "5dm8tfh7bc"
    assert content_hash({"kind": "ConfigMap", "binaryData": {"bin.dat": "//4="}}) == (
        "8bfh529d7k")
    text = 'hello <world> & "x"\n\ttab\x01\n'
    assert content_hash({"kind": "ConfigMap", "data": {"f.txt": text, "other": text}}) == (
        "mh25m779bf")
    assert content_hash({"kind": "Secret", "type": "Opaque", "data": {}}) == "46f8b28mk5"
    assert content_hash({"kind": "Secret", "type": "kubernetes.io/tls",
                         "data": {"tls.crt": "eA==", "tls.key": "eQ=="}}) == "f4c6k54dt5"


@pytest.mark.parametrize(("image", "parts"), [
    ("nginx", ("nginx", "", "")),
    ("nginx:1.25", ("nginx", "1.25", "")),
    ("nginx@sha256:abc", ("nginx", "", "sha256:abc")),
    ("nginx:1.25@sha256:abc", ("nginx", "1.25", "sha256:abc")),
    ("registry:5000/app", ("registry:5000/app", "", "")),
    ("registry:5000/app:v1", ("registry:5000/app", "v1", "")),
])
def test_split_image(image: str, parts: tuple[str, str, str]) -> None:
    assert split_image(image) == parts


def test_sort_options_fifo_keeps_the_order_of_accumulation() -> None:
    files = {
        "kustomization.yaml": "sortOptions:\n  order: fifo\nresources: [d.yaml, ns.yaml]\n",
        "d.yaml": DEPLOYMENT,
        "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
    }
    assert [r.obj["kind"] for r in render(files).resources] == ["Deployment", "Namespace"]
    files["kustomization.yaml"] = "resources: [d.yaml, ns.yaml]\n"
    assert [r.obj["kind"] for r in render(files).resources] == ["Namespace", "Deployment"]


def test_bases_component_generators_and_kustomization_file_names() -> None:
    files = {
        "base/Kustomization": "resources: [d.yaml]\n",
        "base/d.yaml": DEPLOYMENT,
        "comp/kustomization.yml": "apiVersion: kustomize.config.k8s.io/v1alpha1\n"
                                  "kind: Component\nconfigMapGenerator:\n  - name: c\n"
                                  "    literals: [A=1]\n",
        "o/kustomization.yaml": "bases: [../base]\ncomponents: [../comp]\nnamePrefix: o-\n",
    }
    rendering = render(files, "o")
    assert [r.obj["metadata"]["name"] for r in rendering.resources] == [
        "o-c-89g4tffbfk", "o-web"]
    assert rendering.inputs == {"base/Kustomization", "base/d.yaml", "comp/kustomization.yml",
                                "o/kustomization.yaml"}


def test_two_kustomization_files_are_an_error() -> None:
    error = render_error({"kustomization.yaml": "resources: []\n",
                          "kustomization.yml": "resources: []\n"})
    assert "more than one kustomization file" in error.message


def test_strategic_merge_and_json_patch_functions() -> None:
    target = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
              "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}}
    provenance = Provenance({("spec", "containers", 1, "name"): ("old.yaml", 3)})
    result = strategic_merge(target, {"spec": {"containers": [{"name": "c"}, {
        "name": "a", "image": "y"}]}}, provenance, lambda path: ("p.yaml", len(path)))
    assert result is not None
    assert [c["name"] for c in result["spec"]["containers"]] == ["c", "a", "b"]
    assert provenance[("spec", "containers", 0)] == ("p.yaml", 3)
    assert provenance[("spec", "containers", 1, "image")] == ("p.yaml", 4)
    assert provenance[("spec", "containers", 2, "name")] == ("old.yaml", 3)
    assert strategic_merge(target, {"$patch": "delete"}) is None
    doc = {"a": [1, 2, 3]}
    provenance = Provenance({("a", 2): ("x", 1)})
    apply_json6902(doc, [{"op": "add", "path": "/a/0", "value": 0},
                         {"op": "remove", "path": "/a/1"}], provenance, lambda i: ("j", i))
    assert doc == {"a": [0, 2, 3]}
    assert provenance == {("a", 0): ("j", 0), ("a", 2): ("x", 1)}
    with pytest.raises(PatchError):
        apply_json6902({"a": []}, [{"op": "replace", "path": "/a/0", "value": 1}])


# -- modes and the binary ------------------------------------------------------------------------

def test_render_modes(monkeypatch: pytest.MonkeyPatch) -> None:
    tree = MemoryTree({"kustomization.yaml": "resources: [d.yaml]\n", "d.yaml": DEPLOYMENT})
    with pytest.raises(RenderError, match="unknown Kustomize mode 'sometimes'"):
        krender(tree, "", "sometimes")
    monkeypatch.setattr(kustomize_binary, "find_binary", lambda: None)
    assert objects(krender(tree, "", "auto")) == objects(krender(tree, "", "builtin"))
    with pytest.raises(RenderError, match="neither kustomize nor kubectl") as caught:
        krender(tree, "", "binary")
    assert caught.value.file == "kustomization.yaml"


def test_binary_error_lines() -> None:
    stderr = ('E1128 05:22:25 run.go:72] "command failed" err="accumulating resources: '
              'accumulation err=\'boom\': must build at directory"\n')
    assert kustomize_binary._error_line(stderr).startswith("accumulating resources")
    stderr = ('E1128 run.go:72] "command failed" err=<\n\tFailed to read kustomization file '
              'under /x:\n\tkind should be Kustomization or Component\n >\n')
    assert kustomize_binary._error_line(stderr) == (
        "Failed to read kustomization file under /x: kind should be Kustomization or Component")
    stderr = ('E1128 run.go:72] "command failed" err="trouble configuring: `\\npath: m.yaml'
              '\\n`: no such file"\n')
    assert kustomize_binary._error_line(stderr) == (
        "trouble configuring: ` path: m.yaml `: no such file")
    assert kustomize_binary._error_line("Error: no such file\n") == "no such file"
    assert kustomize_binary._error_line("") == "failed without a message"


needs_binary = pytest.mark.skipif(kustomize_binary.find_binary() is None,
                                  reason="neither kustomize nor kubectl is installed")


@pytest.mark.e2e
@needs_binary
def test_binary_mode_on_the_work_tree_and_in_memory() -> None:
    tree = WorkTree(str(FIXTURES / "basic"))
    on_disk = krender(tree, "overlays/prod", "binary")
    assert objects(on_disk) == expected_documents("basic", "overlays/prod")
    assert on_disk.inputs == kustomize_inputs.inputs(tree, "overlays/prod")
    builtin = krender(tree, "overlays/prod", "builtin")
    assert [(r.origin_file, r.origin_line, r.provenance) for r in on_disk.resources] == [
        (r.origin_file, r.origin_line, r.provenance) for r in builtin.resources]
    in_memory = krender(MemoryTree.copy_of(FIXTURES / "basic"), "overlays/prod", "binary")
    assert objects(in_memory) == objects(on_disk)


@pytest.mark.e2e
@needs_binary
def test_binary_mode_without_builtin_support_traces_to_the_source_document() -> None:
    """The built-in renderer refuses vars, so no provenance: the binary's resource is
    still traced to the document it started from (by kind and name)."""
    files = {"kustomization.yaml": "resources: [d.yaml]\nbuildMetadata: []\n"
                                   "vars:\n  - name: NAME\n    objref: {apiVersion: apps/v1, "
                                   "kind: Deployment, name: web}\n"
                                   "replacements:\n  - source: {kind: Deployment, "
                                   "fieldPath: metadata.name}\n    targets:\n"
                                   "      - select: {kind: Deployment}\n"
                                   "        fieldPaths: [metadata.annotations.copy]\n"
                                   "        options: {create: true}\n",
             "d.yaml": DEPLOYMENT}
    with pytest.raises(RenderError, match="vars"):
        render(files)
    rendering = krender(MemoryTree(files), "", "binary")
    [web] = rendering.resources
    assert web.obj["metadata"]["annotations"] == {"copy": "web"}
    assert (web.origin_file, web.origin_doc, web.origin_line, web.provenance) == (
        "d.yaml", 0, 1, {})


@pytest.mark.e2e
@needs_binary
def test_binary_output_found_nowhere_points_at_the_kustomization() -> None:
    files = {"kustomization.yaml": "resources: [d.yaml]\nbuildMetadata: [managedByLabel]\n"
                                   "patches:\n  - patch: |-\n      - {op: replace, path: "
                                   "/metadata/name, value: other}\n"
                                   "    target: {kind: Deployment}\n",
             "d.yaml": DEPLOYMENT}
    [other] = krender(MemoryTree(files), "", "binary").resources
    assert other.obj["metadata"]["name"] == "other"
    assert (other.origin_file, other.origin_line) == ("kustomization.yaml", 1)


@pytest.mark.e2e
@needs_binary
def test_binary_failure_is_a_render_error() -> None:
    # (A missing resource never reaches the binary: it would take it for a remote one.)
    with pytest.raises(RenderError) as caught:
        krender(MemoryTree({"o/kustomization.yaml": "resources: [cm.yaml]\n",
                            "o/cm.yaml": "apiVersion: v1\nkind: ConfigMap\n"}), "o",
                 "binary")
    assert caught.value.file == "o/kustomization.yaml"
    assert "failed" in caught.value.message and "name" in caught.value.message


@needs_binary
def test_a_missing_resource_is_refused_before_the_binary_runs() -> None:
    with pytest.raises(RenderError) as caught:
        krender(MemoryTree({"o/kustomization.yaml": "resources: [missing.yaml]\n"}), "o",
                 "binary")
    assert (caught.value.file, caught.value.line) == ("o/kustomization.yaml", 1)
    assert caught.value.message == ("resources[0]: 'missing.yaml': no such file or directory "
                                    "in the repository")


def test_auto_uses_a_binary_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake(tree: Any, directory: str, command: list[str]) -> Rendering:
        calls.append(command)
        return Rendering(directory, [], set())

    monkeypatch.setattr(kustomize_binary, "find_binary", lambda: ["kustomize", "build"])
    monkeypatch.setattr(kustomize_binary, "render_with_binary", fake)
    krender(MemoryTree({"kustomization.yaml": "resources: []\n"}), "", "auto")
    assert calls == [["kustomize", "build"]]


def test_find_binary_prefers_kustomize(monkeypatch: pytest.MonkeyPatch) -> None:
    found = {"kustomize": "/bin/kustomize", "kubectl": "/bin/kubectl"}
    monkeypatch.setattr(executables, "find", lambda name: found.get(name))
    assert kustomize_binary.find_binary() == ["/bin/kustomize", "build"]
    del found["kustomize"]
    assert kustomize_binary.find_binary() == ["/bin/kubectl", "kustomize"]
    found.clear()
    assert kustomize_binary.find_binary() is None


# -- transformers:, generators: (builtin plugin configs) and replacements: ---------------------

def test_provenance_of_builtin_plugin_configs() -> None:
    rendering = krender(WorkTree(str(FIXTURES / "plugins")), "overlay", "builtin")
    web = find(rendering, "Deployment", "shop-web-v2")
    overlay = FIXTURES / "plugins/overlay"
    configs = overlay / "more/transformers.yaml"
    labels = "overlay/labels.yaml", line_of(overlay / "labels.yaml", "instance: webapp")
    assert web.provenance[("metadata", "labels", "app.kubernetes.io/instance")] == labels
    assert web.provenance[("spec", "template", "metadata", "labels",
                           "app.kubernetes.io/instance")] == labels
    # an inline config points into the kustomization, at its own line
    assert web.provenance[("metadata", "namespace")] == (
        "overlay/kustomization.yaml", line_of(overlay / "kustomization.yaml", "namespace: shop"))
    # a directory of configs: each field points at its config's line
    more = "overlay/more/transformers.yaml"
    assert web.provenance[("metadata", "name")] == (more, line_of(configs, "suffix: -v2"))
    assert web.provenance[("metadata", "annotations", "team")] == (
        more, line_of(configs, "team: storefront"))
    assert web.provenance[("spec", "template", "spec", "containers", 0, "image")] == (
        more, line_of(configs, "newTag: 1.4.2"))
    assert web.provenance[("spec", "replicas")] == (more, line_of(configs, "count: 3"))
    assert web.provenance[("spec", "template", "spec", "containers", 0, "resources")] == (
        more, line_of(configs, "- op: add"))
    assert web.provenance[("spec", "template", "spec", "containers", 0, "readinessProbe")] == (
        more, line_of(configs, "readinessProbe:"))
    service = find(rendering, "Service", "shop-web-v2")
    assert service.provenance[("spec", "type")] == (more, line_of(configs, "jsonOp:"))
    settings = find(rendering, "ConfigMap", "shop-web-settings-v2-588tg5kffk")
    assert settings.origin_file == "overlay/settings.yaml"
    assert settings.provenance[("data", "LOG_LEVEL")] == (
        "overlay/settings.yaml", line_of(overlay / "settings.yaml", "LOG_LEVEL=debug"))
    token = find(rendering, "Secret", "shop-web-token-v2-ckd59g56hk")
    assert token.provenance[("data", "token")] == (
        "overlay/kustomization.yaml", line_of(overlay / "kustomization.yaml", "token=s3cr3t"))


def test_provenance_of_replacements() -> None:
    rendering = krender(WorkTree(str(FIXTURES / "replacements")), "overlay", "builtin")
    overlay = FIXTURES / "replacements/overlay"
    kustomization = overlay / "kustomization.yaml"
    web = find(rendering, "Deployment", "prod-web")
    assert web.provenance[("spec", "template", "spec", "containers", 1, "env", 0, "value")] == (
        "overlay/kustomization.yaml", line_of(kustomization, "[name=REGION].value"))
    assert web.provenance[("spec", "template", "spec", "containers", 0, "image")] == (
        "overlay/kustomization.yaml", line_of(kustomization, "containers.0.image"))
    assert web.provenance[("spec", "replicas")] == (
        "overlay/kustomization.yaml", line_of(kustomization, "- spec.replicas"))
    ingress = find(rendering, "Ingress", "prod-web")
    file = overlay / "ingress-replacements.yaml"
    assert ingress.provenance[("spec", "tls", 0, "hosts", 0)] == (
        "overlay/ingress-replacements.yaml", line_of(file, "spec.tls.*.hosts.0"))
    assert ingress.provenance[("metadata", "annotations", "app.example.com/backend")] == (
        "overlay/ingress-replacements.yaml", line_of(file, "app\\.example"))


def test_inline_plugin_configs_run_before_those_in_files() -> None:
    prefix = ("apiVersion: builtin\nkind: PrefixTransformer\nmetadata: {{name: {0}}}\n"
              "prefix: {0}-\nfieldSpecs: [{{path: metadata/name}}]\n")
    rendering = render({
        "kustomization.yaml": "resources: [d.yaml]\ntransformers:\n- file.yaml\n- |-\n"
                              + "".join(f"  {line}\n" for line in prefix.format(
                                  "inline").splitlines()),
        "file.yaml": prefix.format("file"), "d.yaml": DEPLOYMENT})
    [web] = rendering.resources
    assert web.obj["metadata"]["name"] == "file-inline-web"
    assert web.provenance[("metadata", "name")] == ("file.yaml", 4)


TRANSFORMER = "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: x}\n"


@pytest.mark.parametrize(("files", "expected", "where"), [
    ({"t.yaml": "apiVersion: example.com/v1\nkind: Sops\nmetadata: {name: x}\n"},
     "Sops (example.com/v1) is an exec, container or Go plugin", ("t.yaml", 1)),
    ({"t.yaml": "apiVersion: builtin\nkind: HashTransformer\nmetadata: {name: x}\n"},
     "the builtin HashTransformer is not supported", ("t.yaml", 2)),
    ({"t.yaml": "apiVersion: builtin\nkind: Nonsense\nmetadata: {name: x}\n"},
     "no builtin plugin 'Nonsense'", ("t.yaml", 2)),
    ({"t.yaml": "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: x}\n"},
     "ConfigMapGenerator is not a transformer", ("t.yaml", 2)),
    ({"t.yaml": TRANSFORMER + "labels: {a: b}\nfieldSpec: []\n"},
     "unknown field 'fieldSpec'", ("t.yaml", 5)),
    ({"t.yaml": TRANSFORMER + "labels: {a: 1}\n"}, "labels.a: must be a map of strings",
     ("t.yaml", 4)),
    ({"t.yaml": TRANSFORMER + "---\n" + TRANSFORMER}, "already in the resources",
     ("kustomization.yaml", 3)),
    ({"t.yaml": "apiVersion: builtin\nkind: PrefixTransformer\nmetadata: {name: x}\n"
                "prefix: p-\n"}, "fieldSpecs is required", ("t.yaml", 1)),
    ({"t.yaml": "apiVersion: builtin\nkind: ReplicaCountTransformer\nmetadata: {name: x}\n"
                "replica: {name: nothing, count: 2}\n"
                "fieldSpecs: [{path: spec/replicas, kind: Deployment}]\n"},
     "no resource named 'nothing'", ("t.yaml", 4)),
    ({"t.yaml": "apiVersion: builtin\nkind: NamespaceTransformer\n"
                "metadata: {name: x, namespace: a}\nsetRoleBindingSubjects: some\n"},
     "setRoleBindingSubjects: must be one of", ("t.yaml", 4)),
    ({}, "'t.yaml': no such file or directory", ("kustomization.yaml", 3)),
])
def test_transformer_plugin_errors(files: dict[str, str], expected: str,
                                   where: tuple[str, int]) -> None:
    error = render_error({"kustomization.yaml": "resources: [d.yaml]\ntransformers:\n"
                                                "- t.yaml\n", "d.yaml": DEPLOYMENT, **files})
    assert expected in error.message
    assert (error.file, error.line) == where


def test_generator_plugin_errors() -> None:
    error = render_error({"kustomization.yaml": "generators:\n- |-\n  apiVersion: builtin\n"
                                                "  kind: LabelTransformer\n"
                                                "  metadata: {name: x}\n"})
    assert "LabelTransformer is not a generator" in error.message
    assert (error.file, error.line) == ("kustomization.yaml", 4)
    error = render_error({"kustomization.yaml": "generators:\n- |-\n  apiVersion: builtin\n"
                                                "  kind: SecretGenerator\n"})
    assert "needs metadata.name" in error.message


SOURCE = "source: {kind: ConfigMap, name: settings, fieldPath: data.value}\n"
SETTINGS = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {value: '5'}\n"


@pytest.mark.parametrize(("replacement", "expected"), [
    ("source: {kind: Secret}\n  targets: []", "nothing is selected by {kind=Secret}"),
    ("source: {version: v1}\n  targets: []", "selects more than one resource"),
    (SOURCE.replace("data.value", "data.other") + "  targets: []",
     "source.fieldPath 'data.other' is missing"),
    (SOURCE.replace("data.value", "data.*") + "  targets: []", "wildcard"),
    (SOURCE + "  targets: [{select: {kind: Deployment}, fieldPaths: [spec.nothing]}]",
     "unable to find field 'spec.nothing'"),
    (SOURCE + "  targets: [{select: {kind: Deployment}, fieldPaths: [metadata.name.x]}]",
     "expected a mapping, found a scalar"),
    (SOURCE + "  targets: [{select: {kind: Deployment}, fieldPaths: [spec.paused]}]",
     "the target field is null"),
    (SOURCE + "  targets: [{fieldPaths: [spec.replicas]}]", "select is required"),
    (SOURCE.rstrip(), "needs a source and at least one target"),
    ("path: r.yaml\n  " + SOURCE + "  targets: []", "set path or an inline replacement"),
    (SOURCE + "  targets: [{select: {kind: Deployment}, fieldPaths: [spec.flag]}]",
     "'5' is not bool"),
    (SOURCE + "  targets: [{select: {kind: Deployment}, selector: {}}]",
     "unknown field 'selector'"),
])
def test_replacement_errors(replacement: str, expected: str) -> None:
    files = {"kustomization.yaml": f"resources: [d.yaml, c.yaml]\nreplacements:\n"
                                   f"- {replacement}\n",
             "d.yaml": DEPLOYMENT.replace("spec:\n", "spec:\n  flag: true\n  paused: null\n", 1),
             "c.yaml": SETTINGS}
    error = render_error(files)
    assert expected in error.message
    assert error.file == "kustomization.yaml" and error.line is not None and error.line >= 3


def test_replacements_keep_the_target_type_and_create_fields() -> None:
    rendering = render({
        "kustomization.yaml": "resources: [d.yaml, c.yaml]\nreplacements:\n- " + SOURCE
                              + "  targets:\n  - select: {kind: Deployment}\n"
                              "    fieldPaths:\n    - spec.replicas\n    - metadata.labels.count\n"
                              "    - spec.template.spec.containers.[name=web].args.0\n"
                              "    options: {create: true}\n",
        "d.yaml": DEPLOYMENT.replace("spec:\n", "spec:\n  replicas: 1\n", 1),
        "c.yaml": SETTINGS})
    web = find(rendering, "Deployment", "web")
    assert web.obj["spec"]["replicas"] == 5
    assert web.obj["metadata"]["labels"] == {"count": 5}  # created: read as plain YAML
    assert web.obj["spec"]["template"]["spec"]["containers"][0]["args"] == [5]
    assert web.provenance[("spec", "replicas")] == ("kustomization.yaml", 7)
    assert web.provenance[("spec", "template", "spec", "containers", 0, "args", 0)] == (
        "kustomization.yaml", 9)
