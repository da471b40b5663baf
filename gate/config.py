"""Configuration: ``.gate.yaml`` (or ``--config FILE``), validated by schema.

Read through a :class:`~gate.rulesource.RuleSource`: the working tree by default,
or the base of a change (``gate diff --rules-from base``). A config file merged over
the files it ``extends`` is read by :mod:`gate.config_layers`; git policy sources
come from :mod:`gate.policy_sources`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gate.config_layers import LayeredConfig, read_layered
from gate.errors import ConfigError
from gate.evaluation.policy import Policy
from gate.governance.drift_config import DriftConfig, parse_drift
from gate.governance.releases.settings import ReleaseSettings, parse_releases
from gate.loading.environments import EnvironmentConfig, parse_environments
from gate.loading.exclude import Exclusions, parse_exclude
from gate.loading.yamlio import LocatedYaml
from gate.results import SEVERITIES
from gate.rulesource import (
    CONFIG_NAMES,
    WAIVERS_NAME,
    RuleSource,
    disk,
    repository_root,
)

if TYPE_CHECKING:
    from gate.governance.calendar.rules import Calendar
    from gate.policy_sources import SourceCache

__all__ = ["CONFIG_NAMES", "WAIVERS_NAME", "Config", "apply_config", "find_config",
           "load_config", "repository_root"]


@dataclass(frozen=True)
class OverrideConfig:
    """Emergency overrides: off unless the config allows them."""

    allowed: bool = False
    trailer: str = "Gate-Override"
    ticket_pattern: str = "[A-Z][A-Z0-9]*-[0-9]+"
    commits: str = "head"  # or "any"
    # Four eyes: the e-mail addresses (lower-cased) of those who may approve an override;
    # ``overrides.allowed`` needs at least one (the config loader says so).
    approvers: tuple[str, ...] = ()
    # An approval counts only from a commit with a good signature (G) of a listed approver.
    require_signed_approval: bool = False
    approval_trailer: str = "Gate-Approve"


@dataclass
class Config:
    file: str | None = None
    builtin: bool = True
    policy_dirs: list[str] = field(default_factory=list)
    fail_on: str = SEVERITIES[-1]
    profile: str | None = None  # Pod Security Standards level: baseline or restricted
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    environments: EnvironmentConfig = field(default_factory=EnvironmentConfig)
    calendar: Calendar | None = None
    waivers: str | None = None  # path of the waivers file, if any
    overrides: OverrideConfig = field(default_factory=OverrideConfig)
    release_manifest: str | None = None  # repository path
    releases: ReleaseSettings = field(default_factory=ReleaseSettings)
    # Change policies judge gate diff --staged/--worktree too (default: only at merge).
    judge_change_policies_locally: bool = False
    exclude: Exclusions = field(default_factory=Exclusions)  # paths no run reads
    drift: DriftConfig = field(default_factory=DriftConfig)  # gate drift, environment-drift
    located: LocatedYaml | None = field(default=None, repr=False)
    path: str | None = None  # the file as opened (``file`` is its display name)
    # Where the config was read, and so its policy directories and waivers (paths of it).
    source: RuleSource | None = field(default=None, repr=False, compare=False)
    # The file merged over the files it ``extends`` (see gate/config_layers.py).
    layers: LayeredConfig | None = field(default=None, repr=False, compare=False)

    @property
    def files(self) -> RuleSource:
        """The source this config's paths belong to (the working tree by default)."""
        return self.source if self.source is not None else disk()

    @property
    def extended(self) -> list[str]:
        """Paths (of ``files``) of the config files this one extends, the most shared first."""
        return [layer.path for layer in self.layers.extended] if self.layers else []

    def where(self, *path: str | int) -> tuple[str | None, int | None]:
        """(file, line) of a field: in the file, of those merged, that set it."""
        if self.layers is not None:
            return self.layers.where(path)
        return self.file, self.located.line(0, path) if self.located else None

    def line(self, *path: str | int) -> int | None:
        return self.where(*path)[1]

    def error(self, message: str, *path: str | int) -> ConfigError:
        return ConfigError(message, *self.where(*path))


def find_config(source: RuleSource | None = None) -> str | None:
    """The nearest config file from the working directory up to the repository root."""
    return (source or disk()).find_config()


def load_config(path: str | None, source: RuleSource | None = None,
                cache: SourceCache | None = None) -> Config:
    """Load and validate a config file (a path of ``source``, by default the working
    tree) merged over the files it ``extends``; no path means the defaults. Git sources
    are read from ``cache`` (by default the user's, without fetching)."""
    files = source or disk()
    if path is None:
        return Config(waivers=_default_waivers(files, None), source=files)
    layers = read_layered(path, files, cache)
    files, data = layers.files, layers.data
    config = Config(file=layers.top.name, located=layers.top.located, path=path, source=files,
                    layers=layers)
    config.builtin = data.get("builtin", True)
    config.policy_dirs = list(layers.policy_dirs)
    config.fail_on = data.get("fail_on", SEVERITIES[-1])
    config.profile = data.get("profile")
    config.policies = data.get("policies", {})
    config.environments = parse_environments(data.get("environments"),
                                             config.where("environments")[0], config.line)
    if "calendar" in data:
        from gate.governance.calendar.config import parse_calendar

        config.calendar = parse_calendar(data["calendar"], config.where("calendar")[0],
                                         config.line, prefix=("calendar",))
    if isinstance(layers.waivers, str):
        config.waivers = layers.waivers
        if not files.is_file(config.waivers):
            raise config.error(f"waivers file not found: {data['waivers']}", "waivers")
    elif layers.waivers is None:
        config.waivers = _default_waivers(files, os.path.dirname(path))
    config.overrides = _overrides(config, data.get("overrides", {}))
    config.release_manifest = data.get("release_manifest")
    config.releases = parse_releases(data.get("releases"), config.where("releases")[0],
                                     config.line)
    config.judge_change_policies_locally = data.get("judge_change_policies_locally", False)
    config.exclude = parse_exclude(data.get("exclude"), config.where("exclude")[0], config.line)
    config.drift = parse_drift(data.get("drift"), config.where("drift")[0], config.line)
    return config


