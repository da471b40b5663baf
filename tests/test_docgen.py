"""docs/policies/ is generated from the built-in policy files and never goes stale."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from gate import docgen
from gate.config import apply_config, load_config
from gate.evaluation.policy import Policy
from gate.evaluation.policy_loading import load_builtin
from tests.processes import run

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "policies"
BUILTIN: dict[str, Policy] = {policy.id: policy for policy in load_builtin()}
LINK = re.compile(r"\]\(([^)\s]+)\)")
REGENERATE = "regenerate with: python -m gate.docgen docs/policies"


def page(policy_id: str) -> str:
    return (DOCS / f"{policy_id}.md").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_committed_pages_are_up_to_date(tmp_path: Path) -> None:
    """Byte for byte what the generator writes now, and nothing else."""
    proc = run([sys.executable, "-m", "gate.docgen", str(tmp_path / "out")], cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    generated = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    committed = {p.name: p.read_bytes() for p in DOCS.iterdir()}
    assert sorted(committed) == sorted(generated), REGENERATE
    stale = [name for name in generated if committed[name] != generated[name]]
    assert not stale, f"out of date: {stale}; {REGENERATE}"


def test_check_mode_agrees() -> None:
    assert docgen.main([str(DOCS), "--check"]) == 0


def test_every_builtin_policy_has_a_page() -> None:
    assert sorted(p.name for p in DOCS.glob("*.md")) == sorted(
        [f"{policy_id}.md" for policy_id in BUILTIN] + [docgen.INDEX]
    )


def test_index_links_every_page() -> None:
    index = (DOCS / docgen.INDEX).read_text(encoding="utf-8")
    linked = [target for target in LINK.findall(index) if target.endswith(".md")]
    assert sorted(linked) == sorted(f"{policy_id}.md" for policy_id in BUILTIN)
    for policy in BUILTIN.values():
        info = policy.info
        row = next(line for line in index.splitlines() if f"[`{info.id}`]" in line)
        for cell in (info.severity, info.enforcement, docgen.default_state(policy),
                     docgen.judges(policy), *info.controls):
            assert f" {cell} " in row or f"`{cell}`" in row, (info.id, cell)


def test_relative_links_resolve() -> None:
    for path in DOCS.glob("*.md"):
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            file = target.split("#", 1)[0]
            assert (path.parent / file).resolve().exists(), f"{path.name}: broken link {target}"


@pytest.mark.parametrize("policy_id", sorted(BUILTIN))
def test_page_documents_the_policy(policy_id: str) -> None:
    policy = BUILTIN[policy_id]
    info = policy.info
    text = page(policy_id)
    assert text.startswith(docgen.MARKER)
    assert f"\n# {info.id}: {info.title}\n" in text
    for heading, body in (("What it checks", info.description),
                          ("Why it matters", info.rationale),
                          ("How to fix it", info.remediation)):
        assert f"## {heading}\n\n{body}\n" in text
    for control in info.controls:
        assert f"`{control}`" in text
    for name, parameter in policy.parameters.items():
        assert f"### `{name}`\n\n{parameter.description}\n" in text
    examples = policy.spec.get("examples") or {}
    for key, title in docgen.EXAMPLE_TITLES:
        if key in examples:
            assert f"### {title}\n\n```" in text
            assert examples[key].rstrip() + "\n```" in text
    assert f"[{docgen.source_path(policy)}](../../{docgen.source_path(policy)})" in text
    assert (ROOT / docgen.source_path(policy)).is_file()


@pytest.mark.parametrize("policy_id", sorted(BUILTIN))
def test_configuration_example_is_valid_and_restates_the_defaults(
    policy_id: str, tmp_path: Path
) -> None:
    snippet = docgen.configuration_example(BUILTIN[policy_id])
    assert f"```yaml\n{snippet}\n```" in page(policy_id)
    path = tmp_path / ".gate.yaml"
    path.write_text(snippet + "\n", encoding="utf-8")
    config = load_config(str(path))
    policies = load_builtin()
    configured = {p.id: p for p in apply_config(config, policies)}
    original = BUILTIN[policy_id]
    if not original.enabled:
        assert policy_id not in configured
        return
    policy = configured[policy_id]
    assert policy.info == original.info
    assert policy.params == original.params


def test_opt_in_policies_say_so() -> None:
    for policy in BUILTIN.values():
        default = "| Default | on |" if policy.enabled else "| Default | off (opt-in"
        assert default in page(policy.id)


def test_generation_is_deterministic() -> None:
    assert docgen.render(load_builtin()) == docgen.render(list(reversed(load_builtin())))


def test_write_updates_only_what_changed_and_removes_left_overs(tmp_path: Path) -> None:
    out = tmp_path / "pages"
    pages = docgen.render(load_builtin())
    assert docgen.write(str(out), pages) == sorted(pages)
    assert docgen.write(str(out), pages) == []
    (out / "no-latest-tag.md").write_text("edited by hand\n", encoding="utf-8")
    gone = pages["no-latest-tag.md"]  # a generated page ...
    (out / "retired-policy.md").write_text(gone, encoding="utf-8")  # ... of no policy now
    (out / "notes.md").write_text("# mine\n", encoding="utf-8")  # not generated: kept
    assert docgen.main([str(out), "--check"]) == 1
    assert docgen.write(str(out), pages) == ["no-latest-tag.md", "retired-policy.md"]
    assert not (out / "retired-policy.md").exists()
    assert (out / "notes.md").read_text(encoding="utf-8") == "# mine\n"
    assert docgen.main([str(out), "--check"]) == 0
