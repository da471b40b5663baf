"""The ratchet of ``gate diff``: which head findings the change brings, and which block."""
from __future__ import annotations

from gate.governance.ratchet import FINDINGS, classify, finding_key
from gate.results import FAIL, PASS, SKIP, WAIVED, WARN, Result
from tests.report_factory import make_policy, make_result

POLICY = make_policy("no-latest-tag")
OTHER = make_policy("image-digest")


def finding(status: str = FAIL, *, policy: str = "no-latest-tag", name: str = "web",
            field: str | None = "spec.containers[0].image", message: str = "uses :latest",
            line: int = 10, environment: str = "", waiver: str | None = None) -> Result:
    return make_result(POLICY if policy == "no-latest-tag" else OTHER, status=status,
                       name=name, field=field, message=message, finding_line=line,
                       environment=environment, waiver=waiver)


def test_a_finding_absent_at_the_base_is_new_and_blocks() -> None:
    [result] = classify([finding()], [], every=False)
    assert result.new is True and result.status == FAIL


def test_an_existing_fail_is_downgraded_to_warn_unless_every() -> None:
    head, base = [finding(line=12)], [finding(line=10)]  # moved lines: the same finding
    [result] = classify(head, base, every=False)
    assert result.new is False and result.status == WARN
    [result] = classify(head, base, every=True)
    assert result.new is False and result.status == FAIL


def test_a_finding_is_the_same_by_policy_resource_and_field() -> None:
    base = [finding()]
    other_policy = finding(policy="image-digest")
    other_resource = finding(name="api")
    other_field = finding(field="spec.containers[1].image")
    other_environment = finding(environment="prod")
    classified = classify([other_policy, other_resource, other_field, other_environment],
                          base, every=False)
    assert [(r.new, r.status) for r in classified] == [(True, FAIL)] * 4


def test_without_a_field_the_message_identifies_the_finding() -> None:
    base = [finding(field=None, message="no limits")]
    same, other = classify([finding(field=None, message="no limits"),
                            finding(field=None, message="no requests")], base, every=False)
    assert (same.new, same.status) == (False, WARN)
    assert (other.new, other.status) == (True, FAIL)


def test_passes_and_skips_are_untouched_but_not_new() -> None:
    head = [finding(PASS, field=None, message=""), finding(SKIP, field=None, message="n/a")]
    classified = classify(head, [], every=False)
    assert [(r.status, r.new) for r in classified] == [(PASS, False), (SKIP, False)]
    assert [r.message for r in classified] == ["", "n/a"]


def test_a_base_pass_does_not_make_a_head_finding_existing() -> None:
    [result] = classify([finding()], [finding(PASS)], every=False)
    assert result.new is True and result.status == FAIL


def test_warn_and_waived_findings_keep_their_status() -> None:
    head = [finding(WARN), finding(WAIVED, name="api", waiver="vendor image")]
    classified = classify(head, [], every=False)
    assert [(r.status, r.new) for r in classified] == [(WARN, True), (WAIVED, True)]
    existing = classify(head, [finding(WARN), finding(FAIL, name="api")], every=False)
    assert [(r.status, r.new) for r in existing] == [(WARN, False), (WAIVED, False)]
    assert existing[1].waiver is not None


def test_a_waived_finding_at_the_base_still_counts_as_existing() -> None:
    """Debt waived at the base is still debt: the same finding at the head is not new."""
    [result] = classify([finding()], [finding(WAIVED, waiver="approved")], every=False)
    assert result.new is False and result.status == WARN


def test_finding_key_and_statuses() -> None:
    result = finding()
    assert finding_key(result) == ("no-latest-tag", result.resource.key(),
                                   "spec.containers[0].image")
    assert FINDINGS == (FAIL, WARN, WAIVED)


def test_a_regenerated_configmap_keeps_its_findings_existing() -> None:
    """kustomize renames a generated ConfigMap when its content changes (a hash suffix):
    an edit to its source file does not make its existing findings new."""
    from dataclasses import replace

    def generated(name: str, rendered_by: str = "overlays/prod") -> Result:
        made = finding(name=name)
        return replace(made, resource=replace(made.resource, kind="ConfigMap",
                                              rendered_by=rendered_by))

    [same] = classify([generated("web-config-7g2dhk9m4b")], [generated("web-config-b5f8c2kt9h")],
                      every=False)
    assert (same.new, same.status) == (False, WARN)
    # Only kustomize's alphabet and length count, and only for rendered resources.
    for head, base, rendered_by in [("web-config-7g2dhk9m4b", "web-config-b5f8c2kt9x",
                                     "overlays/prod"),
                                    ("web-config-abcdefghij", "web-config-b5f8c2kt9h",
                                     "overlays/prod"),
                                    ("web-config-7g2dhk9m4b", "web-config-b5f8c2kt9h", "")]:
        [other] = classify([generated(head, rendered_by)], [generated(base, rendered_by)],
                           every=False)
        assert other.new is True, (head, base)