def _default_waivers(files: RuleSource, directory: str | None) -> str | None:
    """``waivers.yaml`` beside the config (or in the repository root), when present."""
    if directory is None:
        directory = files.home()
    candidate = os.path.join(directory, WAIVERS_NAME)
    return candidate if files.is_file(candidate) else None


def _overrides(config: Config, data: dict[str, Any]) -> OverrideConfig:
    from gate.evaluation.regexes import RegexError, compile_regex

    values = {key.replace("-", "_"): value for key, value in data.items()}
    if "approvers" in values:
        values["approvers"] = tuple(_approver_email(config, entry, index)
                                    for index, entry in enumerate(values["approvers"]))
    settings = OverrideConfig(**values)
    if settings.allowed and not settings.approvers:
        raise config.error(
            "overrides.allowed: an override needs a second person's approval (four eyes): "
            "list who may approve in overrides.approvers (e-mail addresses or "
            "'Name <email>'), see docs/change-policies.md#four-eyes-approval",
            "overrides", "allowed")
    try:
        compile_regex(settings.ticket_pattern)
    except RegexError as exc:
        raise config.error(f"overrides.ticket_pattern: invalid regular expression: {exc}",
                           "overrides", "ticket_pattern") from None
    return settings


def _approver_email(config: Config, entry: str, index: int) -> str:
    """The address of one ``overrides.approvers`` entry (``email`` or ``Name <email>``),
    lower-cased as addresses are compared."""
    text = entry.strip()
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1:-1].strip()
    local, at, domain = text.partition("@")
    if not (local and at and domain) or any(c.isspace() or c in "<>" for c in text):
        raise config.error(f"overrides.approvers[{index}]: {entry!r} is not an e-mail address "
                           "or 'Name <email>'", "overrides", "approvers", index)
    return text.lower()


def apply_config(config: Config, policies: list[Policy]) -> list[Policy]:
    """The enabled policies, each with its configured settings and parameters."""
    by_id = {policy.id: policy for policy in policies}
    locked = config.layers.locked_policies if config.layers else {}
    for policy_id, (file, line) in locked.items():
        if policy_id not in by_id:
            known = ", ".join(sorted(by_id)) or "none loaded"
            raise ConfigError(f"locked: unknown policy id {policy_id!r} (known: {known})",
                              file, line)
    for policy_id in config.policies:
        if policy_id not in by_id:
            known = ", ".join(sorted(by_id)) or "none loaded"
            raise config.error(
                f"policies: unknown policy id {policy_id!r} (known: {known})", "policies", policy_id
            )
    configured: list[Policy] = []
    for policy in policies:
        settings = {**profile_settings(config.profile, policy.profile),
                    **config.policies.get(policy.id, {})}
        base = _configure(config, policy, settings, ("policies", policy.id))
        variants = {
            environment: _configure(
                config, base, overrides, ("policies", policy.id, "environments", environment)
            )
            for environment, overrides in sorted(settings.get("environments", {}).items())
        }
        if base.enabled or any(variant.enabled for variant in variants.values()):
            base.variants = variants
            configured.append(base)
    return configured


RELEASE_TAG_PARAMETER = "tag_pattern"
PROFILE_LEVELS = ("baseline", "restricted")  # each level includes the ones before it


def profile_settings(profile: str | None, level: str | None) -> dict[str, Any]:
    """What ``profile:`` in the config does to a policy of one Pod Security Standards
    level: within the profile, it blocks; above it, it is off. Without a profile each
    policy keeps its own enforcement (baseline blocks, restricted warns). Settings under
    ``policies.<id>`` still override."""
    if profile is None or level is None:
        return {}
    if PROFILE_LEVELS.index(level) <= PROFILE_LEVELS.index(profile):
        return {"enabled": True, "enforcement": "block"}
    return {"enabled": False}


def _release_defaults(config: Config, policy: Policy) -> dict[str, Any]:
    """A parameter ``tag_pattern`` left empty (its default) is ``releases.tag_pattern``:
    release policies match the tags the config calls releases unless told otherwise."""
    if policy.params.get(RELEASE_TAG_PARAMETER) == "":
        return {RELEASE_TAG_PARAMETER: config.releases.tag_pattern}
    return {}


def _configure(
    config: Config, policy: Policy, settings: dict[str, Any], where: tuple[str, ...]
) -> Policy:
    """``policy`` with one block of settings (the policy's own, or one environment's)."""
    params = settings.get("parameters", {})
    for name, value in params.items():
        parameter = policy.parameters.get(name)
        at = (*where, "parameters", name)
        if parameter is None:
            known = ", ".join(sorted(policy.parameters)) or "none"
            raise config.error(
                f"policy {policy.id!r} has no parameter {name!r} (known: {known})", *at
            )
        problem = parameter.validate(value)
        if problem is not None:
            raise config.error(f"policy {policy.id!r}: {problem}", *at)
    return policy.configured(
        enabled=settings.get("enabled"),
        severity=settings.get("severity"),
        enforcement=settings.get("enforcement"),
        params={**_release_defaults(config, policy), **params},
        overridable=settings.get("overridable"),
        inline_waivers=settings.get("inline_waivers"),
    )
