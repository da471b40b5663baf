"""Overrides, fingerprints and the order results pass through governance."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from gate.config import Config, OverrideConfig
from gate.git.commits import Commit
from gate.governance import judging as governance
from gate.results import FAIL, OVERRIDDEN, PASS, WARN
from tests.report_factory import make_policy, make_result

MOMENT = datetime(2026, 12, 1, tzinfo=timezone.utc)


def commit(sha: str, **trailers: list[str]) -> Commit:
    return Commit(sha * 40, "Ops", "ops@example.com", MOMENT, MOMENT, "fix\n", dict(trailers))


ALLOWED = OverrideConfig(allowed=True, approvers=("lead@example.com",))
PARSED = OverrideConfig()  # how trailers are read does not depend on approval


def test_overrides_are_read_from_the_head_commit_by_default() -> None:
    commits = [commit("a", **{"gate-override": ["INC-7 outage"]}),
               commit("b", **{"Gate-Override": ["INC-8 older"]})]
    found, notes = governance.find_overrides(commits, PARSED)
    assert [(o.ticket, o.reason, o.commit[:1], o.author) for o in found] == [
        ("INC-7", "outage", "a", "Ops <ops@example.com>")]
    assert notes == []
    found, _ = governance.find_overrides(commits, OverrideConfig(commits="any"))
    assert [o.ticket for o in found] == ["INC-7", "INC-8"]


def test_malformed_override_trailers_are_noted_and_ignored() -> None:
    commits = [commit("a", **{"Gate-Override": ["INC-7", "because", "inc-7 lower case"]})]
    found, notes = governance.find_overrides(commits, PARSED)
    assert found == []
    assert len(notes) == 3 and all("ignored" in note for note in notes)


def test_override_turns_only_blocking_findings_of_overridable_policies() -> None:
    overridable = replace(make_policy("window"), overridable=True)
    fixed = make_policy("ticket")
    results = [make_result(overridable, status=FAIL, message="closed"),
               make_result(overridable, status=WARN, message="just a warning", name="b"),
               make_result(fixed, status=FAIL, message="no ticket"),
               make_result(fixed, status=PASS, name="c")]
    [override], _ = governance.find_overrides(
        [commit("a", **{"Gate-Override": ["INC-1 down"]})], PARSED)
    changed, used, notes = governance.override(results, [override], ALLOWED)
    assert [r.status for r in changed] == [OVERRIDDEN, WARN, FAIL, PASS]
    assert changed[0].override == override
    assert "not overridable" in changed[2].message
    assert used == [override] and notes == []
    # Not allowed: nothing changes, and the report says why.
    changed, used, notes = governance.override(results, [override], OverrideConfig())
    assert changed == results and used == []
    assert "not allowed" in notes[0]


def test_the_fingerprint_follows_every_input(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "p.yaml").write_text("a: 1\n")
    config_path = tmp_path / ".gate.yaml"
    config_path.write_text("fail_on: high\n")
    config = Config(file=".gate.yaml", path=str(config_path))
    first = governance.policy_inputs(config, True, [str(policies)])
    names = [name for name, _ in first]
    assert "builtin:release-window.yaml" in names and ".gate.yaml" in names
    assert any(name.endswith("p.yaml") for name in names)
    print_1 = governance.fingerprint(first)
    assert governance.fingerprint(list(reversed(first))) == print_1  # order-free
    (policies / "p.yaml").write_text("a: 2\n")
    assert governance.fingerprint(governance.policy_inputs(config, True, [str(policies)])) \
        != print_1
    assert governance.fingerprint(governance.policy_inputs(config, False, [str(policies)])) \
        != print_1


def _yaml_blocks(name: str) -> list[str]:
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / name).read_text(encoding="utf-8")
    return re.findall(r"^```yaml\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def test_the_documented_examples_are_valid(tmp_path: Path) -> None:
    from gate.config import load_config
    from gate.evaluation.policy_compile import load_policy_text
    from gate.governance.release_manifest import load_release
    from gate.loading.trees import WorkTree

    kinds = set()
    for name in ("change-policies.md", "release-windows.md"):
        for block in _yaml_blocks(name):
            if "kind: Policy" in block:
                [policy] = load_policy_text(block, name)
                assert policy.target == "change"
                kinds.add("policy")
            elif "kind: Release" in block:
                (tmp_path / "release.yaml").write_text(block, encoding="utf-8")
                assert load_release(WorkTree(str(tmp_path)), "release.yaml")["services"]
                kinds.add("release")
            else:
                config_file = tmp_path / ".gate.yaml"
                config_file.write_text(block, encoding="utf-8")
                (tmp_path / "releases").mkdir(exist_ok=True)
                load_config(str(config_file))
                kinds.add("config")
    assert kinds == {"policy", "release", "config"}


# -- four eyes ---------------------------------------------------------------------------

FOUR_EYES = OverrideConfig(allowed=True, approvers=("dana@example.com",))


def by(sha: str, email: str, **trailers: list[str]) -> Commit:
    return Commit(sha * 40, email.split("@")[0].title(), email, MOMENT, MOMENT, "x\n",
                  dict(trailers))


def test_an_approval_on_top_of_the_override_approves_it() -> None:
    commits = [by("b", "Dana@Example.com", **{"gate-approve": ["INC-7"]}),
               by("a", "ops@example.com", **{"Gate-Override": ["INC-7 outage"]})]
    [found], notes = governance.find_overrides(commits, FOUR_EYES)
    assert notes == []
    assert (found.commit, found.approved_by, found.approval_commit) == (
        "a" * 40, "Dana <Dana@Example.com>", "b" * 40)


def test_an_override_cannot_approve_itself_nor_be_approved_for_another_ticket() -> None:
    own = [by("a", "dana@example.com", **{"Gate-Override": ["INC-7 outage"],
                                          "Gate-Approve": ["INC-7"]})]
    found, [note] = governance.find_overrides(own, FOUR_EYES)
    assert found == []
    assert "the approval in commit aaaaaaaaaaaa is by the override's own author" in note
    other = [by("b", "dana@example.com", **{"Gate-Approve": ["INC-8"]}),
             by("a", "ops@example.com", **{"Gate-Override": ["INC-7 outage"]})]
    found, [note] = governance.find_overrides(other, FOUR_EYES)
    assert found == [] and "no commit of the change carries 'Gate-Approve: INC-7'" in note


def test_a_signed_approval_needs_a_good_signature_by_an_approver() -> None:
    from gate.results import CommitSignature

    settings = replace(FOUR_EYES, require_signed_approval=True)
    override = by("a", "ops@example.com", **{"Gate-Override": ["INC-7 outage"]})
    for signature, approved in [
        (CommitSignature("G", "Dana <dana@example.com>", "K", "F"), True),
        (CommitSignature("U", "Dana <dana@example.com>", "K", "F"), False),
        (CommitSignature("G", "Ops <ops@example.com>", "K", "F"), False),  # the author's key
        (CommitSignature("N"), False),
    ]:
        approval = replace(by("b", "dana@example.com", **{"Gate-Approve": ["INC-7"]}),
                           signature=signature)
        found, notes = governance.find_overrides([approval, override], settings)
        assert bool(found) is approved, (signature, notes)


def test_with_nobody_to_approve_no_override_counts() -> None:
    """The config loader refuses allowed without approvers; the rule fails closed too."""
    commits = [by("b", "dana@example.com", **{"Gate-Approve": ["INC-7"]}),
               by("a", "ops@example.com", **{"Gate-Override": ["INC-7 outage"]})]
    found, [note] = governance.find_overrides(commits, OverrideConfig(allowed=True,
                                                                      commits="any"))
    assert found == [] and note.endswith("overrides.approvers lists nobody; its findings "
                                         "keep blocking")
